/**
 * The crash scenario of crash-safety.test.ts, shared with its no-Perl run (test/noperl): the command
 * line is killed with SIGKILL at seeded random moments while it writes a library of copies of one
 * sample JPEG. After every kill each file must be either its exact old bytes or a complete new version
 * (planned tags read back, image data unchanged, both checked with Perl ExifTool in this process);
 * resumed runs must finish every asset, and no temporary file may survive the final run.
 */
import type { ExifTool } from 'exiftool-vendored';
import * as path from 'path';

import { DEFAULT_MODULES, type MetadataPlan } from '../../lib/metadata/types';
import { createSyntheticLibrary, startSimulator, syntheticAssetId, type Simulator } from '../simulator';
import { hashTree, makeWritable, runCli, sample, seededRandom, sha256, summaryOf, tempDir, tempLeftovers, type CliResult } from './support';
import { imageHash, plansFromSimulator, remainingChanges } from './verify';

export interface CrashScenario {
  assets: number;
  kills: number;
  seed: number;
  concurrency: number;
  /** Run the command line with Perl hidden (it then uses the built-in ExifTool); needs root. */
  withoutPerl?: boolean;
  /** The ExifTool that checks the files (Perl, in the test process). */
  checker: ExifTool;
  /** Receives the simulator, so the suite can close it. */
  onSimulator: (sim: Simulator) => void;
}

const SOURCE = sample('albums/nature/cyclamen_persicum.jpg');

export async function runCrashScenario(scenario: CrashScenario): Promise<{ stderrs: string[] }> {
  const { assets: ASSETS, kills: KILLS, seed: SEED, checker: exiftool } = scenario;
  const photoDir = tempDir('crash-lib');
  const stateDir = tempDir('crash-state');
  const synthetic = createSyntheticLibrary(ASSETS, { photoDir, filesPool: [SOURCE], copyFiles: true });
  makeWritable(photoDir);
  const sim = await startSimulator({ library: synthetic.library });
  scenario.onSimulator(sim);
  const stderrs: string[] = [];

  const originalBytes = sha256(SOURCE);
  const originalImageHash = await imageHash(exiftool, SOURCE);
  expect(originalImageHash).toMatch(/^[0-9a-f]{32}$/);

  const ids = Array.from({ length: ASSETS }, (_, i) => syntheticAssetId(i));
  const plans = await plansFromSimulator(sim, ids, DEFAULT_MODULES);
  const byFile = new Map<string, MetadataPlan>();
  ids.forEach((id, i) => byFile.set(path.relative(photoDir, synthetic.localPath(i)), plans.get(id)!));

  const verifiedHashes = new Map<string, string>(); // file → content hash already verified
  const checkEveryFile = async (moment: string): Promise<{ changed: number }> => {
    const tree = hashTree(photoDir);
    let changed = 0;
    for (const [rel, plan] of byFile) {
      const hash = tree[rel];
      expect({ moment, rel, exists: hash !== undefined }).toEqual({ moment, rel, exists: true });
      if (hash === originalBytes) continue;
      changed += 1;
      if (verifiedHashes.get(rel) === hash) continue;
      const file = path.join(photoDir, rel);
      expect({ moment, rel, imageHash: await imageHash(exiftool, file) }).toEqual({ moment, rel, imageHash: originalImageHash });
      expect({ moment, rel, left: await remainingChanges(exiftool, file, plan) }).toEqual({ moment, rel, left: [] });
      verifiedHashes.set(rel, hash);
    }
    // Nothing but the photos and (maybe) leftovers of the killed writer's temporary copies.
    const unexpected = Object.keys(tree).filter((rel) => !byFile.has(rel) && !rel.includes('.immich-sync-tmp-'));
    expect({ moment, unexpected }).toEqual({ moment, unexpected: [] });
    return { changed };
  };

  const env = { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: sim.apiKey, PHOTO_DIR: photoDir };
  const cli = (args: string[], options: Omit<Parameters<typeof runCli>[1], 'env'>) => runCli(args, { ...options, env, withoutPerl: scenario.withoutPerl });
  const concurrency = ['--concurrency', String(scenario.concurrency)];
  const random = seededRandom(SEED);
  const log: string[] = [];
  let everWrittenLines = 0;

  for (let k = 0; k < KILLS; k++) {
    // Half the kills wait for some finished files and strike a few ms later (mid-write of the next
    // ones); the other half strike at a time after start (start-up, listing, first writes).
    const afterLines = random() < 0.5 ? 1 + Math.floor(random() * 8) : 0;
    const delayMs = afterLines > 0 ? Math.floor(random() * 250) : 400 + Math.floor(random() * 2600);
    const args = ['--all', ...concurrency, '--state-dir', stateDir, ...(k === 0 ? [] : ['--resume'])];
    let seen = 0;
    let armed = false;
    const arm = (child: import('child_process').ChildProcess): void => {
      if (armed) return;
      armed = true;
      setTimeout(() => child.kill('SIGKILL'), delayMs);
    };
    const result: CliResult = await cli(args, {
      hardTimeoutMs: 120_000,
      onSpawn: (child) => afterLines === 0 && arm(child),
      onLine: (line, child) => {
        if (/^written /.test(line)) seen += 1;
        if (afterLines > 0 && seen >= afterLines) arm(child);
      },
    });
    stderrs.push(result.stderr);
    everWrittenLines += result.lines.filter((l) => l.startsWith('written ')).length;
    log.push(`kill ${k}: after ${afterLines} lines + ${delayMs} ms → ${result.signal ?? `exit ${result.code}`}, ${result.lines.length} lines`);
    // The run may have finished before the kill landed; any other way out is a failure.
    if (result.signal !== 'SIGKILL') {
      expect({ kill: k, code: result.code, stderr: result.stderr }).toEqual({ kill: k, code: 0, stderr: result.stderr });
    }
    // An orphaned ExifTool finishes the command it was given (into a temp file) and exits on EOF.
    await new Promise((r) => setTimeout(r, 300));
    await checkEveryFile(`after kill ${k} (seed ${SEED})`);
  }

  // The last run is left alone: it must finish everything.
  const final = await cli(['--all', ...concurrency, '--state-dir', stateDir, '--resume'], { hardTimeoutMs: 10 * 60_000 });
  stderrs.push(final.stderr);
  log.push(`final: exit ${final.code} ${final.lines[final.lines.length - 1] ?? ''}`);
  const finalCounts = summaryOf(final);
  expect({ code: final.code, counts: finalCounts && { failed: finalCounts.failed, skipped: finalCounts.skipped } }).toEqual({
    code: 0,
    counts: { failed: 0, skipped: 0 },
  });
  const { changed } = await checkEveryFile(`after the final run (seed ${SEED})`);
  // Every asset's plan differs from the sample (capture time at least), so every file must be new now.
  expect(changed).toBe(ASSETS);
  expect(tempLeftovers(photoDir)).toEqual([]);
  expect(everWrittenLines).toBeGreaterThan(0);

  // A full run afterwards finds nothing to do: no asset was left half-done by any kill.
  const again = await cli(['--all', ...concurrency, '--state-dir', stateDir], { hardTimeoutMs: 10 * 60_000 });
  stderrs.push(again.stderr);
  expect(summaryOf(again)).toEqual({ written: 0, unchanged: ASSETS, skipped: 0, failed: 0 });
  expect(sim.violations()).toEqual([]);
  if (process.env.RELIABILITY_DEBUG) console.log(log.join('\n'));
  return { stderrs };
}
