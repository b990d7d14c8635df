/**
 * The seed documentation's five usage examples, run as written (plus our environment) through the
 * built command line against the Immich simulator, and checked in the files with ExifTool.
 */
import { exiftool } from 'exiftool-vendored';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';

import { createSampleLibrary, SAMPLE_PEOPLE, startSimulator, type SampleLibrary, type Simulator } from '../simulator';
import { CliRun, ensureBuilt, expectNoSecret, hashTree, makeWritable, parseSummary, removeTemps, runCli, SECRET_KEY, tempDir } from './cli-harness';

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
  const photoDir = tempDir('cli-seed-photos-');
  const sample = createSampleLibrary({ photoDir });
  makeWritable(photoDir);
  const sim = await startSimulator({ library: sample.library, apiKey: SECRET_KEY });
  const stateDir = tempDir('cli-seed-state-');
  const w = { sim, sample, photoDir, stateDir, env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: SECRET_KEY, PHOTO_DIR: photoDir, HOME: stateDir } };
  worlds.push(w);
  return w;
}

function logOf(w: World): string {
  return readFileSync(path.join(w.stateDir, 'immich_ultra_sync.txt'), 'utf8');
}

/**
 * The sample library holds one file no tool can write safely: the malformed MP4 (ExifTool reports it
 * damaged). It must fail with its name and reason, and then the run exits 1; every other file must not fail.
 */
const UNWRITABLE_SAMPLES = ['future42603.mp4'];

function expectOnlyUnwritableSamplesFailed(run: CliRun): void {
  const failedLines = run.lines.filter((line) => line.startsWith('failed '));
  for (const line of failedLines) {
    expect(UNWRITABLE_SAMPLES.some((name) => line.includes(name))).toBe(true);
    expect(line).toMatch(/damaged|minor error|cannot/i);
  }
  expect(parseSummary(run.lastLine).failed).toBe(failedLines.length);
  expect(run.code).toBe(failedLines.length > 0 ? 1 : 0);
}

function checkRun(w: World, run: CliRun): void {
  expectNoSecret([run.stdout, run.stderr, logOf(w)]);
  expect(w.sim.violations()).toEqual([]);
}

beforeAll(() => ensureBuilt());
afterAll(async () => {
  await exiftool.end();
  for (const w of worlds) await w.sim.close();
  removeTemps();
});

describe('the seed examples, as written', () => {
  it('--all: people, GPS, caption, time and rating are written; a second run writes nothing', async () => {
    const w = await world();
    const run = await runCli(['--all'], { env: w.env });
    expect(run.stderr).toBe('');
    expectOnlyUnwritableSamplesFailed(run);
    // The capture time is due in the MP4 too, so it was tried, refused, and named.
    expect(run.lines.some((line) => line.startsWith('failed ') && line.includes('future42603.mp4'))).toBe(true);
    const counts = parseSummary(run.lastLine);
    expect(counts.written).toBeGreaterThanOrEqual(10);
    // Default state dir under $HOME/.local/state, with the seed's log file name.
    const log = readFileSync(path.join(w.stateDir, '.local', 'state', 'immich-metadata-sync', 'immich_ultra_sync.txt'), 'utf8');
    expect(log).toMatch(/start: --all/);
    expect(log).toMatch(/modules people, gps, caption, time, rating/);
    expectNoSecret([run.stdout, run.stderr, log]);
    expect(run.lines[run.lines.length - 2]).toMatch(/^listed \d+, by id 0, handled \d+$/);
    for (const line of run.lines.slice(0, -2)) expect(line).toMatch(/^(written|skipped|failed) /);

    const portrait = await exiftool.read(w.sample.entry('portrait.jpg').localPath);
    expect(portrait.Rating).toBe(5);
    expect(portrait.PersonInImage).toEqual(['Marie Curie', 'Pierre Curie']);
    const picasa = await exiftool.read(w.sample.entry('picasa.jpg').localPath);
    expect(picasa.GPSLatitude).toBeCloseTo(-33.9249, 4);
    expect(picasa.GPSLongitude).toBeCloseTo(18.4241, 4);
    // Albums were not asked for.
    expect(JSON.stringify(portrait.HierarchicalSubject ?? [])).not.toContain('Albums|');

    const again = await runCli(['--all'], { env: w.env });
    expectOnlyUnwritableSamplesFailed(again);
    expect(parseSummary(again.lastLine)).toMatchObject({ written: 0 });
    expect(w.sim.violations()).toEqual([]);
  });

  it('--people --gps --only-new: the first run syncs everything, the next only what changed', async () => {
    const w = await world();
    const args = ['--people', '--gps', '--only-new', '--state-dir', w.stateDir];
    const first = await runCli(args, { env: w.env });
    expect(first.code).toBe(0);
    expect(parseSummary(first.lastLine).written).toBeGreaterThan(0);
    const solvay = await exiftool.read(w.sample.entry('solvay.jpg').localPath);
    expect(solvay.PersonInImage).toEqual(expect.arrayContaining(['Albert Einstein', 'Niels Bohr', 'Marie Curie']));
    // The caption module was not asked for: the Immich description did not go into the file.
    expect(solvay.Description).toBeUndefined();

    const quiet = await runCli(args, { env: w.env });
    expect(parseSummary(quiet.lastLine)).toMatchObject({ written: 0, failed: 0 });

    w.sample.library.renamePerson(SAMPLE_PEOPLE.bohr.id, 'Niels Henrik David Bohr');
    const changed = await runCli(args, { env: w.env });
    expect(changed.code).toBe(0);
    expect(parseSummary(changed.lastLine).written).toBe(1);
    expect(changed.stdout).toContain('solvay.jpg');
    expect((await exiftool.read(w.sample.entry('solvay.jpg').localPath)).PersonInImage).toContain('Niels Henrik David Bohr');
    checkRun(w, changed);
  });

  it('--all --dry-run: reports what would change and changes no byte', async () => {
    const w = await world();
    const before = hashTree(w.photoDir);
    const run = await runCli(['--all', '--dry-run', '--state-dir', w.stateDir], { env: w.env });
    expectOnlyUnwritableSamplesFailed(run);
    expect(hashTree(w.photoDir)).toEqual(before);
    expect(run.stdout).toMatch(/^would write .*portrait\.jpg: .*Rating/m);
    expect(run.lines).toContain('dry run: no file was changed');
    expect(parseSummary(run.lastLine).written).toBeGreaterThan(0);
    // Nothing was written, so nothing may count as synced: no checkpoint.
    expect(existsSync(path.join(w.stateDir, 'checkpoint.json'))).toBe(false);
    checkRun(w, run);
  });

  it('--people --face-coordinates: named face regions are written', async () => {
    const w = await world();
    const run = await runCli(['--people', '--face-coordinates', '--state-dir', w.stateDir], { env: w.env });
    expect(run.code).toBe(0);
    expect(parseSummary(run.lastLine).failed).toBe(0);
    const solvay = await exiftool.read(w.sample.entry('solvay.jpg').localPath);
    const regions = (solvay.RegionInfo?.RegionList ?? []) as Array<{ Name?: string }>;
    const names = regions.map((r) => r.Name).sort();
    expect(names).toEqual(['Albert Einstein', 'Marie Curie', 'Niels Bohr']);
    checkRun(w, run);
  });

  it('--all --albums --face-coordinates: album names go into Event and Albums|… keywords', async () => {
    const w = await world();
    const run = await runCli(['--all', '--albums', '--face-coordinates', '--state-dir', w.stateDir], { env: w.env });
    expectOnlyUnwritableSamplesFailed(run);
    const portrait = await exiftool.read(w.sample.entry('portrait.jpg').localPath);
    expect(portrait.HierarchicalSubject).toEqual(expect.arrayContaining(['Albums|Curie Family', 'People|Marie Curie']));
    expect((portrait as Record<string, unknown>).Event).toBe('Curie Family');
    expect(portrait.Rating).toBe(5);
    const thompson = await exiftool.read(w.sample.entry('thompson-springs.jpg').localPath);
    expect(thompson.HierarchicalSubject).toEqual(expect.arrayContaining(['Albums|Reise 2022 · 日本']));
    // The album map came from one listing per album, not a request per asset.
    expect(w.sim.requestCount('GET /albums')).toBe(1);
    checkRun(w, run);
  });
});
