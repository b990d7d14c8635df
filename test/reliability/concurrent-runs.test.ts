/**
 * Two command-line runs at once over the same library (a cron job overlapping a manual run): no file
 * is corrupted, no temporary file is left, and the library ends byte-for-byte as one run alone leaves it.
 */
import type { ExifTool } from 'exiftool-vendored';
import { cpSync } from 'fs';
import * as path from 'path';

import { DEFAULT_MODULES } from '../../lib/metadata/types';
import { createSyntheticLibrary, startSimulator, syntheticAssetId, type Simulator } from '../simulator';
import { ensureCliBuilt, hashTree, makeWritable, removeTempDirs, runCli, sample, summaryOf, tempDir, tempLeftovers } from './support';
import { hashingExifTool, imageHash, plansFromSimulator, remainingChanges } from './verify';

jest.setTimeout(600_000);

const N = 24;
const SOURCE = sample('metadata/faces/portrait.jpg');

let sim: Simulator;
let exiftool: ExifTool;
let pristine: string;
let localPath: (i: number) => string;

beforeAll(async () => {
  ensureCliBuilt();
  exiftool = hashingExifTool();
  pristine = tempDir('concurrent-pristine');
  const synthetic = createSyntheticLibrary(N, { photoDir: pristine, filesPool: [SOURCE], copyFiles: true });
  localPath = synthetic.localPath;
  makeWritable(pristine);
  sim = await startSimulator({ library: synthetic.library });
});
afterAll(async () => {
  await exiftool.end();
  await sim.close();
  removeTempDirs();
});

function copyLibrary(label: string): string {
  const dir = path.join(tempDir(label), 'library');
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

const run = (photoDir: string, stateDir: string) =>
  runCli(['--all', '--concurrency', '4', '--state-dir', stateDir], {
    env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: sim.apiKey, PHOTO_DIR: photoDir },
    hardTimeoutMs: 300_000,
  });

test.each([
  ['separate state folders (two users)', false],
  ['the same state folder (the same job started twice)', true],
])('two runs at once with %s: the library ends exactly as after one run', async (_label, sharedState) => {
  const reference = copyLibrary('concurrent-reference');
  const alone = await run(reference, tempDir('concurrent-state-ref'));
  expect(summaryOf(alone)).toEqual({ written: N, unchanged: 0, skipped: 0, failed: 0 });
  const expected = hashTree(reference);

  const library = copyLibrary('concurrent-both');
  const stateA = tempDir('concurrent-state-a');
  const stateB = sharedState ? stateA : tempDir('concurrent-state-b');
  const [a, b] = await Promise.all([run(library, stateA), run(library, stateB)]);
  for (const r of [a, b]) {
    expect({ timedOut: r.timedOut, code: r.code }).toEqual({ timedOut: false, code: expect.any(Number) });
    expect([0, 1, 3]).toContain(r.code); // an asset the other run was writing may be reported as failed
    expect(r.stderr).not.toMatch(/cannot run/);
  }
  // One state folder is one sync: the run that finds it held backs off (exit 3) instead of doing the same work.
  const backedOff = [a, b].filter((r) => r.code === 3);
  if (sharedState) expect(backedOff.length).toBeLessThanOrEqual(1); // (0 only if one run ended before the other began)
  else expect(backedOff).toEqual([]);
  for (const r of backedOff) expect(`${r.stdout}${r.stderr}`).toMatch(/another run holds/);
  // Together they handled every asset; written by one or the other, never corrupted.
  expect(hashTree(library)).toEqual(expected);
  expect(tempLeftovers(library)).toEqual([]);

  // Every file verified independently: plan reads back, image data unchanged.
  const ids = Array.from({ length: N }, (_, i) => syntheticAssetId(i));
  const plans = await plansFromSimulator(sim, ids, DEFAULT_MODULES);
  const originalHash = await imageHash(exiftool, SOURCE);
  for (let i = 0; i < N; i++) {
    const file = path.join(library, path.relative(pristine, localPath(i)));
    expect(await imageHash(exiftool, file)).toBe(originalHash);
    expect(await remainingChanges(exiftool, file, plans.get(ids[i])!)).toEqual([]);
  }

  // And a later run finds nothing left to do.
  const after = await run(library, tempDir('concurrent-state-after'));
  expect(summaryOf(after)).toEqual({ written: 0, unchanged: N, skipped: 0, failed: 0 });
});
