/**
 * Interrupting the command line mid-run and resuming: after SIGKILL every asset is handled at most
 * once more and none is missed; after SIGTERM the run stops cleanly (exit 143) and nothing is redone.
 * Uses a synthetic library of a few hundred assets backed by copies of the sample photos, with
 * simulator delays on the listing so the interruption lands mid-run.
 */
import { readFileSync } from 'fs';
import * as path from 'path';

import { createSyntheticLibrary, startSimulator, type Simulator, type SyntheticLibrary } from '../simulator';
import { ensureBuilt, expectNoSecret, makeWritable, parseSummary, removeTemps, runCli, SECRET_KEY, tempDir } from './cli-harness';

jest.setTimeout(600_000);

interface World {
  sim: Simulator;
  syn: SyntheticLibrary;
  n: number;
  stateDir: string;
  env: Record<string, string>;
}

const worlds: World[] = [];

async function world(n: number): Promise<World> {
  const photoDir = tempDir('cli-resume-photos-');
  const syn = createSyntheticLibrary(n, { photoDir, copyFiles: true });
  makeWritable(photoDir);
  const sim = await startSimulator({ library: syn.library, apiKey: SECRET_KEY });
  const stateDir = tempDir('cli-resume-state-');
  const w = { sim, syn, n, stateDir, env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: SECRET_KEY, PHOTO_DIR: photoDir, HOME: stateDir } };
  worlds.push(w);
  return w;
}

const logOf = (w: World): string => readFileSync(path.join(w.stateDir, 'immich_ultra_sync.txt'), 'utf8');

/** Per run (split at each "start:" line of the log): the files handled, with their status. */
function handledPerRun(log: string): Array<Array<{ file: string; status: string }>> {
  const runs: Array<Array<{ file: string; status: string }>> = [];
  for (const line of log.split('\n')) {
    const body = line.replace(/^\S+ /, '');
    if (body.startsWith('start: ')) runs.push([]);
    const m = /^(written|unchanged|skipped|failed) (\/\S+?)(?::|$)/.exec(body);
    if (m && runs.length > 0) runs[runs.length - 1].push({ status: m[1], file: m[2] });
  }
  return runs;
}

function allFiles(w: World): string[] {
  return Array.from({ length: w.n }, (_, i) => w.syn.localPath(i)).sort();
}

beforeAll(() => ensureBuilt());
afterAll(async () => {
  for (const w of worlds) await w.sim.close();
  removeTemps();
});

describe('resume after an interrupted run', () => {
  it('SIGKILL mid-run, then --resume: every asset handled, none more than once more', async () => {
    const w = await world(300);
    const concurrency = 3;
    const args = ['--rating', '--caption', '--page-size', '20', '--concurrency', String(concurrency), '--state-dir', w.stateDir];
    w.sim.inject({ route: 'POST /search/metadata', kind: 'delay', delayMs: 150, times: 1000 });

    let written = 0;
    const killed = await runCli(args, {
      env: w.env,
      onLine: (line, child) => {
        if (line.startsWith('written ') && ++written === 60) child.kill('SIGKILL');
      },
    });
    expect(killed.signal).toBe('SIGKILL');
    const checkpoint = JSON.parse(readFileSync(path.join(w.stateDir, 'checkpoint.json'), 'utf8'));
    expect(checkpoint.pass).not.toBeNull();
    expect(checkpoint.pass.handled).toBeGreaterThan(0);

    w.sim.clearFaults();
    const resumed = await runCli([...args, '--resume'], { env: w.env });
    expect(resumed.code).toBe(0);
    expect(parseSummary(resumed.lastLine).failed).toBe(0);

    const [first, second] = handledPerRun(logOf(w));
    expect(first.length).toBeGreaterThanOrEqual(60);
    expect(first.length).toBeLessThan(w.n); // the kill landed mid-run
    const secondFiles = second.map((h) => h.file);
    expect(new Set(secondFiles).size).toBe(secondFiles.length);
    expect([...new Set([...first.map((h) => h.file), ...secondFiles])].sort()).toEqual(allFiles(w));
    // Handled again: only what was in flight or not yet saved when the kill came, and those files
    // were already right, so nothing was written twice.
    const firstByFile = new Map(first.map((h) => [h.file, h.status]));
    const again = second.filter((h) => firstByFile.has(h.file));
    expect(again.length).toBeLessThanOrEqual(2 * concurrency + 2);
    for (const h of again) expect(h.status).toBe('unchanged');

    const next = await runCli(['--rating', '--caption', '--only-new', '--state-dir', w.stateDir], { env: w.env });
    expect(next.code).toBe(0);
    expect(parseSummary(next.lastLine).written).toBe(0);
    expectNoSecret([killed.stdout, killed.stderr, resumed.stdout, resumed.stderr, logOf(w)]);
    expect(w.sim.violations()).toEqual([]);
  });

  it('SIGTERM mid-run stops cleanly with exit 143; --resume redoes nothing and misses nothing', async () => {
    const w = await world(150);
    const args = ['--rating', '--caption', '--page-size', '25', '--concurrency', '3', '--state-dir', w.stateDir];
    w.sim.inject({ route: 'POST /search/metadata', kind: 'delay', delayMs: 150, times: 1000 });
    let written = 0;
    const stopped = await runCli(args, {
      env: w.env,
      onLine: (line, child) => {
        if (line.startsWith('written ') && ++written === 30) child.kill('SIGTERM');
      },
    });
    expect(stopped.code).toBe(143);
    expect(stopped.stderr).toMatch(/SIGTERM: finishing the files in progress and saving the checkpoint/);
    expect(stopped.lines).toContain('interrupted: run again with --resume to continue where this run stopped');
    const stoppedCounts = parseSummary(stopped.lastLine);

    w.sim.clearFaults();
    const resumed = await runCli([...args, '--resume'], { env: w.env });
    expect(resumed.code).toBe(0);
    const [first, second] = handledPerRun(logOf(w));
    expect(first.length).toBe(stoppedCounts.written + stoppedCounts.unchanged + stoppedCounts.skipped + stoppedCounts.failed);
    expect(first.length).toBeLessThan(w.n);
    const firstFiles = new Set(first.map((h) => h.file));
    // A clean stop records every finished asset: the resumed run starts exactly after them.
    expect(second.filter((h) => firstFiles.has(h.file))).toEqual([]);
    expect([...firstFiles, ...second.map((h) => h.file)].sort()).toEqual(allFiles(w));
    expect(w.sim.violations()).toEqual([]);
  });
});
