/**
 * The simulator's v3.2 mode (derived from @immich/sdk 3.2.2, see test/simulator/spec-v3.2.ts) with the client:
 * version, the filter/cursor/orderBy search with nextCursor, the deprecated flat fields, mixing as a 400, and
 * faces of a shared face cluster answering `person: null`. Every test but the one that provokes them ends
 * with zero spec violations.
 */
import axios from 'axios';
import { collect, fastClient, tempDir } from '../simulator/testClient';
import { createSampleLibrary, SAMPLE_PEOPLE, startSimulator, type SampleLibrary, type Simulator } from '../simulator';

let sample: SampleLibrary;
let sim: Simulator;
let expectViolations = false;

beforeEach(async () => {
  sample = createSampleLibrary({ photoDir: tempDir('sim-v32-') });
  sim = await startSimulator({ library: sample.library, api: '3.2' });
  expectViolations = false;
});

afterEach(async () => {
  if (!expectViolations) expect(sim.violations()).toEqual([]);
  await sim.close();
});

function http() {
  return axios.create({ baseURL: sim.apiUrl, headers: { 'x-api-key': sim.apiKey }, validateStatus: () => true });
}

test('GET /server/version answers 3.2.2 and GET /users/me the cluster group', async () => {
  expect(sim.api).toBe('3.2');
  expect((await http().get('/server/version')).data).toEqual({ major: 3, minor: 2, patch: 2, prerelease: null });
  expect((await http().get('/users/me')).data).toMatchObject({ clusterGroupId: expect.any(String) });
});

test('the client lists the same assets as from a v3.1 server, in the filter shape, paging by nextCursor', async () => {
  const v31 = await startSimulator({ library: sample.library, api: '3.1' });
  try {
    const old = (await fastClient(v31).client.collectAssets({ withExif: true })).map((a) => a.id);
    sim.setSearchBehaviour({ pageCap: 4 });
    const listed = (await collect(fastClient(sim, {}, { pageSize: 4 }).client.searchAssets({ withExif: true }))).map((a) => a.id);
    expect(listed).toEqual(old);
    expect(v31.violations()).toEqual([]);
  } finally {
    await v31.close();
  }
  const searches = sim.requests('POST /search/metadata');
  expect(searches.length).toBeGreaterThan(2);
  const bodies = searches.map((r) => r.body as Record<string, unknown>);
  expect(bodies[0]).toEqual({ filter: {}, orderBy: { field: 'fileCreatedAt', direction: 'asc' }, withExif: true, size: 4 });
  expect(bodies.slice(1).every((b) => typeof b.cursor === 'string' && !('page' in b))).toBe(true);
});

test('the flat fields are still accepted (deprecated) and answer nextPage; nextCursor is then null', async () => {
  const flat = await http().post('/search/metadata', { order: 'asc', size: 5, page: 1, takenAfter: '2000-01-01T00:00:00.000Z' });
  expect(flat.status).toBe(200);
  expect(flat.data.assets).toMatchObject({ nextPage: '2', nextCursor: null });
  const shaped = await http().post('/search/metadata', { filter: { takenAt: { gte: '2000-01-01T00:00:00.000Z' } }, orderBy: { direction: 'asc' }, size: 5 });
  expect(shaped.status).toBe(200);
  expect(shaped.data.assets.nextPage).toBeNull();
  expect(typeof shaped.data.assets.nextCursor).toBe('string');
  expect(shaped.data.assets.items.map((a: { id: string }) => a.id)).toEqual(flat.data.assets.items.map((a: { id: string }) => a.id));
});

test('mixing the new shape with flat fields is a 400 with an Immich error body, recorded as a violation', async () => {
  expectViolations = true;
  const mixed = await http().post('/search/metadata', { filter: { takenAt: { gte: '2000-01-01T00:00:00.000Z' } }, takenBefore: '2030-01-01T00:00:00.000Z', page: 2 });
  expect(mixed.status).toBe(400);
  expect(mixed.data).toMatchObject({ error: 'Bad Request', statusCode: 400, message: [expect.stringMatching(/takenBefore, page cannot be combined with filter/)] });
  expect(sim.violations()).toEqual([{ route: 'POST /search/metadata', direction: 'request', problems: [expect.stringMatching(/cannot be combined/)] }]);
});

test('a cursor sent with another filter, or made up, is a 400', async () => {
  expectViolations = true;
  const first = await http().post('/search/metadata', { filter: {}, orderBy: { direction: 'asc' }, size: 2 });
  const cursor = first.data.assets.nextCursor as string;
  expect((await http().post('/search/metadata', { filter: {}, orderBy: { direction: 'asc' }, size: 2, cursor })).status).toBe(200);
  expect((await http().post('/search/metadata', { filter: { isFavorite: { eq: true } }, orderBy: { direction: 'asc' }, size: 2, cursor })).status).toBe(400);
  expect((await http().post('/search/metadata', { filter: {}, cursor: '2' })).status).toBe(400);
});

test('a face of a person in a shared face cluster answers person: null and leaves the asset\'s people; v3.1 still shows them', async () => {
  const portrait = sample.entry('metadata/faces/portrait.jpg');
  sample.library.setPersonInSharedCluster(SAMPLE_PEOPLE.pierre.id, true);
  const details = await fastClient(sim).client.getAssetDetails(portrait.assetId);
  expect(details.sharedFaceClusters).toBe(true);
  expect(details.people.map((p) => p.name)).toEqual(['Marie Curie']);
  expect(details.faces.filter((f) => f.personId === null)).toHaveLength(1);
  const faces = (await http().get('/faces', { params: { id: portrait.assetId } })).data as Array<{ person: unknown }>;
  expect(faces.filter((f) => f.person === null)).toHaveLength(1);

  const v31 = await startSimulator({ library: sample.library, api: '3.1' });
  try {
    const old = await fastClient(v31).client.getAssetDetails(portrait.assetId);
    expect(old.sharedFaceClusters).toBeUndefined();
    expect(old.people.map((p) => p.name).sort()).toEqual(['Marie Curie', 'Pierre Curie']);
  } finally {
    await v31.close();
  }
});

test('IMMICH_SIM_API chooses the version of a simulator that does not', async () => {
  const saved = process.env.IMMICH_SIM_API;
  process.env.IMMICH_SIM_API = '3.2';
  try {
    const fromEnv = await startSimulator({ library: sample.library });
    expect(fromEnv.api).toBe('3.2');
    await fromEnv.close();
    process.env.IMMICH_SIM_API = '4.0';
    await expect(startSimulator({ library: sample.library })).rejects.toThrow(/IMMICH_SIM_API="4.0"/);
  } finally {
    if (saved === undefined) delete process.env.IMMICH_SIM_API;
    else process.env.IMMICH_SIM_API = saved;
  }
});
