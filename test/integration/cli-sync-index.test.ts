/**
 * The sync index through the built command line, with real ExifTool on copies of the sample photos: a file
 * the index vouches for is skipped without ExifTool, and every change on either side is still seen (Immich
 * changed; the file edited by another tool, with its modification time restored or not; the index lost,
 * damaged, or left behind by a SIGKILL mid-run).
 */
import { spawnSync } from 'child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';

import { stateFolderFor } from '../../lib/sync/stateFolder';
import { SYNC_INDEX_FILE } from '../../lib/sync/syncIndex';
import { createSyntheticLibrary, startSimulator, syntheticAssetId, type Simulator, type SyntheticLibrary } from '../simulator';
import { ensureBuilt, makeWritable, parseSummary, removeTemps, runCli, SECRET_KEY, tempDir, type CliRun } from './cli-harness';

jest.setTimeout(120_000);

interface World {
  sim: Simulator;
  syn: SyntheticLibrary;
  n: number;
  photoDir: string;
  stateDir: string;
  env: Record<string, string>;
  args: string[];
}

const worlds: World[] = [];
/** Longer than the index's racy window: a signature seen this long after the file's last change is trusted. */
const PAST_RACY_WINDOW_MS = 2100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function world(n: number): Promise<World> {
  const photoDir = tempDir('cli-index-photos-');
  const syn = createSyntheticLibrary(n, { photoDir, copyFiles: true });
  makeWritable(photoDir);
  const sim = await startSimulator({ library: syn.library, apiKey: SECRET_KEY });
  const stateDir = tempDir('cli-index-state-');
  const w: World = {
    sim,
    syn,
    n,
    photoDir,
    stateDir,
    env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: SECRET_KEY, PHOTO_DIR: photoDir, HOME: stateDir },
    args: ['--rating', '--caption', '--concurrency', '3', '--state-dir', stateDir],
  };
  worlds.push(w);
  return w;
}

interface Handled {
  status: string;
  file: string;
  viaIndex: boolean;
}

/** The files the last run handled (from the log after its "start:" line). */
function lastRun(w: World): Handled[] {
  const log = readFileSync(path.join(w.stateDir, 'immich_ultra_sync.txt'), 'utf8').split('\n');
  let handled: Handled[] = [];
  for (const line of log) {
    const body = line.replace(/^\S+ /, '');
    if (body.startsWith('start: ')) handled = [];
    const m = /^(written|unchanged|skipped|failed) (\/\S+?)(: sync index)?(?::|$)/.exec(body);
    if (m) handled.push({ status: m[1], file: m[2], viaIndex: m[3] !== undefined });
  }
  return handled;
}

async function sync(w: World, extra: string[] = []): Promise<{ run: CliRun; handled: Handled[] }> {
  const run = await runCli([...w.args, ...extra], { env: w.env });
  if (run.code !== 0) throw new Error(`the run failed (${run.code}): ${run.stderr.slice(-500)} ${run.lines.slice(-3).join(' | ')}`);
  return { run, handled: lastRun(w) };
}

function indexFile(w: World): string {
  return path.join(stateFolderFor(w.stateDir, path.resolve(w.photoDir)), SYNC_INDEX_FILE);
}

/** Written once, then checked once more than the racy window later: from now on the index vouches for every file. */
async function warmWorld(n: number): Promise<World> {
  const w = await world(n);
  await sync(w);
  await sleep(PAST_RACY_WINDOW_MS);
  const second = await sync(w);
  expect(parseSummary(second.run.lastLine).written).toBe(0);
  const third = await sync(w);
  expect(third.handled.filter((h) => h.viaIndex)).toHaveLength(n);
  return w;
}

/** Another tool's edit of the caption that keeps the file's size (and, optionally, its modification time). */
function editCaptionInPlace(file: string, from: string, to: string, restoreTimes: boolean): void {
  expect(to.length).toBe(from.length);
  const before = statSync(file, { bigint: true });
  // What `touch -r` or rsync -t do: the times to the nanosecond (fs.utimes would round them to microseconds).
  const reference = `${file}.times`;
  expect(spawnSync('cp', ['-p', file, reference]).status).toBe(0);
  const bytes = readFileSync(file);
  const edited = Buffer.from(bytes.toString('latin1').split(from).join(to), 'latin1');
  expect(edited.equals(bytes)).toBe(false);
  writeFileSync(file, edited);
  if (restoreTimes) {
    expect(spawnSync('touch', ['-m', '-r', reference, file]).status).toBe(0);
    const after = statSync(file, { bigint: true });
    expect([after.size, after.mtimeNs, after.ino]).toEqual([before.size, before.mtimeNs, before.ino]);
    expect(after.ctimeNs).not.toBe(before.ctimeNs);
  }
  rmSync(reference);
}

beforeAll(() => ensureBuilt());
afterAll(async () => {
  for (const w of worlds) await w.sim.close();
  removeTemps();
});

describe('sync index through the command line', () => {
  it('an asset changed in Immich is written; the others are unchanged without ExifTool', async () => {
    const w = await warmWorld(12);
    w.sim.library.setRating(syntheticAssetId(1), 4);
    const { handled } = await sync(w);
    const changed = w.syn.localPath(1);
    expect(handled.find((h) => h.file === changed)).toMatchObject({ status: 'written', viaIndex: false });
    expect(handled.filter((h) => h.file !== changed).every((h) => h.status === 'unchanged' && h.viaIndex)).toBe(true);
  });

  it('a file edited by another tool is seen, with its modification time restored (ctime) or not', async () => {
    const w = await warmWorld(15);
    const restored = w.syn.localPath(7); // caption "Synthetic asset 7 — …"
    const touched = w.syn.localPath(14);
    editCaptionInPlace(restored, 'Synthetic asset 7 ', 'Synthetic asset 9 ', true);
    editCaptionInPlace(touched, 'Synthetic asset 14', 'Synthetic asset 15', false);
    const { handled } = await sync(w);
    expect(handled.find((h) => h.file === restored)).toMatchObject({ status: 'written', viaIndex: false });
    expect(handled.find((h) => h.file === touched)).toMatchObject({ status: 'written', viaIndex: false });
    expect(handled.filter((h) => h.viaIndex)).toHaveLength(w.n - 2);
    // The caption Immich has is back in both files: a check without the index finds nothing to write.
    expect(parseSummary((await sync(w, ['--no-sync-index'])).run.lastLine).written).toBe(0);
  });

  it('a lost index means one full slow pass, which rebuilds it', async () => {
    const w = await warmWorld(10);
    rmSync(indexFile(w));
    const slow = await sync(w);
    expect(slow.handled).toHaveLength(w.n);
    expect(slow.handled.every((h) => h.status === 'unchanged' && !h.viaIndex)).toBe(true);
    expect(existsSync(indexFile(w))).toBe(true);
    const fast = await sync(w);
    expect(fast.handled.every((h) => h.status === 'unchanged' && h.viaIndex)).toBe(true);
  });

  it('a damaged index is detected with a warning, not used, and rebuilt', async () => {
    const w = await warmWorld(10);
    const lines = readFileSync(indexFile(w), 'utf8').split('\n');
    lines[3] = lines[3].replace(/"p":"./, '"p":"#'); // a record that parses but fails its checksum
    writeFileSync(indexFile(w), lines.join('\n'));
    const slow = await sync(w);
    expect(slow.run.stderr).toMatch(/Sync index .*sync-index\.jsonl: line 4 is damaged; it is rebuilt/);
    expect(slow.handled.every((h) => h.status === 'unchanged' && !h.viaIndex)).toBe(true);
    const fast = await sync(w);
    expect(fast.run.stderr).not.toMatch(/Sync index/);
    expect(fast.handled.every((h) => h.status === 'unchanged' && h.viaIndex)).toBe(true);
  });

  it('SIGKILL during writes, then a rerun: every file that differs from Immich is written, none wrongly unchanged', async () => {
    const w = await world(80);
    await sync(w);
    await sleep(PAST_RACY_WINDOW_MS);
    await sync(w); // every entry trusted from now on
    for (let i = 0; i < w.n; i++) w.sim.library.setDescription(syntheticAssetId(i), `Changed caption ${i}`);

    let written = 0;
    const killed = await runCli(w.args, {
      env: w.env,
      onLine: (line, child) => {
        if (line.startsWith('written ') && ++written === 30) child.kill('SIGKILL');
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    expect(written).toBeGreaterThanOrEqual(30);

    const rerun = await sync(w);
    const rerunWritten = rerun.handled.filter((h) => h.status === 'written').length;
    expect(rerunWritten).toBeGreaterThan(0);
    expect(rerunWritten).toBeLessThanOrEqual(w.n - 30);
    // The proof without the index: ExifTool reads every file and finds Immich's values in all of them.
    const check = await sync(w, ['--no-sync-index']);
    expect(check.handled).toHaveLength(w.n);
    expect(check.handled.some((h) => h.viaIndex)).toBe(false);
    expect(parseSummary(check.run.lastLine)).toEqual({ written: 0, unchanged: w.n, skipped: 0, failed: 0 });
  });
});
