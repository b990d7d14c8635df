import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'stream';

import { defaultStateDir, describeStart, parseCli, USAGE, UsageError } from '../../cli/args';
import { sharedDir } from '../simulator/paths';
import { Reporter, resultLine, summaryLine } from '../../cli/output';

const ENV = { IMMICH_INSTANCE_URL: 'https://photos.example.com', IMMICH_API_KEY: 'k3y-abcdef', HOME: '/home/u' };

describe('command line parsing (the seed flags)', () => {
  it('--all is the seed default set; other modules add to it', () => {
    expect(parseCli(['--all'], ENV).modules).toEqual(['people', 'gps', 'caption', 'time', 'rating']);
    expect(parseCli(['--all', '--albums', '--face-coordinates'], ENV).modules).toEqual(['people', 'gps', 'caption', 'time', 'rating', 'albums', 'faces']);
    expect(parseCli(['--people', '--face-coordinates'], ENV).modules).toEqual(['people', 'faces']);
    expect(parseCli(['--tags'], ENV).modules).toEqual(['tags']);
    expect(parseCli([], ENV).modules).toEqual([]);
  });

  it('maps run control flags onto run modes', () => {
    expect(parseCli(['--all'], ENV).mode).toBe('full');
    expect(parseCli(['--all', '--resume'], ENV).mode).toBe('resume');
    expect(parseCli(['--all', '--only-new'], ENV).mode).toBe('incremental');
    expect(parseCli(['--all', '--only-new', '--resume'], ENV).mode).toBe('incremental');
    const c = parseCli(['--all', '--dry-run', '--clear-checkpoint', '--clear-album-cache'], ENV);
    expect([c.dryRun, c.clearCheckpoint, c.clearAlbumCache]).toEqual([true, true, true]);
  });

  it('reads the environment like the seed: PHOTO_DIR defaults to /library', () => {
    const c = parseCli(['--all'], ENV);
    expect(c.photoDir).toBe('/library');
    expect(c.url).toBe('https://photos.example.com');
    expect(c.apiKey).toBe('k3y-abcdef');
    expect(parseCli(['--all'], { ...ENV, PHOTO_DIR: '/mnt/photos' }).photoDir).toBe('/mnt/photos');
    expect(parseCli(['--all'], { HOME: '/h' }).url).toBeNull();
  });

  it('state dir: flag, else XDG_STATE_HOME, else ~/.local/state', () => {
    expect(parseCli(['--all', '--state-dir', '/var/lib/sync'], ENV).stateDir).toBe('/var/lib/sync');
    expect(defaultStateDir({ XDG_STATE_HOME: '/xdg' })).toBe('/xdg/immich-metadata-sync');
    expect(defaultStateDir({ XDG_STATE_HOME: 'relative' })).toMatch(/\.local\/state\/immich-metadata-sync$/);
  });

  it('path mapping: last 3 segments by default, --path-segments N, or --path-prefix FROM=TO', () => {
    expect(parseCli(['--all'], ENV).mapping).toEqual({ mode: 'lastSegments', segments: 3 });
    expect(parseCli(['--all', '--path-segments', '2'], ENV).mapping).toEqual({ mode: 'lastSegments', segments: 2 });
    expect(parseCli(['--all', '--path-prefix', '/usr/src/app/upload=/library/x=y'], ENV).mapping).toEqual({
      mode: 'prefix',
      immichPrefix: '/usr/src/app/upload',
      localPrefix: '/library/x=y',
    });
    expect(() => parseCli(['--all', '--path-prefix', '/a=/b', '--path-segments', '2'], ENV)).toThrow(/either --path-prefix or --path-segments/);
    expect(() => parseCli(['--all', '--path-prefix', '/a'], ENV)).toThrow(/FROM=TO/);
  });

  it('refuses unknown flags, positionals and bad numbers with a UsageError', () => {
    expect(() => parseCli(['--everything'], ENV)).toThrow(UsageError);
    expect(() => parseCli(['all'], ENV)).toThrow(/--help/);
    expect(() => parseCli(['--all', '--concurrency', '0'], ENV)).toThrow(/between 1 and 64/);
    expect(() => parseCli(['--all', '--max-assets', '-3'], ENV)).toThrow(UsageError);
    expect(() => parseCli(['--all', '--path-segments', '2.5'], ENV)).toThrow(/whole number/);
    expect(parseCli(['--all', '--sidecar', '--concurrency', '8', '--max-assets', '100'], ENV)).toMatchObject({ target: 'sidecar', concurrency: 8, maxAssets: 100 });
  });

  it('describes the start parameters without the API key', () => {
    const line = describeStart(parseCli(['--all', '--dry-run'], ENV), ['--all', '--dry-run']);
    expect(line).toContain('start: --all --dry-run');
    expect(line).toContain('API key set');
    expect(line).toContain('dry run');
    expect(line).not.toContain('k3y-abcdef');
  });
});

describe('command line output', () => {
  const base = { assetId: 'a1', file: '/library/2020/01/x.jpg', changes: [], dryRun: false };

  it('one line per written, skipped or failed asset; nothing for unchanged', () => {
    expect(resultLine({ ...base, status: 'unchanged' }, null)).toBeNull();
    expect(resultLine({ ...base, status: 'written', changes: [{ field: 'Rating', before: null, after: 5 }, { field: 'Keywords', before: ['a'], after: ['a', 'b'] }] }, null)).toBe(
      'written /library/2020/01/x.jpg: Rating (none) → 5; Keywords [a] → [a, b]',
    );
    expect(resultLine({ ...base, status: 'written', dryRun: true, changes: [{ field: 'Rating', before: 1, after: 2 }] }, null)).toBe('would write /library/2020/01/x.jpg: Rating 1 → 2');
    expect(resultLine({ ...base, file: null, status: 'skipped', reason: 'file not found' }, '/usr/src/app/upload/x.jpg')).toBe('skipped /usr/src/app/upload/x.jpg: file not found');
    expect(resultLine({ ...base, file: null, status: 'failed', reason: 'boom' }, null)).toBe('failed asset a1: boom');
    expect(summaryLine({ written: 1, unchanged: 2, skipped: 3, failed: 4 })).toBe('written 1, unchanged 2, skipped 3, failed 4');
  });

  function capture(tty: boolean): { stream: NodeJS.WriteStream; text: () => string } {
    const stream = new PassThrough() as unknown as NodeJS.WriteStream;
    (stream as { isTTY?: boolean }).isTTY = tty;
    let text = '';
    (stream as unknown as PassThrough).on('data', (chunk: Buffer) => (text += chunk.toString()));
    return { stream, text: () => text };
  }

  it('shows progress only on a terminal and redacts the key everywhere', () => {
    const out = capture(false);
    const err = capture(false);
    const reporter = new Reporter('k3y-abcdef', null, out.stream, err.stream);
    reporter.progress('10 assets handled');
    reporter.line('failed x: server said k3y-abcdef is wrong');
    reporter.error('cannot run: k3y-abcdef');
    expect(out.text()).toBe('failed x: server said [redacted] is wrong\n');
    expect(err.text()).toBe('cannot run: [redacted]\n');

    const ttyErr = capture(true);
    const ttyReporter = new Reporter(null, null, capture(false).stream, ttyErr.stream);
    ttyReporter.progress('10 assets handled');
    ttyReporter.line('written y: Rating 1 → 2');
    expect(ttyErr.text()).toContain('10 assets handled');
    expect(ttyErr.text().endsWith('\r\x1b[K')).toBe(true);
  });
});

/** The seed's flags: its document's "CLI-Flags:" list and every flag SPEC.md names. */
function seedFlags(): string[] {
  const seedDir = path.join(sharedDir(), 'seed');
  const documents = fs.readdirSync(seedDir).filter((name) => name.endsWith('.md'));
  const flags = new Set<string>();
  let cliFlagsLines = 0;
  for (const name of documents) {
    const text = fs.readFileSync(path.join(seedDir, name), 'utf8');
    for (const line of text.split('\n').filter((l) => /CLI-Flags:/.test(l))) {
      cliFlagsLines += 1;
      for (const [, flag] of line.matchAll(/`(--[a-z][a-z-]*)`/g)) flags.add(flag);
    }
    for (const [, flag] of text.matchAll(/`(--[a-z][a-z-]*)`/g)) flags.add(flag);
  }
  if (cliFlagsLines === 0) throw new Error(`no "CLI-Flags:" line in ${seedDir}/*.md: the seed's flag list moved`);
  return [...flags].sort();
}

describe('--help (USAGE)', () => {
  const flags = seedFlags();
  const listed = new Set([...USAGE.matchAll(/^ {2}(--[a-z][a-z-]*)/gm)].map(([, flag]) => flag));

  it('reads the seed flag list, --help included', () => {
    expect(flags).toEqual(expect.arrayContaining(['--all', '--face-coordinates', '--clear-album-cache', '--help']));
  });
  it.each(flags)('lists the seed flag %s as an option line, and the parser takes it', (flag) => {
    expect(listed).toContain(flag);
    expect(() => parseCli([flag], ENV)).not.toThrow();
  });
});
