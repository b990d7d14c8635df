/**
 * The Immich client against the spec-checked simulator: paging, filters, retries, errors, URL forms,
 * v2/v3 face shapes, album/tag membership cost. Every test ends with zero spec violations.
 */
import { inspect } from 'node:util';
import { ImmichApiError } from '../../lib/immich/errors';
import type { ImmichAssetSummary } from '../../lib/immich/types';
import { readSearchRequest } from '../simulator/search-v3.2';
import { collect, fastClient, tempDir } from '../simulator/testClient';
import { createSampleLibrary, createSyntheticLibrary, SAMPLE_PEOPLE, startSimulator, type SampleLibrary, type Simulator } from '../simulator';

let sample: SampleLibrary;
let sim: Simulator;

beforeEach(async () => {
  sample = createSampleLibrary({ photoDir: tempDir('client-sim-') });
  sim = await startSimulator({ library: sample.library });
});

afterEach(async () => {
  expect(sim.violations()).toEqual([]);
  await sim.close();
});

async function expectImmichError(promise: Promise<unknown>): Promise<ImmichApiError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ImmichApiError);
    return error as ImmichApiError;
  }
  throw new Error('expected the call to fail');
}

function expectNoSecret(error: unknown, secret: string) {
  for (const text of [String(error), JSON.stringify(error), inspect(error, { depth: 5 }), (error as Error).stack ?? '']) {
    expect(text).not.toContain(secret);
  }
}

describe('search paging', () => {
  test('walks every page, one request per page, each asset once', async () => {
    const { client } = fastClient(sim, {}, { pageSize: 4 });
    const all = await collect(client.searchAssets());
    // Immich v3 without `visibility`: everything but trashed and locked assets (hidden live-photo videos too)
    const visible = [...sample.library.allAssets()].filter((a) => a.deletedAt === null && a.visibility !== 'locked');
    expect(all.map((a) => a.id).sort()).toEqual(visible.map((a) => a.id).sort());
    expect(sim.requestCount('POST /search/metadata')).toBe(Math.ceil(visible.length / 4));
    // the page each request asked for, as the server reads it (a page number, or a v3.2 cursor)
    const pages = sim.requests('POST /search/metadata').map((r) => readSearchRequest(r.body as Record<string, unknown>).flat.page);
    expect(pages).toEqual(Array.from({ length: pages.length }, (_, i) => i + 1));
    // oldest first by capture time
    const times = all.map((a) => Date.parse(a.fileCreatedAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  test('asks for the next page only when the consumer wants it', async () => {
    const { client } = fastClient(sim, {}, { pageSize: 3 });
    const pages = client.searchAssets();
    const first = await pages.next();
    expect(first.value).toHaveLength(3);
    expect(sim.requestCount('POST /search/metadata')).toBe(1);
    await pages.return(undefined);
    expect(sim.requestCount('POST /search/metadata')).toBe(1);
  });

  test('collectAssets stops at the limit', async () => {
    const { client } = fastClient(sim, {}, { pageSize: 250 });
    const five = await client.collectAssets({}, 5);
    expect(five).toHaveLength(5);
    expect((sim.requests('POST /search/metadata')[0].body as { size: number }).size).toBe(5);
  });

  test('a server whose pages never end is stopped with a clear error', async () => {
    sim.inject({ route: 'POST /search/metadata', kind: 'endless-pages', times: 50 });
    const { client } = fastClient(sim, {}, { pageSize: 10 });
    const error = await expectImmichError(collect(client.searchAssets()));
    expect(error.message).toMatch(/paging does not advance/);
    expect(sim.requestCount('POST /search/metadata')).toBeLessThan(5);
  });

  test('withExif leaves out assets whose metadata was not extracted (Immich inner join)', async () => {
    const { client } = fastClient(sim);
    const notExtracted = sample.entry('date-priority-test.jpg').assetId;
    const plain = await client.collectAssets({});
    const withExif = await client.collectAssets({ withExif: true, withPeople: true });
    expect(plain.map((a) => a.id)).toContain(notExtracted);
    expect(withExif.map((a) => a.id)).not.toContain(notExtracted);
    const portrait = withExif.find((a) => a.originalFileName === 'portrait.jpg')!;
    expect(portrait.exif?.description).toBe('Мария и Пьер Кюри');
    expect(portrait.people?.map((p) => p.name).sort()).toEqual(['Marie Curie', 'Pierre Curie']);
    expect(plain.find((a) => a.originalFileName === 'portrait.jpg')!.exif).toBeNull();
  });
});

describe('filters', () => {
  test('are mapped onto the request body the server receives', async () => {
    const { client } = fastClient(sim, {}, { pageSize: 100 });
    const nature = sample.library.albumByName('Nature')!.id;
    await client.collectAssets({
      type: 'IMAGE',
      updatedAfter: '2020-01-01T00:00:00+02:00',
      updatedBefore: '2030-01-01',
      takenAfter: '2000-01-01T00:00:00Z',
      takenBefore: '2029-12-31T23:59:59.999Z',
      albumIds: [nature],
      personIds: [SAMPLE_PEOPLE.marie.id],
      isFavorite: true,
      visibility: 'timeline',
      withExif: true,
      withPeople: true,
      order: 'desc',
    });
    // as the server reads it: the flat fields (v3.1), or the v3.2 filter shape read back into them
    // (withDeleted left out means false, as on Immich)
    expect({ withDeleted: false, ...readSearchRequest(sim.requests('POST /search/metadata')[0].body as Record<string, unknown>).flat }).toEqual({
      type: 'IMAGE',
      updatedAfter: '2019-12-31T22:00:00.000Z',
      updatedBefore: '2030-01-01T00:00:00.000Z',
      takenAfter: '2000-01-01T00:00:00.000Z',
      takenBefore: '2029-12-31T23:59:59.999Z',
      albumIds: [nature],
      personIds: [SAMPLE_PEOPLE.marie.id],
      isFavorite: true,
      visibility: 'timeline',
      withExif: true,
      withPeople: true,
      withDeleted: false,
      order: 'desc',
      page: 1,
      size: 100,
    });
  });

  test('select the right assets', async () => {
    const { client } = fastClient(sim);
    const names = (assets: ImmichAssetSummary[]) => assets.map((a) => a.originalFileName).sort();
    expect(names(await client.collectAssets({ isFavorite: true }))).toEqual(['picasa.jpg', 'portrait.jpg']);
    expect(names(await client.collectAssets({ albumIds: [sample.library.albumByName('Nature')!.id] }))).toEqual(['cyclamen_persicum.jpg', 'el_torcal_rocks.jpg']);
    expect(names(await client.collectAssets({ personIds: [SAMPLE_PEOPLE.pierre.id] }))).toEqual(['portrait-orientation-6.jpg', 'portrait.jpg']);
    expect(names(await client.collectAssets({ type: 'VIDEO' }))).toEqual(['future42603.mp4']);
    expect(names(await client.collectAssets({ visibility: 'archive' }))).toEqual(['mongolels.jpg']);
    expect(names(await client.collectAssets({ tagIds: [sample.library.tagByValue('Travel')!.id] }))).toEqual(['IMG_2682.heic', 'mongolels.jpg']);
    expect(names(await client.collectAssets({ takenAfter: '2022-01-01T00:00:00Z', takenBefore: '2022-12-31T23:59:59Z' }))).toEqual(['8bit-sRGB.avif', 'thompson-springs.jpg']);
    // trashed assets are excluded unless asked for
    expect(names(await client.collectAssets({}))).not.toContain('empty_gps.jpg');
    expect(names(await client.collectAssets({ includeTrashed: true }))).toContain('empty_gps.jpg');
  });

  test('updatedAfter is inclusive and moves with asset edits, not with person renames', async () => {
    const { client } = fastClient(sim);
    const portrait = sample.entry('portrait.jpg').assetId;
    const edited = sample.library.setRating(portrait, 1);
    const changed = await client.collectAssets({ updatedAfter: edited.updatedAt });
    expect(changed.map((a) => a.id)).toEqual([portrait]);
    const renamed = sample.library.renamePerson(SAMPLE_PEOPLE.pierre.id, 'Pierre Curie (physicist)');
    expect((await client.collectAssets({ updatedAfter: renamed.updatedAt })).map((a) => a.id)).toEqual([]);
    const people = await client.listPeople();
    expect(people.find((p) => p.id === SAMPLE_PEOPLE.pierre.id)!.updatedAt).toBe(renamed.updatedAt);
  });

  test('a bad filter fails before any request, naming the field', async () => {
    const { client } = fastClient(sim);
    await expect(client.collectAssets({ takenAfter: 'yesterday-ish' })).rejects.toThrow(/takenAfter "yesterday-ish" is not a date/);
    await expect(client.collectAssets({ albumIds: ['Nature'] })).rejects.toThrow(/"Nature" in albumIds is not an Immich id/);
    expect(sim.requestCount('POST /search/metadata')).toBe(0);
  });
});

describe('retries and errors', () => {
  test('retries 503 with back-off, then succeeds', async () => {
    sim.inject({ route: 'POST /search/metadata', kind: 'status', status: 503, times: 2 });
    const { client, waits } = fastClient(sim);
    const assets = await client.collectAssets({});
    expect(assets.length).toBeGreaterThan(10);
    expect(sim.requestCount('POST /search/metadata')).toBe(3);
    expect(waits).toHaveLength(2);
    expect(sim.injected().filter((f) => f.status === 503)).toHaveLength(2);
  });

  test('honours Retry-After on 429 (capped)', async () => {
    sim.inject({ route: 'GET /server/version', kind: 'status', status: 429, retryAfter: 2 });
    sim.inject({ route: 'GET /server/version', kind: 'status', status: 429, retryAfter: 7200 });
    const { client, waits } = fastClient(sim);
    expect((await client.serverVersion()).major).toBe(3);
    expect(waits).toEqual([2000, 60_000]);
  });

  test('gives up after the retry cap with the status in the message', async () => {
    sim.inject({ route: 'POST /search/metadata', kind: 'status', status: 500, times: 10 });
    const { client } = fastClient(sim, { retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    const error = await expectImmichError(client.collectAssets({}));
    expect(error.kind).toBe('server');
    expect(error.attempts).toBe(3);
    expect(error.message).toMatch(/HTTP 500 on POST \/search\/metadata after 3 attempt/);
    expect(sim.requestCount('POST /search/metadata')).toBe(3);
  });

  test('retries connection resets and timeouts', async () => {
    sim.inject({ route: 'GET /assets/{id}', kind: 'reset' });
    // margins wide enough for a busy CI machine: normal answers take milliseconds
    sim.inject({ route: 'GET /assets/{id}', kind: 'delay', delayMs: 4000 });
    const { client, waits } = fastClient(sim, { timeoutMs: 1500 });
    const details = await client.getAssetDetails(sample.entry('portrait.jpg').assetId);
    expect(details.originalFileName).toBe('portrait.jpg');
    expect(sim.requestCount('GET /assets/{id}')).toBe(3);
    expect(waits).toHaveLength(2);
  });

  test('a connection that keeps failing ends in a network error naming the code', async () => {
    sim.inject({ route: 'GET /server/version', kind: 'reset', times: 10 });
    const { client } = fastClient(sim, { retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 1 } });
    const error = await expectImmichError(client.serverVersion());
    expect(error.kind).toBe('network');
    expect(error.message).toMatch(/ECONNRESET/);
  });

  test('401 names the API key and is not retried', async () => {
    const { client } = fastClient({ url: sim.url, apiKey: 'wrong-key-1234567890' });
    const error = await expectImmichError(client.collectAssets({}));
    expect(error.kind).toBe('unauthorized');
    expect(error.message).toMatch(/API key/);
    expect(sim.requestCount('POST /search/metadata')).toBe(1);
    expectNoSecret(error, 'wrong-key-1234567890');
  });

  test('403 names the missing permission from the spec', async () => {
    await sim.close();
    sim = await startSimulator({ library: sample.library, permissions: ['asset.read', 'album.read'] });
    const { client } = fastClient(sim);
    const error = await expectImmichError(client.getAssetDetails(sample.entry('portrait.jpg').assetId));
    expect(error.kind).toBe('forbidden');
    expect(error.message).toContain('"face.read"');
    const people = await expectImmichError(client.listPeople());
    expect(people.message).toContain('"person.read"');
    expect(sim.requestCount('GET /faces')).toBe(1);
  });

  test('an unknown asset fails naming the asset (Immich answers 400 or 404)', async () => {
    const { client } = fastClient(sim);
    const missing = '0f0e0d0c-0b0a-4909-8807-060504030201';
    const error = await expectImmichError(client.getAssetDetails(missing));
    expect(error.kind).toBe('not-found');
    expect(error.message).toContain(missing);
    sim.inject({ route: 'GET /assets/{id}', kind: 'status', status: 404 });
    const existing = sample.entry('portrait.jpg').assetId;
    const injected = await expectImmichError(client.getAssetDetails(existing));
    expect(injected.message).toContain(existing);
    expect(injected.status).toBe(404);
  });

  test('an id that is not a UUID fails before any request', async () => {
    const { client } = fastClient(sim);
    await expect(client.getAssetDetails('portrait.jpg')).rejects.toThrow(/"portrait.jpg" is not an Immich asset id/);
    expect(sim.requestCount('GET /assets/{id}')).toBe(0);
  });

  test('malformed JSON and schema-breaking bodies become clear errors', async () => {
    const { client } = fastClient(sim);
    sim.inject({ route: 'POST /search/metadata', kind: 'malformed-json' });
    const malformed = await expectImmichError(client.collectAssets({}));
    expect(malformed.kind).toBe('malformed-response');
    expect(malformed.message).toMatch(/not valid JSON/);
    sim.inject({ route: 'POST /search/metadata', kind: 'schema-break' });
    await expect(client.collectAssets({})).rejects.toThrow(/assets.items is missing/);
    sim.inject({ route: 'GET /assets/{id}', kind: 'schema-break' });
    await expect(client.getAssetDetails(sample.entry('portrait.jpg').assetId)).rejects.toThrow(/not the requested asset/);
    expect(sim.injected().map((f) => f.kind)).toEqual(['malformed-json', 'schema-break', 'schema-break']);
  });

  test('the API key never appears in any error', async () => {
    const { client } = fastClient(sim, { retry: { maxRetries: 0, baseDelayMs: 1, maxDelayMs: 1 } });
    const faults = [
      { route: 'POST /search/metadata', kind: 'status' as const, status: 500 },
      { route: 'POST /search/metadata', kind: 'status' as const, status: 403 },
      { route: 'POST /search/metadata', kind: 'status' as const, status: 401 },
      { route: 'POST /search/metadata', kind: 'reset' as const },
      { route: 'POST /search/metadata', kind: 'malformed-json' as const },
      { route: 'POST /search/metadata', kind: 'status' as const, status: 429 },
    ];
    for (const fault of faults) {
      sim.inject(fault);
      const error = await expectImmichError(client.collectAssets({}));
      expectNoSecret(error, sim.apiKey);
    }
  });
});

describe('URL forms', () => {
  test.each(['', '/', '/api', '/api/', '//'])('server URL + "%s" finds the API under /api', async (suffix) => {
    const { client } = fastClient({ url: sim.url + suffix, apiKey: sim.apiKey });
    expect((await client.serverVersion()).major).toBe(3);
    expect(await client.collectAssets({}, 2)).toHaveLength(2);
    expect(sim.requestCount('GET /server/ping')).toBe(1);
  });

  test('an API served at the root is found after /api fails', async () => {
    const rootSim = await startSimulator({ library: sample.library, mount: 'root' });
    try {
      const { client, transport } = fastClient(rootSim);
      expect(await transport.apiRoot()).toBe(rootSim.url);
      expect(await client.collectAssets({}, 1)).toHaveLength(1);
      expect(rootSim.violations()).toEqual([]);
    } finally {
      await rootSim.close();
    }
  });

  test('a URL without Immich fails with advice about the URL', async () => {
    const { client } = fastClient({ url: `${sim.url}/not-immich`, apiKey: sim.apiKey });
    const error = await expectImmichError(client.serverVersion());
    expect(error.kind).toBe('unreachable');
    expect(error.message).toMatch(/Check the URL in the Immich credential/);
  });

  test('a URL that is not a URL fails at once', () => {
    expect(() => fastClient({ url: 'photos.example.com', apiKey: 'k' })).toThrow(/not a valid URL/);
  });
});

describe('asset details', () => {
  const expectedCurie = [
    { personName: 'Marie Curie', x1: 261, y1: 146, x2: 356, y2: 284, imageWidth: 840, imageHeight: 700, sourceType: 'exif' },
    { personName: 'Pierre Curie', x1: 536, y1: 83, x2: 618, y2: 252, imageWidth: 840, imageHeight: 700, sourceType: 'exif' },
  ];

  test('v3: faces from GET /faces with person, box, frame and source; tags and albums', async () => {
    const { client } = fastClient(sim);
    const details = await client.getAssetDetails(sample.entry('portrait-orientation-6.jpg').assetId);
    expect(details.serverMajor).toBe(3);
    expect(details.faces.map(({ personName, x1, y1, x2, y2, imageWidth, imageHeight, sourceType }) => ({ personName, x1, y1, x2, y2, imageWidth, imageHeight, sourceType }))).toEqual(expectedCurie);
    expect(details.exif.orientation).toBe('6');
    expect(details.tags).toEqual(['People/Marie Curie', 'People/Pierre Curie']);
    expect(details.albums).toEqual(['Curie Family']);
    expect(sim.requestCount('GET /faces')).toBe(1);
  });

  test('v2: the same faces read from people[].faces and unassignedFaces, without GET /faces', async () => {
    sim.mode = 'v2';
    const { client } = fastClient(sim);
    const v2 = await client.getAssetDetails(sample.entry('portrait-orientation-6.jpg').assetId);
    expect(v2.serverMajor).toBe(2);
    expect(v2.faces.map(({ personName, x1, y1, x2, y2, imageWidth, imageHeight, sourceType }) => ({ personName, x1, y1, x2, y2, imageWidth, imageHeight, sourceType }))).toEqual(expectedCurie);
    const solvay = await client.getAssetDetails(sample.entry('solvay.jpg').assetId);
    expect(solvay.faces.filter((f) => f.personId === null)).toHaveLength(1);
    expect(sim.requestCount('GET /faces')).toBe(0);

    sim.mode = 'v3';
    const v3 = await fastClient(sim).client.getAssetDetails(sample.entry('solvay.jpg').assetId);
    const key = (f: { id: string }) => f.id;
    expect([...v3.faces].sort((a, b) => key(a).localeCompare(key(b)))).toEqual([...solvay.faces].sort((a, b) => key(a).localeCompare(key(b))));
  });

  test('unnamed, hidden and unassigned faces, the machine-learning duplicate, isEdited', async () => {
    const { client } = fastClient(sim);
    const solvay = await client.getAssetDetails(sample.entry('solvay.jpg').assetId);
    expect(solvay.faces.find((f) => f.personId === SAMPLE_PEOPLE.unnamed.id)!.personName).toBeNull();
    expect(solvay.faces.find((f) => f.personId === SAMPLE_PEOPLE.hidden.id)!.personHidden).toBe(true);
    expect(solvay.faces.find((f) => f.personId === null)!.personName).toBeNull();
    const portrait = await client.getAssetDetails(sample.entry('portrait.jpg').assetId);
    expect(portrait.faces.filter((f) => f.personName === 'Marie Curie').map((f) => f.sourceType).sort()).toEqual(['exif', 'machine-learning']);
    expect((await client.getAssetDetails(sample.entry('denali.webp').assetId)).isEdited).toBe(true);
  });

  test('details of many assets: album map built once, one failure does not stop the rest', async () => {
    const { client } = fastClient(sim, {}, { concurrency: 3 });
    const ids = sample.entries.slice(0, 8).map((e) => e.assetId);
    const results = await client.getManyAssetDetails([...ids, '0f0e0d0c-0b0a-4909-8807-060504030201']);
    expect(results.slice(0, 8).every((r) => r.ok)).toBe(true);
    expect(results[8].ok).toBe(false);
    expect(sim.requestCount('GET /albums')).toBe(1);
    expect(sim.requestCount('GET /server/version')).toBe(1);
    expect(sim.requestCount('GET /assets/{id}')).toBe(9);
  });
});

describe('membership maps', () => {
  test('album membership of the sample library; serializable', async () => {
    const { client } = fastClient(sim);
    const map = await client.albumMembership();
    expect(map.kind).toBe('albums');
    expect(map.byAsset[sample.entry('portrait.jpg').assetId]).toEqual(['Curie Family']);
    expect(map.byAsset[sample.entry('IMG_2682.heic').assetId]).toEqual(['Reise 2022 · 日本']);
    expect(JSON.parse(JSON.stringify(map))).toEqual(map);
    // the empty album costs no search
    expect(sim.requestCount('POST /search/metadata')).toBe(3);
  });

  test('tag membership keeps leaf tags per asset', async () => {
    const { client } = fastClient(sim);
    const map = await client.tagMembership();
    expect(map.byAsset[sample.entry('IMG_2682.heic').assetId]).toEqual(['Travel/Japan/東京']);
    expect(map.byAsset[sample.entry('portrait.jpg').assetId]).toEqual(['People/Marie Curie', 'People/Pierre Curie']);
    expect(map.byAsset[sample.entry('picasa.jpg').assetId]).toEqual(['Frost', 'Yard']);
  });

  test.each([
    [50, 500],
    [60, 900],
  ])('album membership costs the same number of requests for %i and %i assets', async (small, large) => {
    const counts: number[] = [];
    for (const n of [small, large]) {
      const synthetic = createSyntheticLibrary(n, { photoDir: tempDir('syn-'), copyFiles: false, albumCount: 5 });
      const s = await startSimulator({ library: synthetic.library });
      try {
        const { client } = fastClient(s);
        const map = await client.albumMembership();
        // asset i is in album i mod 10 when that album exists (5 albums)
        expect(Object.keys(map.byAsset)).toHaveLength(Array.from({ length: n }, (_, i) => i % 10 < 5).filter(Boolean).length);
        counts.push(s.requestCount() - s.requestCount('GET /server/ping'));
        expect(s.violations()).toEqual([]);
      } finally {
        await s.close();
      }
    }
    expect(counts[0]).toBe(counts[1]);
    // GET /albums, one search per album, and the version once per client (it decides the search shape)
    expect(counts[0]).toBe(1 + 5 + 1);
  });
});
