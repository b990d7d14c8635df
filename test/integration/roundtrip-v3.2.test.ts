/**
 * The library round trip against an Immich v3.2 server (the simulator's v3.2 mode, derived from @immich/sdk
 * 3.2.2's types: test/simulator/spec-v3.2.ts): a sync of the sample library with every module lists it through
 * the filter/cursor search, writes what Immich knows, Immich's reader sees the same values in the files, and a
 * second pass writes nothing. Then a person moves into a shared face cluster (their faces answer
 * `person: null`): the files keep naming them, whether or not the faces module is on.
 */
import type { ExifTool } from 'exiftool-vendored';
import * as path from 'path';
import { createExifTool } from '../../lib/files/exiftoolPool';
import type { AssetWriteResult } from '../../lib/files/types';
import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../cli/axiosTransport';
import { ALL_MODULES, type ModuleName } from '../../lib/metadata/types';
import { runSync, type RunSyncSettings } from '../../lib/sync/runSync';
import { FileStateStore } from '../../lib/sync/stateStore';
import { createImmichExifTool, immichRead } from '../helpers/immichRead';
import { makeWritable, removeTempDirs, tempDir } from '../reliability/support';
import { createSampleLibrary, SAMPLE_PEOPLE, startSimulator, type SampleLibrary, type Simulator } from '../simulator';

jest.setTimeout(180_000);

let exiftool: ExifTool;
let immich: ExifTool;
let sample: SampleLibrary;
let sim: Simulator;
let client: ImmichClient;
let photoDir: string;

beforeAll(async () => {
  exiftool = createExifTool({ maxProcs: 2 });
  immich = createImmichExifTool();
  photoDir = tempDir('roundtrip-v32-photos');
  sample = createSampleLibrary({ photoDir });
  makeWritable(photoDir);
  // one asset per page: the walk then follows cursors through each instant (a page at one instant), and so do the album searches
  sim = await startSimulator({ library: sample.library, api: '3.2', search: { pageCap: 1 } });
  client = new ImmichClient(new AxiosTransport({ url: sim.url, apiKey: sim.apiKey, retry: { maxRetries: 1, baseDelayMs: 10 } }), { pageSize: 5 });
});
afterAll(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
  await Promise.all([exiftool.end(), immich.end()]);
  removeTempDirs();
});

async function run(modules: readonly ModuleName[], extra: Partial<RunSyncSettings> = {}) {
  const results: AssetWriteResult[] = [];
  const settings: RunSyncSettings = {
    mode: 'full',
    modules,
    buildOptions: { modules: [...modules] },
    libraryPath: photoDir,
    mapping: { mode: 'lastSegments', segments: 3 },
    target: 'original',
    dryRun: false,
    concurrency: 2,
    clockSkewMarginMs: 0,
    albumCacheTtlMs: 0,
    ...extra,
  };
  const summary = await runSync({ client, exiftool, store: new FileStateStore(tempDir('roundtrip-v32-state')), settings, onResult: (r) => results.push(r) });
  return { summary, results };
}

/** The sample video is malformed on purpose: ExifTool refuses to write it (as in roundtrip-library). */
const BROKEN = ['future42603.mp4'];
const failedFiles = (results: AssetWriteResult[]) => results.filter((r) => r.status === 'failed').map((r) => path.basename(r.file ?? r.assetId));

const FACE_SAMPLES = ['portrait.jpg', 'portrait-orientation-6.jpg', 'solvay.jpg'];

it('every module, listed through the v3.2 search: Immich reads back what it knows, and a second pass writes nothing', async () => {
  const first = await run(ALL_MODULES);
  expect(failedFiles(first.results)).toEqual(BROKEN);
  expect(first.summary.passCompleted).toBe(true);
  expect(first.summary.written).toBeGreaterThan(8);
  const searches = sim.requests('POST /search/metadata').map((r) => r.body as Record<string, unknown>);
  expect(searches.length).toBeGreaterThan(3);
  expect(searches.every((b) => 'filter' in b && !('page' in b) && !('takenAfter' in b))).toBe(true);
  expect(searches.some((b) => typeof b.cursor === 'string')).toBe(true);

  for (const name of [...FACE_SAMPLES, 'cyclamen_persicum.jpg', 'el_torcal_rocks.jpg', 'picasa.jpg']) {
    const entry = sample.entry(name);
    const details = await client.getAssetDetails(entry.assetId);
    const read = await immichRead(immich, entry.localPath);
    expect([name, read.description]).toEqual([name, details.exif.description ?? '']);
    expect([name, read.rating]).toEqual([name, details.exif.rating]);
    if (details.exif.latitude === null) expect(read.latitude).toBeNull();
    else expect(read.latitude).toBeCloseTo(details.exif.latitude, 5);
    const named = new Set(details.faces.filter((f) => f.personName && !f.personHidden).map((f) => f.personName));
    expect([name, [...new Set(read.faces.map((f) => f.name))].sort()]).toEqual([name, [...named].sort()]);
  }

  const second = await run(ALL_MODULES);
  expect(failedFiles(second.results)).toEqual(BROKEN);
  expect(second.results.filter((r) => r.status === 'written')).toEqual([]);
});

it("a person in a shared face cluster (faces with person: null) stays named in the files: keywords and regions", async () => {
  const before = await immichRead(immich, sample.entry('portrait.jpg').localPath);
  expect(before.faces.map((f) => f.name)).toContain('Pierre Curie');
  sample.library.setPersonInSharedCluster(SAMPLE_PEOPLE.pierre.id, true);
  try {
    const details = await client.getAssetDetails(sample.entry('portrait.jpg').assetId);
    expect(details.people.map((p) => p.name)).not.toContain('Pierre Curie');

    // people alone: on a server with shared clusters the sync reads the faces too, to see the unassigned ones
    sim.resetRequests();
    const peopleOnly = await run(['people']);
    expect(failedFiles(peopleOnly.results)).toEqual([]);
    expect(sim.requestCount('GET /faces')).toBeGreaterThan(0);
    const everything = await run(ALL_MODULES);
    expect(failedFiles(everything.results)).toEqual(BROKEN);

    for (const name of ['portrait.jpg', 'portrait-orientation-6.jpg']) {
      const entry = sample.entry(name);
      const written = [...peopleOnly.results, ...everything.results].filter((r) => r.assetId === entry.assetId && r.status === 'written');
      expect([name, written]).toEqual([name, []]);
      const read = await immichRead(immich, entry.localPath);
      expect([name, read.faces.map((f) => f.name).sort()]).toEqual([name, ['Marie Curie', 'Pierre Curie']]);
      const tags = (await exiftool.readRaw(entry.localPath, ['-XMP-iptcExt:PersonInImage', '-XMP-lr:HierarchicalSubject'])) as Record<string, unknown>;
      expect(JSON.stringify(tags.PersonInImage)).toContain('Pierre Curie');
      expect(JSON.stringify(tags.HierarchicalSubject)).toContain('People|Pierre Curie');
    }
  } finally {
    sample.library.setPersonInSharedCluster(SAMPLE_PEOPLE.pierre.id, false);
  }
});
