/** Immich Search Assets run by real n8n (WorkflowExecute) against the spec-checked simulator. */
import * as fs from 'node:fs';
import { inspect } from 'node:util';
import { ImmichSearchAssets } from '../../nodes/ImmichSearchAssets/ImmichSearchAssets.node';
import { setRetryDefaults } from '../../nodes/shared/immichClient';
import { tempDir } from '../simulator/testClient';
import { loadNodeOptions, runNode } from '../helpers/n8nRunner';
import { createSampleLibrary, SAMPLE_PEOPLE, startSimulator, type SampleLibrary, type Simulator } from '../simulator';

let sample: SampleLibrary;
let sim: Simulator;
const credentials = () => ({ immichApi: { url: sim.url, apiKey: sim.apiKey } });

beforeAll(() => setRetryDefaults({ maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 }));
afterAll(() => setRetryDefaults({}));

beforeEach(async () => {
  sample = createSampleLibrary({ photoDir: tempDir('node-search-') });
  sim = await startSimulator({ library: sample.library });
});

afterEach(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
});

test('Return All emits one item per asset, each paired with the input item', async () => {
  const { items, error } = await runNode(ImmichSearchAssets, { returnAll: true, options: { pageSize: 5 } }, [{ json: {} }], { credentials: credentials() });
  expect(error).toBeNull();
  // Immich v3 without `visibility`: everything but trashed and locked assets (hidden live-photo videos too)
  const visible = [...sample.library.allAssets()].filter((a) => a.deletedAt === null && a.visibility !== 'locked');
  expect(items.map((i) => i.json.id).sort()).toEqual(visible.map((a) => a.id).sort());
  expect(items.every((i) => JSON.stringify(i.pairedItem) === JSON.stringify({ item: 0 }))).toBe(true);
  const portrait = items.find((i) => i.json.originalFileName === 'portrait.jpg')!.json;
  expect(portrait).toMatchObject({ originalPath: sample.entry('portrait.jpg').originalPath, isFavorite: true, isTrashed: false, exif: null, people: null });
  expect(sim.requestCount('POST /search/metadata')).toBe(Math.ceil(visible.length / 5));
});

test('Limit stops early', async () => {
  const { items } = await runNode(ImmichSearchAssets, { returnAll: false, limit: 3 }, [{ json: {} }], { credentials: credentials() });
  expect(items).toHaveLength(3);
  expect(sim.requestCount('POST /search/metadata')).toBe(1);
});

test('filters and options reach Immich and select the assets', async () => {
  const curie = sample.library.albumByName('Curie Family')!.id;
  const { items, error } = await runNode(
    ImmichSearchAssets,
    {
      returnAll: true,
      filters: { albumIds: [curie], personIds: `${SAMPLE_PEOPLE.marie.id}`, favorite: 'favorites', takenAfter: '1900-01-01T00:00:00', type: 'IMAGE' },
      options: { withExif: true, withPeople: true, order: 'desc' },
    },
    [{ json: {} }],
    { credentials: credentials() },
  );
  expect(error).toBeNull();
  expect(items.map((i) => i.json.originalFileName)).toEqual(['portrait.jpg']);
  expect(items[0].json.exif).toMatchObject({ description: 'Мария и Пьер Кюри', rating: 5 });
  expect((items[0].json.people as Array<{ name: string }>).map((p) => p.name).sort()).toEqual(['Marie Curie', 'Pierre Curie']);
  const body = sim.requests('POST /search/metadata')[0].body as Record<string, unknown>;
  expect(body).toMatchObject({ albumIds: [curie], personIds: [SAMPLE_PEOPLE.marie.id], isFavorite: true, type: 'IMAGE', withExif: true, withPeople: true, order: 'desc', withDeleted: false });
  expect(typeof body.takenAfter).toBe('string');
});

test('a wrong API key fails the node with a message about the key, never the key itself', async () => {
  const secret = 'definitely-wrong-key-0123456789';
  const result = await runNode(ImmichSearchAssets, { returnAll: true }, [{ json: {} }], { credentials: { immichApi: { url: sim.url, apiKey: secret } } });
  expect(result.items).toEqual([]);
  expect(result.error?.message).toMatch(/Immich rejected the API key/);
  for (const text of [JSON.stringify(result.run), inspect(result.error, { depth: 6 }), String(result.error?.stack)]) expect(text).not.toContain(secret);
});

test('Continue On Fail turns the failure into an error item', async () => {
  await sim.close();
  sim = await startSimulator({ library: sample.library, permissions: ['user.read'] });
  const result = await runNode(ImmichSearchAssets, { returnAll: true }, [{ json: {} }], { credentials: credentials(), continueOnFail: true });
  expect(result.error).toBeNull();
  expect(result.items).toHaveLength(1);
  expect(result.items[0].json.error).toMatch(/lacks the "asset.read" permission/);
  expect(result.items[0].pairedItem).toEqual({ item: 0 });
  expect(JSON.stringify(result.run)).not.toContain(sim.apiKey);
});

test('Immich outages are retried inside n8n as well', async () => {
  sim.inject({ route: 'POST /search/metadata', kind: 'status', status: 503, times: 2 });
  const { items, error } = await runNode(ImmichSearchAssets, { returnAll: true }, [{ json: {} }], { credentials: credentials() });
  expect(error).toBeNull();
  expect(items.length).toBeGreaterThan(10);
  expect(sim.requestCount('POST /search/metadata')).toBe(3);
});

test('connection resets inside n8n are retried too (the n8n error wrapper is unwrapped to its code)', async () => {
  sim.inject({ route: 'POST /search/metadata', kind: 'reset' });
  const { items, error } = await runNode(ImmichSearchAssets, { limit: 4 }, [{ json: {} }], { credentials: credentials() });
  expect(error).toBeNull();
  expect(items).toHaveLength(4);
  expect(sim.requestCount('POST /search/metadata')).toBe(2);
});

test('a reset on every attempt ends in a network error naming the code', async () => {
  sim.inject({ route: 'POST /search/metadata', kind: 'reset', times: 10 });
  const { error } = await runNode(ImmichSearchAssets, { limit: 4 }, [{ json: {} }], { credentials: credentials() });
  expect(error?.message).toMatch(/Network failure \(ECONNRESET\)/);
  expect(sim.requestCount('POST /search/metadata')).toBe(3);
});

test('the credential URL may carry /api and a trailing slash', async () => {
  const { items, error } = await runNode(ImmichSearchAssets, { limit: 2 }, [{ json: {} }], { credentials: { immichApi: { url: `${sim.url}/api/`, apiKey: sim.apiKey } } });
  expect(error).toBeNull();
  expect(items).toHaveLength(2);
});

test('dropdowns list albums, named people and tags from Immich', async () => {
  const albums = await loadNodeOptions(ImmichSearchAssets, 'getAlbums', { credentials: credentials() });
  expect(albums.map((a) => a.name)).toEqual(['Curie Family', 'Empty album', 'Nature', 'Reise 2022 · 日本']);
  expect(albums.find((a) => a.name === 'Nature')).toMatchObject({ value: sample.library.albumByName('Nature')!.id, description: '2 assets' });
  const people = await loadNodeOptions(ImmichSearchAssets, 'getPeople', { credentials: credentials() });
  expect(people.map((p) => p.name)).toEqual(['Albert Einstein', 'Hidden Stranger (hidden)', 'Marie Curie', 'Niels Bohr', 'Pierre Curie']);
  const tags = await loadNodeOptions(ImmichSearchAssets, 'getTags', { credentials: credentials() });
  expect(tags.map((t) => t.name)).toContain('Travel/Japan/東京');
  expect(tags.find((t) => t.name === 'Travel')!.value).toBe(sample.library.tagByValue('Travel')!.id);
});

test('Sync Batch mode hands out the first batch and leaves it in workflow static data, the checkpoint in the state folder', async () => {
  const stateFolder = tempDir('node-search-state-');
  const { items, error, staticData } = await runNode(ImmichSearchAssets, { searchMode: 'syncBatch', maxAssetsPerRun: 5, stateFolder }, [{ json: {} }], { credentials: credentials() });
  expect(error).toBeNull();
  expect(items).toHaveLength(5);
  expect(new Set(items.map((i) => i.json.id)).size).toBe(5);
  const state = (staticData.global as Record<string, unknown>).immichMetadataSync as { batch: { steps: Array<{ kind: string; id?: string }> }; batchHome: { stateFolder: string } };
  expect(state.batch.steps.filter((s) => s.kind === 'asset').map((s) => s.id)).toEqual(items.map((i) => i.json.id));
  expect(state.batchHome.stateFolder.startsWith(stateFolder)).toBe(true);
  expect(fs.readdirSync(state.batchHome.stateFolder).sort()).toEqual(['album-cache.json', 'checkpoint.json', 'lease.json', 'tag-cache.json']);
  // album membership is read for the pass, in the same execution
  expect(sim.requestCount('GET /albums')).toBe(1);
});
