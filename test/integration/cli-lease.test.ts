/**
 * Two command-line processes started on one library and one state directory (cron overlapping, or two
 * hosts): the second finds the first's lease and backs off with exit 3 and a clear line; the first writes
 * every asset once; a later run finds nothing left to do. And a run killed with SIGKILL does not block the
 * next one: its lease names a dead process of this host.
 */
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';

import { createSyntheticLibrary, startSimulator, type Simulator } from '../simulator';
import { ensureBuilt, makeWritable, parseSummary, removeTemps, runCli, SECRET_KEY, tempDir, type CliRun } from './cli-harness';

jest.setTimeout(300_000);

const sims: Simulator[] = [];
beforeAll(() => ensureBuilt());
afterAll(async () => {
  for (const sim of sims) await sim.close();
  removeTemps();
});

async function world(n: number) {
  const photoDir = tempDir('cli-lease-photos-');
  const syn = createSyntheticLibrary(n, { photoDir, copyFiles: true });
  makeWritable(photoDir);
  const sim = await startSimulator({ library: syn.library, apiKey: SECRET_KEY });
  sims.push(sim);
  const stateDir = tempDir('cli-lease-state-');
  return { syn, sim, stateDir, env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: SECRET_KEY, PHOTO_DIR: photoDir, HOME: stateDir } };
}

const writtenIn = (run: CliRun): string[] => run.lines.filter((line) => line.startsWith('written ')).map((line) => line.split(' ')[1].replace(/:$/, ''));
/** Files written per the log both runs append to (one line per file, stdout may wrap progress into a line). */
const writtenInLog = (stateDir: string): string[] =>
  readFileSync(path.join(stateDir, 'immich_ultra_sync.txt'), 'utf8')
    .split('\n')
    .map((line) => /^\S+ written (\/\S+?)(?::|$)/.exec(line)?.[1])
    .filter((file): file is string => file !== undefined);

test('two runs started together: one works, the other backs off; every asset is written once and nothing is lost', async () => {
  const w = await world(80);
  const args = ['--rating', '--caption', '--page-size', '10', '--concurrency', '2', '--state-dir', w.stateDir];
  // slow listing pages, so that the first run is still at work when the second starts
  w.sim.inject({ route: 'POST /search/metadata', kind: 'delay', delayMs: 150, times: 1000 });
  let second: Promise<CliRun> | null = null;
  const first = await runCli(args, {
    env: w.env,
    onLine: (line) => {
      if (line.startsWith('written ') && !second) second = runCli(args, { env: w.env });
    },
  });
  const backedOff = await second!;
  expect(first.code).toBe(0);
  expect(backedOff.code).toBe(3);
  expect(backedOff.stdout).toMatch(
    new RegExp(`another run holds the state directory ${w.stateDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} since \\S+ \\(host .+, pid \\d+, command line; until \\S+ unless renewed\\); this run backs off`),
  );
  expect(writtenIn(backedOff)).toEqual([]);
  const written = writtenInLog(w.stateDir);
  expect(new Set(written).size).toBe(written.length);
  const counts = parseSummary(first.lastLine);
  expect(counts.failed).toBe(0);
  expect(counts.written).toBe(written.length);
  expect(counts.written + counts.unchanged + counts.skipped).toBe(80);
  expect(existsSync(path.join(w.stateDir, 'lease.json'))).toBe(false);

  w.sim.clearFaults();
  const later = await runCli(['--rating', '--caption', '--only-new', '--state-dir', w.stateDir], { env: w.env });
  expect(later.code).toBe(0);
  expect(parseSummary(later.lastLine).written).toBe(0);
  expect(w.sim.violations()).toEqual([]);
});

test('a run killed with SIGKILL leaves its lease behind, and the next run takes it over at once (its process is gone)', async () => {
  const w = await world(40);
  const args = ['--rating', '--caption', '--page-size', '10', '--concurrency', '2', '--state-dir', w.stateDir];
  w.sim.inject({ route: 'POST /search/metadata', kind: 'delay', delayMs: 150, times: 1000 });
  const killed = await runCli(args, { env: w.env, onLine: (line, child) => line.startsWith('written ') && child.kill('SIGKILL') });
  expect(killed.signal).toBe('SIGKILL');
  const left = JSON.parse(readFileSync(path.join(w.stateDir, 'lease.json'), 'utf8'));
  expect(Date.parse(left.expiresAt)).toBeGreaterThan(Date.now());
  w.sim.clearFaults();
  const resumed = await runCli([...args, '--resume'], { env: w.env });
  expect(resumed.code).toBe(0);
  expect(existsSync(path.join(w.stateDir, 'lease.json'))).toBe(false);
});
