/** Immich Get Asset Details run by real n8n (WorkflowExecute) against the spec-checked simulator. */
import { inspect } from 'node:util';
import axios from 'axios';
import type { INodeExecutionData } from 'n8n-workflow';
import { ImmichGetAssetDetails } from '../../nodes/ImmichGetAssetDetails/ImmichGetAssetDetails.node';
import { setRetryDefaults } from '../../nodes/shared/immichClient';
import { tempDir } from '../simulator/testClient';
import { runNode } from '../helpers/n8nRunner';
import { createSampleLibrary, startSimulator, type SampleLibrary, type Simulator } from '../simulator';

let sample: SampleLibrary;
let sim: Simulator;
const credentials = () => ({ immichApi: { url: sim.url, apiKey: sim.apiKey } });
const MISSING = '0f0e0d0c-0b0a-4909-8807-060504030201';

beforeAll(() => setRetryDefaults({ maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 }));
afterAll(() => setRetryDefaults({}));

beforeEach(async () => {
  sample = createSampleLibrary({ photoDir: tempDir('node-details-') });
  sim = await startSimulator({ library: sample.library });
});

afterEach(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
});

const itemsFor = (...names: string[]): INodeExecutionData[] => names.map((n) => ({ json: { id: n.includes('.') ? sample.entry(n).assetId : n, note: n } }));

test('details per input item with faces, tags and albums; the album map is read once', async () => {
  const input = itemsFor('portrait.jpg', 'portrait-orientation-6.jpg', 'IMG_2682.heic', 'cyclamen_persicum.jpg', 'thompson-springs.jpg');
  const { items, error } = await runNode(ImmichGetAssetDetails, {}, input, { credentials: credentials() });
  expect(error).toBeNull();
  expect(items.map((i) => i.json.originalFileName)).toEqual(['portrait.jpg', 'portrait-orientation-6.jpg', 'IMG_2682.heic', 'cyclamen_persicum.jpg', 'thompson-springs.jpg']);
  expect(items.map((i) => i.pairedItem)).toEqual([0, 1, 2, 3, 4].map((item) => ({ item })));
  const portrait = items[1].json as unknown as { faces: Array<Record<string, unknown>>; albums: string[]; exif: { orientation: string }; serverMajor: number };
  expect(portrait.faces.map((f) => [f.personName, f.x1, f.y1, f.x2, f.y2, f.imageWidth, f.imageHeight, f.sourceType])).toEqual([
    ['Marie Curie', 261, 146, 356, 284, 840, 700, 'exif'],
    ['Pierre Curie', 536, 83, 618, 252, 840, 700, 'exif'],
  ]);
  expect(portrait.albums).toEqual(['Curie Family']);
  expect(portrait.exif.orientation).toBe('6');
  expect(portrait.serverMajor).toBe(3);
  expect(items[2].json).toMatchObject({ tags: ['Travel/Japan/東京'], albums: ['Reise 2022 · 日本'] });
  expect(items[3].json.exif).toMatchObject({ description: 'Alpenveilchen — Цикламен персидский', rating: 2 });
  expect(items[4].json.exif).toMatchObject({ latitude: 39.115, longitude: -108.400968, timeZone: 'America/Denver', rating: 4 });
  expect(sim.requestCount('GET /albums')).toBe(1);
  expect(sim.requestCount('GET /server/version')).toBe(1);
  expect(sim.requestCount('GET /assets/{id}')).toBe(5);
  expect(sim.requestCount('GET /faces')).toBe(5);
});

test('v2 servers give the same output shape', async () => {
  sim.mode = 'v2';
  const { items, error } = await runNode(ImmichGetAssetDetails, {}, itemsFor('portrait.jpg'), { credentials: credentials() });
  expect(error).toBeNull();
  expect(items[0].json.serverMajor).toBe(2);
  expect((items[0].json.faces as unknown[]).length).toBe(3);
  expect(sim.requestCount('GET /faces')).toBe(0);
});

test('Continue On Fail: a bad asset gives an error item naming it, the others go on', async () => {
  const input = [...itemsFor('portrait.jpg', MISSING, 'picasa.jpg'), { json: { somethingElse: true } }];
  const { items, error } = await runNode(ImmichGetAssetDetails, {}, input, { credentials: credentials(), continueOnFail: true });
  expect(error).toBeNull();
  expect(items).toHaveLength(4);
  expect(items[0].json.originalFileName).toBe('portrait.jpg');
  expect(items[1].json.error).toMatch(new RegExp(`Asset ${MISSING}: Immich has no asset ${MISSING}`));
  expect(items[1].json.assetId).toBe(MISSING);
  expect(items[2].json.originalFileName).toBe('picasa.jpg');
  expect(items[3].json.error).toMatch(/No asset ID/);
  expect(items.map((i) => i.pairedItem)).toEqual([0, 1, 2, 3].map((item) => ({ item })));
});

test('without Continue On Fail the node stops with the asset and item named', async () => {
  const { items, error } = await runNode(ImmichGetAssetDetails, {}, itemsFor('portrait.jpg', MISSING), { credentials: credentials() });
  expect(items).toEqual([]);
  expect(error?.message).toContain(`Asset ${MISSING}`);
  expect((error as unknown as { context?: { itemIndex?: number } }).context?.itemIndex).toBe(1);
});

test('a request that times out inside n8n is retried', async () => {
  setRetryDefaults({ maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 }, 1500);
  try {
    sim.inject({ route: 'GET /assets/{id}', kind: 'delay', delayMs: 4000 });
    const { items, error } = await runNode(ImmichGetAssetDetails, {}, itemsFor('picasa.jpg'), { credentials: credentials() });
    expect(error).toBeNull();
    expect(items[0].json.originalFileName).toBe('picasa.jpg');
    expect(sim.requestCount('GET /assets/{id}')).toBe(2);
  } finally {
    setRetryDefaults({ maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 });
  }
});

test('Include Albums off: no album requests, no album names', async () => {
  const { items } = await runNode(ImmichGetAssetDetails, { options: { includeAlbums: false } }, itemsFor('portrait.jpg'), { credentials: credentials() });
  expect(items[0].json.albums).toEqual([]);
  expect(sim.requestCount('GET /albums')).toBe(0);
});

test('a key without face.read: every item fails naming the permission; the key stays secret', async () => {
  await sim.close();
  sim = await startSimulator({ library: sample.library, permissions: ['asset.read', 'album.read'] });
  const result = await runNode(ImmichGetAssetDetails, {}, itemsFor('portrait.jpg', 'picasa.jpg'), { credentials: credentials(), continueOnFail: true });
  expect(result.items.map((i) => i.json.error)).toEqual([expect.stringMatching(/"face.read"/), expect.stringMatching(/"face.read"/)]);
  for (const text of [JSON.stringify(result.run), inspect(result.items, { depth: 6 })]) expect(text).not.toContain(sim.apiKey);
});

test('an explicit Asset ID expression is used per item', async () => {
  const input = [{ json: { asset: { uuid: sample.entry('mongolels.jpg').assetId } } }];
  const { items, error } = await runNode(ImmichGetAssetDetails, { assetId: '={{ $json.asset.uuid }}' }, input, { credentials: credentials() });
  expect(error).toBeNull();
  expect(items[0].json).toMatchObject({ originalFileName: 'mongolels.jpg', visibility: 'archive', tags: ['Travel/Mongolia'] });
});

test('items carry the fields the next nodes use, not Immich’s whole response (run data stays small per asset)', async () => {
  const id = sample.entry('thompson-springs.jpg').assetId;
  const { items, error } = await runNode(ImmichGetAssetDetails, {}, itemsFor('thompson-springs.jpg'), { credentials: credentials() });
  expect(error).toBeNull();
  const raw = (await axios.get(`${sim.apiUrl}/assets/${id}`, { headers: { 'x-api-key': sim.apiKey, Connection: 'close' } })).data as Record<string, unknown> & { exifInfo: Record<string, unknown> };
  const detail = items[0].json as Record<string, unknown> & { exif: Record<string, unknown> };
  expect(Object.keys(detail).sort()).toEqual(
    ['albums', 'exif', 'faces', 'fileCreatedAt', 'height', 'id', 'isEdited', 'isFavorite', 'isTrashed', 'libraryId', 'localDateTime', 'originalFileName', 'originalPath', 'people', 'serverMajor', 'tags', 'type', 'updatedAt', 'visibility', 'width'].sort(),
  );
  // of Immich's EXIF block (camera, lens, exposure, file size, city…) only what the modules write or map faces with
  expect(Object.keys(detail.exif).sort()).toEqual(['dateTimeOriginal', 'description', 'exifImageHeight', 'exifImageWidth', 'latitude', 'longitude', 'orientation', 'rating', 'timeZone']);
  expect(Object.keys(raw.exifInfo).length).toBeGreaterThan(Object.keys(detail.exif).length * 2);
  expect(raw.exifInfo.make).toBeDefined();
  expect(detail.exif).not.toHaveProperty('make');
});
