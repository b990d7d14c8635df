/**
 * The crash suite (test/reliability/crashScenario.ts) on the built-in ExifTool: the command line runs
 * with Perl really hidden (mount namespace, see withoutPerl) and is killed with SIGKILL at seeded
 * random moments; after each kill every file is its old bytes or a complete, verified new version
 * (checked with Perl ExifTool in this process), and resumed runs finish every asset. Smaller than the
 * Perl run (the built-in engine writes about 0.4 files/s). Needs root and `npm run build`.
 */
import type { ExifTool } from 'exiftool-vendored';

import type { Simulator } from '../simulator';
import { runCrashScenario } from '../reliability/crashScenario';
import { ensureCliBuilt, removeTempDirs } from '../reliability/support';
import { hashingExifTool } from '../reliability/verify';

jest.setTimeout(10 * 60_000);

const ASSETS = 12;
const KILLS = 4;
const SEED = Number(process.env.RELIABILITY_SEED ?? 20261202);
const NOTICE = /^no Perl found: using the built-in WebAssembly ExifTool, about \d+× slower; install Perl for speed$/;

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

test(`without Perl, SIGKILL at ${KILLS} random moments: every file is old bytes or a verified new version; --resume finishes all (seed ${SEED})`, async () => {
  const { stderrs } = await runCrashScenario({ assets: ASSETS, kills: KILLS, seed: SEED, concurrency: 8, withoutPerl: true, checker: exiftool, onSimulator: (s) => (sim = s) });
  // the runs left alone (the final one and the check after it) used the built-in engine, and said so once
  for (const stderr of stderrs.slice(KILLS)) expect(stderr.split('\n').filter(Boolean)).toEqual([expect.stringMatching(NOTICE)]);
});
