/**
 * Crash safety: the command line is killed with SIGKILL at seeded random moments while it writes a
 * library of a few hundred copies of one sample JPEG (the scenario is crashScenario.ts; its run on
 * the built-in ExifTool with Perl hidden is test/noperl/crash-without-perl.test.ts).
 *
 * Reproduce a failure with RELIABILITY_SEED=<seed printed in the failure>.
 */
import type { ExifTool } from 'exiftool-vendored';

import type { Simulator } from '../simulator';
import { runCrashScenario } from './crashScenario';
import { ensureCliBuilt, removeTempDirs } from './support';
import { hashingExifTool } from './verify';

jest.setTimeout(20 * 60_000);

const ASSETS = 200;
const KILLS = 20;
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261125);

let sim: Simulator | undefined;
let exiftool: ExifTool;

beforeAll(() => {
  ensureCliBuilt();
  exiftool = hashingExifTool();
});
afterAll(async () => {
  await exiftool?.end();
  await sim?.close();
  removeTempDirs();
});

test(`SIGKILL at ${KILLS} random moments: every file is old bytes or a verified new version; --resume finishes all (seed ${SEED})`, async () => {
  const { stderrs } = await runCrashScenario({ assets: ASSETS, kills: KILLS, seed: SEED, concurrency: 4, checker: exiftool, onSimulator: (s) => (sim = s) });
  // the final run, left alone, says nothing on stderr
  expect(stderrs[KILLS]).toBe('');
});
