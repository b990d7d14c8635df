/**
 * The command line's run control and failure modes: --clear-checkpoint, --clear-album-cache, exit codes
 * 0/1/2 with messages that say what to fix, path-mapping flags, sidecars, and the API key never showing.
 */
import { exiftool } from 'exiftool-vendored';
import { chmodSync, copyFileSync, existsSync, readFileSync, symlinkSync, unlinkSync } from 'fs';
import * as net from 'net';
import * as path from 'path';

import { createSampleLibrary, IMMICH_LIBRARY_ROOT, startSimulator, type SampleLibrary, type Simulator } from '../simulator';
import { ensureBuilt, expectNoSecret, hashTree, makeWritable, parseSummary, removeTemps, runCli, SECRET_KEY, tempDir } from './cli-harness';

jest.setTimeout(180_000);

interface World {
  sim: Simulator;
  sample: SampleLibrary;
  photoDir: string;
  stateDir: string;
  env: Record<string, string>;
}

const worlds: World[] = [];

async function world(): Promise<World> {
  const photoDir = tempDir('cli-ctl-photos-');
  const sample = createSampleLibrary({ photoDir });
  makeWritable(photoDir);
  const sim = await startSimulator({ library: sample.library, apiKey: SECRET_KEY });
  const stateDir = tempDir('cli-ctl-state-');
  const w = { sim, sample, photoDir, stateDir, env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: SECRET_KEY, PHOTO_DIR: photoDir, HOME: stateDir } };
  worlds.push(w);
  return w;
}

const logOf = (w: World): string => readFileSync(path.join(w.stateDir, 'immich_ultra_sync.txt'), 'utf8');
const checkpointOf = (w: World): Record<string, unknown> => JSON.parse(readFileSync(path.join(w.stateDir, 'checkpoint.json'), 'utf8'));

/** A local port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(() => ensureBuilt());
afterAll(async () => {
  await exiftool.end();
  for (const w of worlds) await w.sim.close();
  removeTemps();
});

describe('checkpoint and album cache control', () => {
  it('--clear-checkpoint alone forgets an unfinished pass and the retry list; the next --resume starts over', async () => {
    const w = await world();
    const state = ['--state-dir', w.stateDir];
    chmodSync(w.sample.entry('picasa.jpg').localPath, 0o444);
    const partial = await runCli(['--rating', '--max-assets', '12', ...state], { env: w.env });
    expect(partial.code).toBe(1);
    expect(partial.lines).toContain('stopped at --max-assets: run again with --resume to continue');
    const before = checkpointOf(w) as { pass: { handled: number } | null; retries: Record<string, unknown> };
    expect(before.pass?.handled).toBe(12);
    expect(Object.keys(before.retries)).toEqual([w.sample.entry('picasa.jpg').assetId]);

    const cleared = await runCli(['--clear-checkpoint', ...state], { env: w.env });
    expect(cleared.code).toBe(0);
    expect(cleared.stdout).toBe('checkpoint cleared: the next run starts from the beginning\n');
    expect(checkpointOf(w)).toMatchObject({ pass: null, lastPassStartedAt: null, retries: {} });

    chmodSync(w.sample.entry('picasa.jpg').localPath, 0o644);
    const resumed = await runCli(['--rating', '--resume', ...state], { env: w.env });
    expect(resumed.code).toBe(0);
    const counts = parseSummary(resumed.lastLine);
    // A whole pass again: every listed asset, not only the ones after the old cursor
    // (Immich v3 without `visibility` lists all but trashed and locked assets, hidden ones too; withExif leaves
    // out the asset whose metadata is not extracted yet).
    const listed = [...w.sample.library.allAssets()].filter((a) => a.deletedAt === null && a.visibility !== 'locked' && a.exif !== null).length;
    expect(counts.written + counts.unchanged + counts.skipped).toBe(listed);
    expect(counts.failed).toBe(0);
    expect(logOf(w)).toMatch(/starting a full pass/);
  });

  it('an --only-new run sees an album change inside the 24 h cache; --clear-album-cache forces a fresh listing', async () => {
    const w = await world();
    const args = ['--albums', '--only-new', '--state-dir', w.stateDir];
    expect((await runCli(args, { env: w.env })).code).toBe(0);
    expect(existsSync(path.join(w.stateDir, 'album-cache.json'))).toBe(true);

    // Immich bumps the album's updatedAt when it gains an asset: one GET /albums shows the cache is stale.
    const picasa = w.sample.entry('picasa.jpg');
    w.sample.library.addAssetToAlbum(w.sample.library.albumByName('Nature')!.id, picasa.assetId);
    const changed = await runCli(args, { env: w.env });
    expect(changed.code).toBe(0);
    expect(parseSummary(changed.lastLine).written).toBe(1);
    expect(changed.stdout).toMatch(/^written .*picasa\.jpg: .*Nature/m);
    const tags = await exiftool.read(picasa.localPath);
    expect(tags.HierarchicalSubject).toEqual(expect.arrayContaining(['Albums|Nature']));

    const quiet = await runCli(args, { env: w.env });
    expect(parseSummary(quiet.lastLine).written).toBe(0);
    expect(logOf(w)).toMatch(/albums membership from the cache/);

    const cleared = await runCli(['--clear-album-cache', ...args], { env: w.env });
    expect(cleared.code).toBe(0);
    expect(cleared.lines[0]).toMatch(/^album cache cleared/);
    expect(parseSummary(cleared.lastLine).written).toBe(0);
    expectNoSecret([changed.stdout, cleared.stdout, cleared.stderr, logOf(w)]);
  });
});

describe('incremental runs and the module set', () => {
  it('--only-new with other modules than the last run starts a full pass instead of skipping old assets', async () => {
    const w = await world();
    const state = ['--state-dir', w.stateDir];
    const ratings = await runCli(['--rating', '--only-new', ...state], { env: w.env });
    expect(ratings.code).toBe(0);
    expect(parseSummary((await runCli(['--rating', '--only-new', ...state], { env: w.env })).lastLine)).toMatchObject({ written: 0, unchanged: 0 });

    const albums = await runCli(['--albums', '--only-new', ...state], { env: w.env });
    expect(albums.code).toBe(0);
    expect(logOf(w)).toMatch(/modules, target or path mapping differ from the stored progress: starting over with a full pass/);
    expect(parseSummary(albums.lastLine).written).toBeGreaterThanOrEqual(5);
    const thompson = await exiftool.read(w.sample.entry('thompson-springs.jpg').localPath);
    expect(thompson.HierarchicalSubject).toEqual(expect.arrayContaining(['Albums|Reise 2022 · 日本']));
  });
});

describe('--tags', () => {
  it('writes Immich tags as hierarchical keywords, and an --only-new run finds a newly tagged asset', async () => {
    const w = await world();
    const args = ['--tags', '--only-new', '--album-cache-hours', '0', '--state-dir', w.stateDir];
    const first = await runCli(args, { env: w.env });
    expect(first.code).toBe(0);
    const heic = await exiftool.read(w.sample.entry('IMG_2682.heic').localPath);
    expect(heic.HierarchicalSubject).toEqual(expect.arrayContaining(['Travel|Japan|東京']));

    // Tagging does not move the asset's updatedAt; the tag membership diff finds it.
    const cyclamen = w.sample.entry('cyclamen_persicum.jpg');
    w.sample.library.tagAsset(cyclamen.assetId, w.sample.library.tagByValue('Travel/Mongolia')!.id);
    const next = await runCli(args, { env: w.env });
    expect(next.code).toBe(0);
    expect(parseSummary(next.lastLine).written).toBe(1);
    expect((await exiftool.read(cyclamen.localPath)).HierarchicalSubject).toEqual(expect.arrayContaining(['Travel|Mongolia']));
  });
});

describe('exit codes and messages', () => {
  it('0 with --help, listing the seed flags', async () => {
    const run = await runCli(['--help'], { env: {} });
    expect(run.code).toBe(0);
    for (const flag of ['--all', '--people', '--gps', '--caption', '--time', '--rating', '--albums', '--face-coordinates', '--dry-run', '--only-new', '--resume', '--clear-checkpoint', '--clear-album-cache', '--help', '--state-dir', '--path-prefix', '--path-segments', '--sidecar', '--concurrency']) {
      expect(run.stdout).toContain(flag);
    }
  });

  it('2 for configuration mistakes, each naming what to fix', async () => {
    const w = await world();
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['--all', '--bogus'], w.env, /Unknown option '--bogus'.*--help/],
      [['--state-dir', w.stateDir], w.env, /Choose what to sync: --all/],
      [['--all', '--state-dir', w.stateDir], { ...w.env, IMMICH_INSTANCE_URL: '' }, /IMMICH_INSTANCE_URL is not set/],
      [['--all', '--state-dir', w.stateDir], { ...w.env, IMMICH_API_KEY: '' }, /IMMICH_API_KEY is not set/],
      [['--all', '--state-dir', w.stateDir], { ...w.env, PHOTO_DIR: path.join(w.photoDir, 'nope') }, /PHOTO_DIR ".*nope" does not exist/],
      [['--all', '--concurrency', 'many', '--state-dir', w.stateDir], w.env, /--concurrency needs a whole number/],
      [['--all', '--path-prefix', 'nonsense', '--state-dir', w.stateDir], w.env, /--path-prefix needs FROM=TO/],
      [['--all', '--state-dir', w.stateDir], { ...w.env, IMMICH_INSTANCE_URL: 'ftp://example' }, /must start with http/],
    ];
    for (const [args, env, message] of cases) {
      const run = await runCli(args, { env });
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
      expectNoSecret([run.stdout, run.stderr]);
    }
  });

  it('2 when Immich rejects the key, without showing the key that was sent', async () => {
    const w = await world();
    const wrongKey = 'wrong-key-Zx81Pq07Lk22Hh';
    const run = await runCli(['--all', '--state-dir', w.stateDir], { env: { ...w.env, IMMICH_API_KEY: wrongKey } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Immich rejected IMMICH_API_KEY \(401\)/);
    expectNoSecret([run.stdout, run.stderr, logOf(w)], wrongKey);
    expectNoSecret([run.stdout, run.stderr, logOf(w)]);
  });

  it('2 when the server is unreachable', async () => {
    const w = await world();
    const port = await closedPort();
    const run = await runCli(['--all', '--retries', '0', '--state-dir', w.stateDir], { env: { ...w.env, IMMICH_INSTANCE_URL: `http://127.0.0.1:${port}` } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Immich is not reachable.*Check IMMICH_INSTANCE_URL/);
  });

  it('1 when an asset failed, naming the file and what to do; the other assets are written', async () => {
    const w = await world();
    const locked = w.sample.entry('thompson-springs.jpg').localPath;
    chmodSync(locked, 0o444);
    const run = await runCli(['--rating', '--state-dir', w.stateDir], { env: w.env });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`failed ${locked}: `);
    expect(run.stdout).toMatch(/read-only; make it writable/);
    const counts = parseSummary(run.lastLine);
    expect(counts.failed).toBe(1);
    expect(counts.written).toBeGreaterThan(0);
    expect(logOf(w)).toContain(`failed ${locked}`);
  });

  it('0 with the URL given with /api, and the start parameters in the log without the key', async () => {
    const w = await world();
    const run = await runCli(['--caption', '--state-dir', w.stateDir], { env: { ...w.env, IMMICH_INSTANCE_URL: `${w.sim.url}/api/` } });
    expect(run.code).toBe(0);
    const log = logOf(w);
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z start: --caption --state-dir /m);
    expect(log).toContain('API key set');
    expect(log).toMatch(/Z written 0|Z written \d+, unchanged/);
    expectNoSecret([run.stdout, run.stderr, log]);
  });
});

describe('files: path mapping and sidecars', () => {
  it('--path-prefix maps Immich paths onto PHOTO_DIR', async () => {
    const w = await world();
    const run = await runCli(['--rating', '--path-prefix', `${IMMICH_LIBRARY_ROOT}=${w.photoDir}`, '--state-dir', w.stateDir], { env: w.env });
    expect(run.code).toBe(0);
    expect(parseSummary(run.lastLine).written).toBeGreaterThan(0);
    expect((await exiftool.read(w.sample.entry('portrait.jpg').localPath)).Rating).toBe(5);
  });

  it('--path-segments 2 misses the year folder: files are skipped with the reason, none written', async () => {
    const w = await world();
    const before = hashTree(w.photoDir);
    const run = await runCli(['--rating', '--path-segments', '2', '--state-dir', w.stateDir], { env: w.env });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^skipped .*: .*file not found/m);
    expect(parseSummary(run.lastLine).written).toBe(0);
    expect(hashTree(w.photoDir)).toEqual(before);
  });

  it('a file that would lead outside PHOTO_DIR (symlink) is refused for that asset only', async () => {
    const w = await world();
    const portrait = w.sample.entry('portrait.jpg').localPath;
    const outside = path.join(tempDir('cli-ctl-outside-'), 'portrait.jpg');
    copyFileSync(portrait, outside);
    unlinkSync(portrait);
    symlinkSync(outside, portrait);
    const outsideHash = hashTree(path.dirname(outside));
    const run = await runCli(['--rating', '--state-dir', w.stateDir], { env: w.env });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^failed .*portrait\.jpg: .*refused: a symlink makes it point outside the library root/m);
    expect(hashTree(path.dirname(outside))).toEqual(outsideHash);
    const counts = parseSummary(run.lastLine);
    expect(counts.failed).toBe(1);
    expect(counts.written).toBeGreaterThan(0);
  });

  it('--sidecar writes XMP sidecars and leaves the photos alone', async () => {
    const w = await world();
    const portrait = w.sample.entry('portrait.jpg').localPath;
    const photoHash = hashTree(path.dirname(portrait))[path.basename(portrait)];
    const run = await runCli(['--rating', '--caption', '--sidecar', '--state-dir', w.stateDir], { env: w.env });
    expect(run.code).toBe(0);
    expect(hashTree(path.dirname(portrait))[path.basename(portrait)]).toBe(photoHash);
    const sidecar = `${portrait}.xmp`;
    expect(existsSync(sidecar)).toBe(true);
    const tags = await exiftool.read(sidecar);
    expect(tags.Rating).toBe(5);
    expect(tags.Description).toBe('Мария и Пьер Кюри');
  });
});
