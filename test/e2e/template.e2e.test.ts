/**
 * The bundled template, end to end in a real n8n (installed by scripts/ensure-n8n.js), with this
 * package installed from its npm pack, against the spec-checking Immich simulator, on copies of the
 * real sample files, checked on disk with ExifTool. Runs with `npm run test:e2e` (after a build).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExifTool } from 'exiftool-vendored';
import { createSampleLibrary, startSimulator, type SampleLibrary, type Simulator } from '../simulator';
import { makeTreeWritable, SEARCH_NODE, TemplateEnvironment, type TemplateRun } from './templateEnvironment';
import type { SyncCheckpoint } from '../../lib/sync/checkpoint';
import { acquireLease, releaseLease } from '../../lib/sync/lease';
import { STATE_ROOT_NAME } from '../../lib/sync/stateFolder';
import { chooseEngine } from '../../lib/files/exiftoolPool';
import { WasmExifTool } from '../../lib/files/wasmExifTool';

jest.setTimeout(20 * 60_000);

let workDir: string;
let sample: SampleLibrary;
let simulator: Simulator;
let env: TemplateEnvironment;
// With Perl hidden (the stock-image check) the test reads the files with the built-in ExifTool too.
const exiftool = chooseEngine('auto', () => undefined) === 'wasm' ? new WasmExifTool({ taskTimeoutMillis: 30_000 }) : new ExifTool({ taskTimeoutMillis: 30_000 });
const runs: TemplateRun[] = [];

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-template-e2e-'));
  sample = createSampleLibrary({ photoDir: path.join(workDir, 'library') });
  makeTreeWritable(sample.photoDir);
  simulator = await startSimulator({ library: sample.library });
  env = await TemplateEnvironment.create({
    workDir,
    immichUrl: simulator.url,
    apiKey: simulator.apiKey,
    libraryPath: sample.photoDir,
    // album membership is re-read on every new pass, so that the album change below is seen at once
    settings: { dryRun: false, albumCacheTtlHours: 0 },
    progress: (message) => process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  });
});

afterAll(async () => {
  await exiftool.end();
  await simulator?.close();
  if (workDir && process.env.KEEP_E2E_DIR !== '1') fs.rmSync(workDir, { recursive: true, force: true });
});

async function run(): Promise<TemplateRun> {
  const result = await env.run();
  runs.push(result);
  return result;
}

function fingerprint(): Map<string, string> {
  const prints = new Map<string, string>();
  for (const entry of sample.entries) {
    if (!fs.existsSync(entry.localPath)) continue;
    const stat = fs.statSync(entry.localPath);
    prints.set(entry.localPath, `${createHash('sha256').update(fs.readFileSync(entry.localPath)).digest('hex')}:${stat.mtimeMs}`);
  }
  return prints;
}

function changedFiles(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after.keys()].filter((file) => before.get(file) !== after.get(file)).sort();
}

function writtenFiles(result: TemplateRun): string[] {
  return result.results.filter((r) => r.status === 'written').map((r) => r.file as string).sort();
}

async function checkpointOf(): Promise<SyncCheckpoint & { albumCache?: unknown }> {
  const state = await env.syncState();
  expect(fs.existsSync(path.join(state.folder, 'checkpoint.json'))).toBe(true);
  return { ...state.checkpoint, albumCache: state.albumCache };
}

/**
 * future42603.mp4 is slightly malformed, so ExifTool cannot write it: it must fail with a clear reason
 * on every attempt, without stopping the others, and be parked after three attempts.
 */
const DAMAGED = 'future42603.mp4';
const failedIds = (result: TemplateRun) => result.results.filter((r) => r.status === 'failed').map((r) => r.assetId).sort();

const asList = (value: unknown): string[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);
const entry = (name: string) => sample.entry(name);
const pathOf = (name: string) => entry(name).localPath;

let afterFirstRun: Map<string, string>;

test('N8N_RESTRICT_FILE_ACCESS_TO set to another folder: no file changes, every asset fails on the error output naming the setting', async () => {
  const allowedElsewhere = path.join(workDir, 'n8n-files');
  fs.mkdirSync(allowedElsewhere, { recursive: true });
  // a copy of the workflow: its own checkpoint, so the runs below start fresh
  const copyId = await env.importCopy('immichRestricted1', sample.photoDir, { dryRun: false });
  const before = fingerprint();
  const result = await env.run(copyId, { env: { N8N_RESTRICT_FILE_ACCESS_TO: allowedElsewhere } });
  expect(changedFiles(before, fingerprint())).toEqual([]);
  expect(result.batchSize).toBeGreaterThan(5);
  expect(result.errorOutput).toHaveLength(result.batchSize);
  expect(result.results.filter((r) => r.status !== 'failed')).toEqual([]);
  for (const failed of result.errorOutput) expect(failed.reason).toMatch(/n8n does not allow access to .*N8N_RESTRICT_FILE_ACCESS_TO/);
  expect(result.summary).toEqual(expect.objectContaining({ total: result.batchSize, handedOut: result.batchSize, failed: result.batchSize, written: 0 }));
  // nothing but the sync's own state folder (n8n's first allowed directory is its default home)
  expect(fs.readdirSync(allowedElsewhere).filter((name) => name !== STATE_ROOT_NAME)).toEqual([]);
});

test('first run writes Immich metadata into the files', async () => {
  const before = fingerprint();
  const result = await run();
  afterFirstRun = fingerprint();

  expect(result.report.nodes['Next Batch from Immich'].runs).toBe(1);
  expect(result.summary).not.toBeNull();
  expect(result.summary!.dryRun).toBe(false);
  expect(result.summary!.failedAssets.map((f) => f.assetId)).toEqual([entry(DAMAGED).assetId]);
  expect(result.summary!.failedAssets[0].reason).toMatch(/damaged/);
  // the damaged file arrives on Write Metadata's error output, everything else on the main one
  expect(result.errorOutput.map((r) => r.assetId)).toEqual([entry(DAMAGED).assetId]);
  expect(result.results.filter((r) => r.status === 'failed')).toHaveLength(1);
  expect(result.summary!.total).toBe(result.batchSize);
  expect(result.summary!.written).toBeGreaterThan(5);
  // what n8n reports as written is exactly what changed on disk
  expect(writtenFiles(result)).toEqual(changedFiles(before, afterFirstRun));

  const portrait = await exiftool.read(pathOf('portrait.jpg'));
  expect(asList(portrait.PersonInImage)).toEqual(expect.arrayContaining(['Marie Curie', 'Pierre Curie']));
  expect(asList(portrait.HierarchicalSubject)).toEqual(expect.arrayContaining(['People|Marie Curie', 'People|Pierre Curie']));

  // every written album member carries its albums; every rated asset its Immich rating
  const library = sample.library;
  for (const written of result.results.filter((r) => r.status === 'written')) {
    const tags = await exiftool.read(written.file as string);
    const albums = [...library.albums.values()].filter((album) => album.assetIds.has(written.assetId)).map((album) => `Albums|${album.albumName}`);
    expect(asList(tags.HierarchicalSubject)).toEqual(expect.arrayContaining(albums));
    const rating = library.asset(written.assetId)?.exif?.rating;
    if (typeof rating === 'number' && rating > 0) expect(tags.Rating).toBe(rating);
  }
  expect(simulator.violations()).toEqual([]);
});

test('second run rewrites nothing and the checkpoint is in the state folder', async () => {
  const result = await run();
  expect(writtenFiles(result)).toEqual([]);
  // the only asset handed out again is the damaged one, from the retry list
  expect(result.results.map((r) => r.assetId)).toEqual([entry(DAMAGED).assetId]);
  expect(failedIds(result)).toEqual([entry(DAMAGED).assetId]);
  expect(changedFiles(afterFirstRun, fingerprint())).toEqual([]);

  const checkpoint = await checkpointOf();
  expect(checkpoint.pass).toBeNull();
  expect(checkpoint.lastFullPassStartedAt).not.toBeNull();
  expect(Date.parse(checkpoint.lastPassStartedAt!)).toBeGreaterThan(Date.parse(checkpoint.lastFullPassStartedAt!));
  expect(Object.keys(checkpoint.retries)).toEqual([entry(DAMAGED).assetId]);
  expect(checkpoint.retries[entry(DAMAGED).assetId]).toMatchObject({ attempts: 2, parked: false });
  expect(checkpoint.albumCache).toMatchObject({ membership: expect.any(Object) });
});

test('after a rename, an album change and a rating change the next run writes exactly those files', async () => {
  const library = sample.library;
  const marie = library.personByName('Marie Curie')!;
  const album = [...library.albums.values()][0];
  const newAlbumMember = entry('mongolels.jpg').assetId;
  const rerated = entry('picasa.jpg').assetId;
  expect(album.assetIds.has(newAlbumMember)).toBe(false);
  const oldRating = library.asset(rerated)!.exif!.rating;

  library.renamePerson(marie.id, 'Marie Skłodowska-Curie');
  library.addAssetToAlbum(album.id, newAlbumMember);
  library.setRating(rerated, oldRating === 4 ? 2 : 4);
  const newRating = library.asset(rerated)!.exif!.rating;

  const withMarie = sample.entries.filter((e) => library.asset(e.assetId)!.faces.some((f) => f.personId === marie.id) && !library.asset(e.assetId)!.deletedAt);
  const expected = [...withMarie.map((e) => e.localPath), pathOf('mongolels.jpg'), pathOf('picasa.jpg')].sort();

  const before = fingerprint();
  const result = await run();
  expect(result.results.filter((r) => r.status === 'failed' && r.assetId !== entry(DAMAGED).assetId)).toEqual([]);
  expect(writtenFiles(result)).toEqual(expected);
  expect(changedFiles(before, fingerprint())).toEqual(expected);

  const portrait = await exiftool.read(pathOf('portrait.jpg'));
  expect(asList(portrait.PersonInImage)).toContain('Marie Skłodowska-Curie');
  expect(asList(portrait.PersonInImage)).not.toContain('Marie Curie');
  expect(asList(portrait.HierarchicalSubject)).toContain('People|Marie Skłodowska-Curie');
  expect(asList(portrait.HierarchicalSubject)).not.toContain('People|Marie Curie');
  expect(asList((await exiftool.read(pathOf('mongolels.jpg'))).HierarchicalSubject)).toContain(`Albums|${album.albumName}`);
  expect((await exiftool.read(pathOf('picasa.jpg'))).Rating).toBe(newRating);
  // third failed attempt: the damaged file is parked until it changes in Immich
  expect((await checkpointOf()).retries[entry(DAMAGED).assetId]).toMatchObject({ attempts: 3, parked: true });
  expect(simulator.violations()).toEqual([]);
});

test('an asset that fails goes to the retry list and is written on the next run', async () => {
  const target = entry('cyclamen_persicum.jpg');
  const description = 'Cyclamen persicum in bloom, greenhouse';
  sample.library.setDescription(target.assetId, description);
  fs.chmodSync(target.localPath, 0o444);

  const failing = await run();
  const failed = failing.results.filter((r) => r.status === 'failed');
  expect(failed.map((r) => r.assetId)).toEqual([target.assetId]);
  expect(failed[0].reason).toMatch(/read-only/);
  expect(failing.summary!.failedAssets.map((f) => f.assetId)).toEqual([target.assetId]);
  expect(writtenFiles(failing)).toEqual([]);
  expect(failing.results.map((r) => r.assetId)).not.toContain(entry(DAMAGED).assetId); // parked: not handed out
  const checkpoint = await checkpointOf();
  expect(Object.keys(checkpoint.retries).sort()).toEqual([target.assetId, entry(DAMAGED).assetId].sort());
  expect(checkpoint.retries[target.assetId]).toMatchObject({ attempts: 1, parked: false });

  fs.chmodSync(target.localPath, 0o644);
  const retried = await run();
  expect(writtenFiles(retried)).toEqual([target.localPath]);
  expect((await exiftool.read(target.localPath)).Description).toBe(description);
  expect(Object.keys((await checkpointOf()).retries)).toEqual([entry(DAMAGED).assetId]);
});

test('a run that finds another run holding the library backs off with one clear item and changes nothing; once the holder is done the next run works', async () => {
  sample.library.setRating(entry('portrait.jpg').assetId, 2);
  const { folder, checkpoint: before } = await env.syncState();
  // another worker (another host) is in the middle of a batch: its lease is in the state folder
  const other = await acquireLease(folder, { host: 'worker-2', pid: 4242, run: 'n8n execution 977' });
  if (!other.acquired) throw new Error('the state folder is unexpectedly locked');
  const files = fingerprint();
  const backedOff = await run();
  expect(backedOff.results).toEqual([]);
  expect(backedOff.summary).toBeNull();
  const items = backedOff.report.nodes[SEARCH_NODE].items as unknown as Array<Record<string, unknown>>;
  expect(items).toHaveLength(1);
  expect(items[0]).toMatchObject({ syncBackedOff: true, stateFolder: folder });
  expect(String(items[0].message)).toBe(
    `another run holds the library since ${other.lease.acquiredAt} (host worker-2, pid 4242, n8n execution 977; until ${other.lease.expiresAt} unless renewed); this run backs off`,
  );
  expect(backedOff.report.nodes['Get Asset Details']).toBeUndefined();
  expect(changedFiles(files, fingerprint())).toEqual([]);
  expect((await env.syncState()).checkpoint).toEqual(before);

  expect(await releaseLease(folder, other.lease)).toBe(true);
  const after = await run();
  expect(writtenFiles(after)).toEqual([pathOf('portrait.jpg')]);
  expect(fs.existsSync(path.join(folder, 'lease.json'))).toBe(false);
});

test('the API key appears in no n8n output or log', () => {
  const log = fs.existsSync(env.n8n.logFile) ? fs.readFileSync(env.n8n.logFile, 'utf8') : '';
  expect(runs.length).toBe(7);
  for (const result of runs) {
    expect(result.report.raw.stdout).not.toContain(simulator.apiKey);
    expect(result.report.raw.stderr).not.toContain(simulator.apiKey);
  }
  expect(log).not.toContain(simulator.apiKey);
  expect(simulator.violations()).toEqual([]);
});

test("every search has the shape of the server's version (v3.2: filter and cursor only; v3.1: the flat fields)", () => {
  const bodies = simulator.requests('POST /search/metadata').map((r) => r.body as Record<string, unknown>);
  expect(bodies.length).toBeGreaterThan(0);
  const newShape = (b: Record<string, unknown>) => 'filter' in b && 'orderBy' in b && !('page' in b) && !('order' in b) && !('takenAfter' in b) && !('updatedAfter' in b);
  expect(bodies.filter((b) => newShape(b) !== (simulator.api === '3.2'))).toEqual([]);
});
