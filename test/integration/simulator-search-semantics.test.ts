/**
 * The simulator's POST /search/metadata follows Immich's semantics (test/simulator/search.ts names the Immich
 * source of each rule) and its SearchBehaviour knobs do what they promise, over real HTTP with every response
 * checked against the OpenAPI spec. Also the library mutations the property tests build on, the control
 * endpoint and the separate-process launcher.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import axios from 'axios';
import { ArrayAssetStore, SimLibrary, uuidFrom, type SimAlbum, type SimAsset } from '../simulator/library';
import { tempDir } from '../simulator/testClient';
import { createSyntheticLibrary, repoRoot, searchBehaviourFromEnv, startSimulator, syntheticAssetId, type SearchBehaviour, type Simulator } from '../simulator';
import { pageRange } from '../simulator/search';

const OWNER = { id: uuidFrom('user:semantics-owner'), email: 'owner@example.com', name: 'Owner' };
const OTHER = { id: uuidFrom('user:semantics-other'), email: 'other@example.com', name: 'Other' };
const PARTNER = { id: uuidFrom('user:semantics-partner'), email: 'partner@example.com', name: 'Partner' };

const running: Simulator[] = [];
afterEach(async () => {
  for (const sim of running) expect(sim.violations()).toEqual([]);
  while (running.length) await running.pop()!.close();
});

function emptyLibrary(): SimLibrary {
  const library = new SimLibrary(new ArrayAssetStore([]), OWNER);
  library.users.set(OTHER.id, OTHER);
  library.users.set(PARTNER.id, PARTNER);
  return library;
}

/** `count` timeline assets taken one minute apart from 2020-01-01T00:00Z (index order = time order). */
function libraryOf(count: number): { library: SimLibrary; assets: SimAsset[] } {
  const library = emptyLibrary();
  const assets = Array.from({ length: count }, (_, i) => library.addAsset({ fileCreatedAt: new Date(Date.UTC(2020, 0, 1, 0, i)).toISOString() }));
  return { library, assets };
}

async function simulator(library: SimLibrary, options: Partial<Parameters<typeof startSimulator>[0]> = {}): Promise<Simulator> {
  const sim = await startSimulator({ library, ...options });
  running.push(sim);
  return sim;
}

const http = (sim: Simulator) => axios.create({ baseURL: sim.apiUrl, validateStatus: () => true, headers: { 'x-api-key': sim.apiKey } });

interface Page {
  ids: string[];
  nextPage: string | null;
}

async function searchOnce(sim: Simulator, body: Record<string, unknown>): Promise<Page> {
  const res = await http(sim).post('/search/metadata', body);
  expect(res.status).toBe(200);
  return { ids: res.data.assets.items.map((a: { id: string }) => a.id), nextPage: res.data.assets.nextPage };
}

/** Follows nextPage like a correct client (stops after `limit` pages for broken servers). */
async function walk(sim: Simulator, body: Record<string, unknown>, limit = 100): Promise<Page[]> {
  const pages: Page[] = [];
  let page: number | null = 1;
  while (page !== null && pages.length < limit) {
    const result = await searchOnce(sim, { ...body, page });
    pages.push(result);
    page = result.nextPage === null ? null : Number(result.nextPage);
  }
  return pages;
}

const ids = (assets: SimAsset[]) => assets.map((a) => a.id);

describe('Immich semantics', () => {
  test('takenAfter / takenBefore filter fileCreatedAt, both bounds inclusive (not createdAt)', async () => {
    const { library, assets } = libraryOf(5);
    const sim = await simulator(library);
    const [, second, , fourth] = assets;
    const body = { order: 'asc', takenAfter: second.fileCreatedAt, takenBefore: fourth.fileCreatedAt };
    expect((await searchOnce(sim, body)).ids).toEqual(ids(assets.slice(1, 4)));
    // createdAt (upload time, now) is far outside that window: the filter did not look at it
    expect(assets.every((a) => a.createdAt > fourth.fileCreatedAt)).toBe(true);
    expect((await searchOnce(sim, { order: 'asc', takenAfter: new Date(Date.parse(fourth.fileCreatedAt) + 1).toISOString() })).ids).toEqual([assets[4].id]);
  });

  test('results are ordered by fileCreatedAt, descending when order is absent, ties by id in the same direction', async () => {
    const { library, assets } = libraryOf(4);
    const tie = '2020-01-01T00:01:00.000Z';
    const twins = [library.addAsset({ fileCreatedAt: tie }), library.addAsset({ fileCreatedAt: tie })];
    const sim = await simulator(library);
    const sortedTwins = ids(twins).sort();
    const asc = [assets[0].id, ...[assets[1].id, ...sortedTwins].sort(), assets[2].id, assets[3].id];
    expect((await searchOnce(sim, { order: 'asc' })).ids).toEqual(asc);
    expect((await searchOnce(sim, {})).ids).toEqual([...asc].reverse());
    expect((await searchOnce(sim, { order: 'desc' })).ids).toEqual([...asc].reverse());
  });

  test('without visibility: timeline, archive and hidden (live-photo videos) are listed, locked and trashed are not', async () => {
    const library = emptyLibrary();
    const byVisibility = Object.fromEntries((['timeline', 'archive', 'hidden', 'locked'] as const).map((v) => [v, library.addAsset({ visibility: v, type: v === 'hidden' ? 'VIDEO' : 'IMAGE' })]));
    const trashed = library.addAsset({});
    library.trashAsset(trashed.id);
    const sim = await simulator(library);
    expect((await searchOnce(sim, {})).ids.sort()).toEqual([byVisibility.timeline.id, byVisibility.archive.id, byVisibility.hidden.id].sort());
    expect((await searchOnce(sim, { visibility: 'hidden' })).ids).toEqual([byVisibility.hidden.id]);
    expect((await searchOnce(sim, { withDeleted: true, visibility: 'timeline' })).ids.sort()).toEqual([byVisibility.timeline.id, trashed.id].sort());
    // trashedAfter implies withDeleted (searchAssetBuilder), so it finds the trashed asset on its own
    expect((await searchOnce(sim, { trashedAfter: '2000-01-01T00:00:00.000Z' })).ids).toEqual([trashed.id]);
    const locked = await http(sim).post('/search/metadata', { visibility: 'locked' });
    expect(locked.status).toBe(401);
    expect(locked.data.message).toBe('Elevated permission is required');
  });

  test('Immich 2.x (mode v2) lists only the timeline when visibility is absent', async () => {
    const library = emptyLibrary();
    const timeline = library.addAsset({});
    library.addAsset({ visibility: 'archive' });
    library.addAsset({ visibility: 'hidden' });
    const sim = await simulator(library, { mode: 'v2' });
    expect((await searchOnce(sim, {})).ids).toEqual([timeline.id]);
  });

  test("a search lists the caller's and timeline partners' assets; with albumIds also other users' assets in a shared album", async () => {
    const library = emptyLibrary();
    const mine = library.addAsset({});
    const theirs = library.addAsset({ ownerId: OTHER.id });
    const partners = library.addAsset({ ownerId: PARTNER.id });
    const album = (name: string, ownerId: string, sharedWithUserIds: string[], assetIds: string[]): SimAlbum => {
      const a: SimAlbum = { id: uuidFrom(`album:${name}`), albumName: name, description: '', createdAt: mine.createdAt, updatedAt: mine.createdAt, assetIds: new Set(assetIds), ownerId, sharedWithUserIds };
      library.albums.set(a.id, a);
      return a;
    };
    const shared = album('Shared with me', OTHER.id, [OWNER.id], [mine.id, theirs.id]);
    const notShared = album('Not mine', OTHER.id, [], [theirs.id]);
    const sim = await simulator(library);
    expect((await searchOnce(sim, {})).ids).toEqual([mine.id]);
    library.setTimelinePartners([PARTNER.id]);
    expect((await searchOnce(sim, {})).ids.sort()).toEqual([mine.id, partners.id].sort());
    expect((await searchOnce(sim, { albumIds: [shared.id] })).ids.sort()).toEqual([mine.id, theirs.id].sort());
    const res = await http(sim).post('/search/metadata', { albumIds: [notShared.id] });
    expect([res.status, res.data.message]).toEqual([400, 'Not found or no album.read access']);
    // the owner id in the search item is the asset's
    const res2 = await http(sim).post('/search/metadata', { albumIds: [shared.id] });
    expect(res2.data.assets.items.find((a: { id: string }) => a.id === theirs.id).ownerId).toBe(OTHER.id);
  });

  test('withExif and the exif filters are inner joins: an asset without extracted metadata never matches them', async () => {
    const library = emptyLibrary();
    const extracted = library.addAsset({});
    const pending = library.addAsset({ exif: null });
    const sim = await simulator(library);
    expect((await searchOnce(sim, {})).ids.sort()).toEqual([extracted.id, pending.id].sort());
    expect((await searchOnce(sim, { withExif: true })).ids).toEqual([extracted.id]);
    expect((await searchOnce(sim, { rating: null })).ids).toEqual([extracted.id]);
    expect((await searchOnce(sim, { city: null })).ids).toEqual([extracted.id]);
    // tagIds: null = assets without tags; originalFileName is ilike with unaccent
    expect((await searchOnce(sim, { tagIds: null })).ids.sort()).toEqual([extracted.id, pending.id].sort());
    const accented = library.addAsset({ originalFileName: 'Crème-Brûlée.JPG' });
    expect((await searchOnce(sim, { originalFileName: 'creme-brulee' })).ids).toEqual([accented.id]);
  });
});

describe('SearchBehaviour knobs', () => {
  test('pageCap: at most N per page whatever size asks, nextPage still leads through every asset once, in order', async () => {
    const { library, assets } = libraryOf(10);
    const sim = await simulator(library, { search: { pageCap: 3 } });
    const pages = await walk(sim, { order: 'asc', size: 1000 });
    expect(pages.map((p) => p.ids.length)).toEqual([3, 3, 3, 1]);
    expect(pages.flatMap((p) => p.ids)).toEqual(ids(assets));
    expect(pages.map((p) => p.nextPage)).toEqual(['2', '3', '4', null]);
  });

  test('pageSizes: successive page sizes cycle, each capped by size; every asset once', async () => {
    const { library, assets } = libraryOf(12);
    const sim = await simulator(library, { search: { pageSizes: [1, 5, 2] } });
    const pages = await walk(sim, { order: 'asc', size: 4 });
    expect(pages.map((p) => p.ids.length)).toEqual([1, 4, 2, 1, 4]);
    expect(pages.flatMap((p) => p.ids)).toEqual(ids(assets));
  });

  test('tieOrder: reverse-id and seeded shuffles reorder only assets sharing a fileCreatedAt', async () => {
    const library = emptyLibrary();
    const before = library.addAsset({ fileCreatedAt: '2020-01-01T00:00:00.000Z' });
    const group = Array.from({ length: 8 }, () => library.addAsset({ fileCreatedAt: '2020-06-01T00:00:00.000Z' }));
    const after = library.addAsset({ fileCreatedAt: '2021-01-01T00:00:00.000Z' });
    const byId = ids(group).sort();
    const sim = await simulator(library, { search: { tieOrder: 'reverse-id' } });
    expect((await searchOnce(sim, { order: 'asc' })).ids).toEqual([before.id, ...[...byId].reverse(), after.id]);
    sim.setSearchBehaviour({ tieOrder: { shuffleSeed: 7 } });
    const first = (await searchOnce(sim, { order: 'asc' })).ids;
    expect(first[0]).toBe(before.id);
    expect(first[9]).toBe(after.id);
    expect([...first.slice(1, 9)].sort()).toEqual(byId);
    expect(first.slice(1, 9)).not.toEqual(byId);
    expect((await searchOnce(sim, { order: 'asc' })).ids).toEqual(first); // same seed, same order
    sim.setSearchBehaviour({ tieOrder: { shuffleSeed: 7, perRequest: true } });
    const orders = new Set<string>();
    for (let i = 0; i < 4; i++) orders.add((await searchOnce(sim, { order: 'asc' })).ids.join());
    expect(orders.size).toBeGreaterThan(1);
  });

  test('repeatBoundaryItem: every later page starts with the previous page last item; nothing is skipped', async () => {
    const { library, assets } = libraryOf(9);
    const sim = await simulator(library, { search: { repeatBoundaryItem: true } });
    const pages = await walk(sim, { order: 'asc', size: 4 });
    for (let i = 1; i < pages.length; i++) expect(pages[i].ids[0]).toBe(pages[i - 1].ids.at(-1));
    expect([...new Set(pages.flatMap((p) => p.ids))]).toEqual(ids(assets));
    expect(pages.flatMap((p) => p.ids).length).toBe(9 + pages.length - 1);
  });

  test('emptyLastPage: the page ending at the last item still says nextPage; the next one is empty with null', async () => {
    const { library, assets } = libraryOf(6);
    const plain = await simulator(library);
    expect((await walk(plain, { order: 'asc', size: 3 })).map((p) => p.nextPage)).toEqual(['2', null]); // Immich: size + 1 rows decide
    const sim = await simulator(library, { search: { emptyLastPage: true } });
    const pages = await walk(sim, { order: 'asc', size: 3 });
    expect(pages.map((p) => [p.ids.length, p.nextPage])).toEqual([
      [3, '2'],
      [3, '3'],
      [0, null],
    ]);
    expect(pages.flatMap((p) => p.ids)).toEqual(ids(assets));
  });

  test('beforePage runs before each page; a mutation there is seen at once (the search cache follows library.version)', async () => {
    const { library, assets } = libraryOf(6);
    const seen: number[] = [];
    let added: SimAsset | undefined;
    const behaviour: SearchBehaviour = {
      beforePage: ({ requestIndex, body }) => {
        seen.push(requestIndex);
        expect(body.order).toBe('asc');
        if (requestIndex === 1) {
          library.deleteAsset(assets[0].id); // everything moves up one: offset paging skips assets[3]
          added = library.addAsset({ fileCreatedAt: '2030-01-01T00:00:00.000Z' });
        }
      },
    };
    const sim = await simulator(library, { search: behaviour });
    const pages = await walk(sim, { order: 'asc', size: 3 });
    expect(seen).toEqual([0, 1]);
    expect(pages.map((p) => p.ids)).toEqual([ids(assets.slice(0, 3)), [assets[4].id, assets[5].id, added!.id]]);
  });

  test('breakContract nextPage-stuck: page 1 says 2, page 2 says 2 again', async () => {
    const { library } = libraryOf(3);
    const sim = await simulator(library, { search: { breakContract: 'nextPage-stuck' } });
    expect((await searchOnce(sim, { page: 1, size: 2 })).nextPage).toBe('2');
    expect((await searchOnce(sim, { page: 2, size: 2 })).nextPage).toBe('2');
    expect((await walk(sim, { size: 2 }, 5)).length).toBe(5);
  });

  test('breakContract out-of-order: page 1 reversed plus an asset before takenAfter; later pages end with the first match', async () => {
    const { library, assets } = libraryOf(6);
    const sim = await simulator(library, { search: { breakContract: 'out-of-order' } });
    const body = { order: 'asc', size: 2, takenAfter: assets[1].fileCreatedAt };
    const pages = await walk(sim, body);
    expect(pages[0].ids).toEqual([assets[2].id, assets[1].id, assets[0].id]);
    expect(pages[1].ids).toEqual([assets[3].id, assets[4].id, assets[1].id]);
  });

  test('page layout: pageRange covers 0..total without gaps for any page sizes (no repeat)', () => {
    for (const behaviour of [{}, { pageCap: 1 }, { pageSizes: [3, 1, 1000] }, { pageCap: 2, emptyLastPage: true }] as SearchBehaviour[]) {
      for (const total of [0, 1, 7, 12]) {
        let covered = 0;
        for (let page = 1; page < 100; page++) {
          const range = pageRange(page, 4, total, behaviour);
          expect(range.start).toBe(Math.min(covered, total));
          covered = range.end;
          if (!range.more) break;
        }
        expect(covered).toBe(total);
      }
    }
  });
});

describe('library mutations', () => {
  test('addAsset, setFileCreatedAt, touchAsset, deleteAsset bump version and updatedAt like Immich', async () => {
    const { library, assets } = libraryOf(3);
    const sim = await simulator(library);
    const v0 = library.version;
    const added = library.addAsset({ fileCreatedAt: '2019-01-01T00:00:00.000Z' });
    expect(added.id).not.toBe(assets[0].id);
    expect(added.originalPath).not.toBe(assets[0].originalPath);
    expect(added.createdAt).toBe(added.updatedAt);
    expect(library.version).toBe(v0 + 1);
    expect((await searchOnce(sim, { order: 'asc' })).ids[0]).toBe(added.id);

    const moved = library.setFileCreatedAt(added.id, '2031-05-05T05:05:05+02:00');
    expect(moved.fileCreatedAt).toBe('2031-05-05T03:05:05.000Z');
    expect(moved.updatedAt > added.updatedAt).toBe(true);
    expect((await searchOnce(sim, { order: 'asc' })).ids.at(-1)).toBe(added.id);

    const touched = library.touchAsset(assets[0].id);
    expect(touched.updatedAt > assets[0].updatedAt).toBe(true);
    expect(touched.fileCreatedAt).toBe(assets[0].fileCreatedAt);
    expect((await searchOnce(sim, { updatedAfter: touched.updatedAt })).ids).toEqual([assets[0].id]);

    const album: SimAlbum = { id: uuidFrom('album:x'), albumName: 'x', description: '', createdAt: added.createdAt, updatedAt: added.createdAt, assetIds: new Set([added.id]) };
    library.albums.set(album.id, album);
    const v1 = library.version;
    library.deleteAsset(added.id);
    expect(library.version).toBe(v1 + 1);
    expect(library.asset(added.id)).toBeUndefined();
    expect(album.assetIds.has(added.id)).toBe(false);
    expect((await searchOnce(sim, {})).ids).not.toContain(added.id);
    expect((await http(sim).get(`/assets/${added.id}`)).status).toBe(400);
  });

  test('a synthetic library adds and deletes too, keeping ids and positions consistent', async () => {
    const syn = createSyntheticLibrary(20, { photoDir: tempDir('semantics-syn-'), copyFiles: false });
    const lib = syn.library;
    const added = lib.addAsset({});
    lib.deleteAsset(syntheticAssetId(3));
    lib.deleteAsset(syntheticAssetId(0));
    const [, second] = [lib.addAsset({}), lib.addAsset({})];
    lib.deleteAsset(added.id);
    expect(lib.assets.size).toBe(20);
    const all = [...lib.allAssets()].map((a) => a.id);
    expect(new Set(all).size).toBe(20);
    expect(all).not.toContain(syntheticAssetId(3));
    expect(all).toContain(second.id);
    all.forEach((id, i) => expect(lib.assets.indexOf(id)).toBe(i));
    expect(lib.setRating(syntheticAssetId(5), 3).exif?.rating).toBe(3);
    expect(lib.asset(syntheticAssetId(5))?.exif?.rating).toBe(3);
  });
});

describe('out of process', () => {
  test('control endpoints set the behaviour and run the new mutations', async () => {
    const { library, assets } = libraryOf(5);
    const sim = await simulator(library);
    const control = axios.create({ baseURL: `${sim.apiUrl}/__simulator`, validateStatus: () => true });
    expect((await control.post('/search-behaviour', { pageCap: 2 })).status).toBe(200);
    expect((await walk(sim, { order: 'asc' })).map((p) => p.ids.length)).toEqual([2, 2, 1]);
    const bad = await control.post('/search-behaviour', { pageCap: 0 });
    expect([bad.status, bad.data.message]).toEqual([400, 'search behaviour: pageCap must be an integer ≥ 1']);
    expect((await control.post('/search-behaviour', { beforePage: 'x' })).status).toBe(400);
    const added = await control.post('/mutate', { op: 'addAsset', args: [{ fileCreatedAt: '2010-01-01T00:00:00.000Z' }] });
    expect(added.status).toBe(200);
    expect((await control.post('/mutate', { op: 'setFileCreatedAt', args: [assets[0].id, '2040-01-01T00:00:00.000Z'] })).status).toBe(200);
    expect((await control.post('/mutate', { op: 'touchAsset', args: [assets[1].id] })).status).toBe(200);
    expect((await control.post('/mutate', { op: 'deleteAsset', args: [assets[2].id] })).status).toBe(200);
    await control.post('/search-behaviour', {});
    expect((await searchOnce(sim, { order: 'asc' })).ids).toEqual([added.data.result.id, assets[1].id, assets[3].id, assets[4].id, assets[0].id]);
  });

  test('the launcher takes --page-cap (and IMMICH_SIM_PAGE_CAP / IMMICH_SIM_SEARCH)', async () => {
    expect(searchBehaviourFromEnv({ IMMICH_SIM_PAGE_CAP: '5', IMMICH_SIM_SEARCH: '{"emptyLastPage":true}' })).toEqual({ pageCap: 5, emptyLastPage: true });
    expect(() => searchBehaviourFromEnv({ IMMICH_SIM_SEARCH: '{"pageSizes":[]}' })).toThrow('pageSizes');
    const child = spawn(process.execPath, [path.join(repoRoot(), 'dist/test/simulator/main.js'), '--page-cap', '2', '--photo-dir', tempDir('semantics-launcher-')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(out.split('\n')[0]);
        });
        child.once('exit', (code) => reject(new Error(`launcher exited ${code}`)));
      });
      const info = JSON.parse(line) as { apiUrl: string; apiKey: string; assets: number };
      const res = await axios.post(`${info.apiUrl}/search/metadata`, { size: 1000 }, { headers: { 'x-api-key': info.apiKey } });
      expect([res.data.assets.count, res.data.assets.nextPage]).toEqual([2, '2']);
      const state = await axios.get(`${info.apiUrl}/__simulator/state`);
      expect(state.data.violations).toEqual([]);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
