/**
 * The simulator checks itself: requests or responses outside the spec are recorded (so the other
 * suites' "zero violations" means something), it authenticates, and its mutations move the
 * updatedAt fields the way Immich does. Also: a 100,000-asset synthetic library pages correctly.
 */
import axios from 'axios';
import { fastClient, tempDir } from '../simulator/testClient';
import { createSampleLibrary, createSyntheticLibrary, SAMPLE_PEOPLE, startSimulator, syntheticAssetId, type Simulator } from '../simulator';

const cleanup: Simulator[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!.close();
});

async function sampleSim(options: Partial<Parameters<typeof startSimulator>[0]> = {}) {
  const sample = createSampleLibrary({ photoDir: tempDir('selfcheck-') });
  const sim = await startSimulator({ library: sample.library, ...options });
  cleanup.push(sim);
  return { sample, sim };
}

const raw = (sim: Simulator) => axios.create({ baseURL: sim.apiUrl, validateStatus: () => true, headers: { 'x-api-key': sim.apiKey } });

test('requests outside the spec are answered 400 and recorded as violations', async () => {
  const { sim } = await sampleSim();
  const http = raw(sim);
  expect((await http.post('/search/metadata', { page: 0, withTrashed: true })).status).toBe(400);
  expect((await http.get('/faces', { params: { id: 'not-a-uuid' } })).status).toBe(400);
  expect((await http.get('/people', { params: { size: 5000 } })).status).toBe(400);
  expect((await http.get('/no/such/endpoint')).status).toBe(404);
  const problems = sim.violations().flatMap((v) => v.problems.map((p) => `${v.route}: ${p}`));
  expect(problems).toEqual([
    expect.stringMatching(/POST \/search\/metadata: body: body\/page must be >= 1/),
    expect.stringMatching(/POST \/search\/metadata: body has unknown property "withTrashed"/),
    expect.stringMatching(/GET \/faces: query parameter "id"/),
    expect.stringMatching(/GET \/people: query parameter "size"/),
    expect.stringMatching(/not an endpoint of the Immich spec/),
  ]);
});

test('responses outside the spec are recorded; strict mode answers 500', async () => {
  for (const strict of [false, true]) {
    const { sample, sim } = await sampleSim({ strict });
    // a rating Immich can never hold (the spec allows 1..5)
    sample.library.setRating(sample.entry('picasa.jpg').assetId, 9);
    const response = await raw(sim).get(`/assets/${sample.entry('picasa.jpg').assetId}`);
    expect(response.status).toBe(strict ? 500 : 200);
    expect(sim.violations()).toEqual([{ route: 'GET /assets/{id}', direction: 'response', problems: [expect.stringMatching(/exifInfo\/rating must be <= 5/)] }]);
  }
});

test('authentication: ping and version are open, everything else needs the key', async () => {
  const { sim } = await sampleSim();
  const anonymous = axios.create({ baseURL: sim.apiUrl, validateStatus: () => true });
  expect((await anonymous.get('/server/ping')).data).toEqual({ res: 'pong' });
  expect((await anonymous.get('/server/version')).status).toBe(200);
  const denied = await anonymous.get('/users/me');
  expect(denied.status).toBe(401);
  expect(denied.data.message).toBe('Invalid API key');
  expect((await raw(sim).get('/users/me')).data.email).toBe('demo@example.com');
  expect(sim.violations()).toEqual([]);
});

test('mutations bump updatedAt like Immich: asset edits yes; renames, albums, faces and tags no', async () => {
  const { sample, sim } = await sampleSim();
  const lib = sample.library;
  const portraitId = sample.entry('portrait.jpg').assetId;
  const before = lib.asset(portraitId)!.updatedAt;
  const album = lib.albumByName('Nature')!;
  const albumBefore = album.updatedAt;
  lib.addAssetToAlbum(album.id, portraitId);
  lib.renamePerson(SAMPLE_PEOPLE.marie.id, 'Maria Skłodowska-Curie');
  lib.assignFace(lib.asset(portraitId)!.faces[2].id, null);
  lib.tagAsset(portraitId, lib.tagByValue('Holiday')?.id ?? lib.tagByValue('Frost')!.id);
  expect(lib.asset(portraitId)!.updatedAt).toBe(before);
  expect(album.updatedAt > albumBefore).toBe(true);
  const described = lib.setDescription(portraitId, '日本 — Мария');
  expect(described.updatedAt > before).toBe(true);

  const { client } = fastClient(sim);
  const details = await client.getAssetDetails(portraitId);
  expect(details.exif.description).toBe('日本 — Мария');
  expect(details.albums).toEqual(['Curie Family', 'Nature']);
  expect(details.faces.map((f) => f.personName)).toEqual(['Maria Skłodowska-Curie', 'Pierre Curie', null]);
  expect(details.tags).toContain('Frost');
  expect(sim.violations()).toEqual([]);
});

test('control endpoints let another process mutate, inject faults and read the state', async () => {
  const { sample, sim } = await sampleSim();
  const http = axios.create({ baseURL: sim.apiUrl, validateStatus: () => true });
  const mutated = await http.post('/__simulator/mutate', { op: 'setRating', args: [sample.entry('picasa.jpg').assetId, 4] });
  expect(mutated.data.result.exif.rating).toBe(4);
  expect((await http.post('/__simulator/mutate', { op: 'constructor', args: [] })).status).toBe(400);
  await http.post('/__simulator/fault', { route: 'GET /server/version', kind: 'status', status: 503 });
  expect((await http.get('/server/version')).status).toBe(503);
  const state = await http.get('/__simulator/state');
  expect(state.data.violations).toEqual([]);
  expect(state.data.counts['GET /server/version']).toBe(1);
  expect(state.data.injected).toEqual([{ route: 'GET /server/version', kind: 'status', status: 503 }]);
});

test('a 100,000-asset synthetic library pages to the end with 1000-asset pages', async () => {
  const synthetic = createSyntheticLibrary(100_000, { photoDir: tempDir('synthetic-') });
  const sim = await startSimulator({ library: synthetic.library });
  cleanup.push(sim);
  const { client } = fastClient(sim, {}, { pageSize: 1000 });
  let count = 0;
  let last = '';
  for await (const page of client.searchAssets({ takenAfter: '2015-01-01T00:00:00Z' })) {
    count += page.length;
    last = page[page.length - 1].id;
  }
  expect(count).toBe(100_000);
  expect(last).toBe(syntheticAssetId(99_999));
  expect(sim.requestCount('POST /search/metadata')).toBe(100);
  // album membership is covered elsewhere; here only the asset itself is read
  const details = await client.getAssetDetails(syntheticAssetId(4), { albums: { kind: 'albums', builtAt: '', sourceCount: 0, byAsset: {} } });
  expect(details.faces).toHaveLength(1);
  expect(details.exif.rating).toBe(4);
  expect(synthetic.library.albums.size).toBe(5);
  expect([...synthetic.library.albums.values()][4].assetIds.has(syntheticAssetId(4))).toBe(true);
  expect(sim.violations()).toEqual([]);
});
