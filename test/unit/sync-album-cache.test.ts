import {
  AlbumListing,
  AlbumMembership,
  albumsChangedSince,
  clearAlbumCache,
  diffMembership,
  getAlbumMembership,
  isAlbumCacheFresh,
  parseAlbumCache,
} from '../../lib/sync/albumCache';

const HOUR = 3600 * 1000;

describe('album cache', () => {
  it('fetches when empty, serves from cache within the TTL, refetches after it and reports changed assets', async () => {
    let calls = 0;
    let server: AlbumMembership = { a: ['Trip'], b: ['Trip', 'Family'] };
    const fetch = async (): Promise<AlbumMembership> => {
      calls += 1;
      return JSON.parse(JSON.stringify(server));
    };
    const first = await getAlbumMembership(null, '2026-01-01T00:00:00Z', 24 * HOUR, fetch);
    expect(first).toMatchObject({ refreshed: true, changedAssetIds: [], membership: { a: ['Trip'], b: ['Family', 'Trip'] } });
    expect(first.cache.fetchedAt).toBe('2026-01-01T00:00:00.000Z');

    server = { b: ['Trip'], c: ['Trip'] };
    const cached = await getAlbumMembership(first.cache, '2026-01-01T23:59:00Z', 24 * HOUR, fetch);
    expect(cached.refreshed).toBe(false);
    expect(cached.membership).toEqual(first.membership);
    expect(calls).toBe(1);

    const stale = await getAlbumMembership(JSON.parse(JSON.stringify(cached.cache)), '2026-01-02T00:00:00Z', 24 * HOUR, fetch);
    expect(stale.refreshed).toBe(true);
    expect(calls).toBe(2);
    expect(stale.changedAssetIds).toEqual(['a', 'b', 'c']);
    expect(stale.cache.fetchedAt).toBe('2026-01-02T00:00:00.000Z');
  });

  it('clearing it forces a fetch but keeps the old membership as the baseline of the diff', async () => {
    expect(clearAlbumCache()).toBeNull();
    expect(clearAlbumCache(null)).toBeNull();
    const fresh = { fetchedAt: '2026-01-01T00:00:00.000Z', membership: { a: ['X'], b: ['Y'] } };
    const cleared = clearAlbumCache(fresh);
    expect(isAlbumCacheFresh(cleared, '2026-01-01T00:00:01Z', 24 * HOUR)).toBe(false);
    const result = await getAlbumMembership(cleared, '2026-01-01T00:00:01Z', 24 * HOUR, async () => ({ a: ['X'], b: ['Z'] }));
    expect(result.refreshed).toBe(true);
    expect(result.changedAssetIds).toEqual(['b']);
    const fromNothing = await getAlbumMembership(clearAlbumCache(), '2026-01-01T00:00:01Z', 24 * HOUR, async () => ({ a: ['X'] }));
    expect(fromNothing.changedAssetIds).toEqual([]);
  });

  it('treats a cache from the future, a broken value, or a zero TTL as stale', () => {
    const cache = { fetchedAt: '2026-01-02T00:00:00.000Z', membership: {} };
    expect(isAlbumCacheFresh(cache, '2026-01-01T00:00:00Z', 24 * HOUR)).toBe(false);
    expect(isAlbumCacheFresh(cache, '2026-01-02T00:00:01Z', 24 * HOUR)).toBe(true);
    expect(isAlbumCacheFresh(cache, '2026-01-02T00:00:01Z', 0)).toBe(false);
    expect(parseAlbumCache({ fetchedAt: 'yesterday', membership: {} })).toBeNull();
    expect(parseAlbumCache('nope')).toBeNull();
    expect(parseAlbumCache({ fetchedAt: '2026-01-02T00:00:00.000Z', membership: { a: ['x', 3, 'x'], b: 'y', c: [] } })).toEqual({
      fetchedAt: '2026-01-02T00:00:00.000Z',
      membership: { a: ['x'] },
    });
  });

  it('diffs membership by set, ignoring order', () => {
    expect(diffMembership({ a: ['1', '2'], b: ['1'] }, { a: ['2', '1'], b: ['1', '3'], c: ['1'] })).toEqual(['b', 'c']);
    expect(diffMembership({ a: ['1'] }, {})).toEqual(['a']);
    expect(diffMembership({}, {})).toEqual([]);
  });

  it('with listAlbums, refreshes within the TTL when an album was updated, appeared, disappeared or changed its asset count', async () => {
    let calls = 0;
    let server: AlbumMembership = { a: ['Trip'] };
    const fetch = async (): Promise<AlbumMembership> => {
      calls += 1;
      return { ...server };
    };
    let albums: AlbumListing[] = [{ id: 'trip', updatedAt: '2025-12-01T00:00:00.000Z', assetCount: 1 }];
    const options = { listAlbums: async () => albums.map((x) => ({ ...x })) };

    const first = await getAlbumMembership(null, '2026-01-01T00:00:00Z', 24 * HOUR, fetch, options);
    expect(first.cache.albums).toEqual({ trip: 1 });
    const quiet = await getAlbumMembership(first.cache, '2026-01-01T01:00:00Z', 24 * HOUR, fetch, options);
    expect(quiet.refreshed).toBe(false);
    expect(calls).toBe(1);

    // An asset added: Immich bumps the album's updatedAt.
    server = { a: ['Trip'], b: ['Trip'] };
    albums = [{ id: 'trip', updatedAt: '2026-01-01T02:00:00.000Z', assetCount: 2 }];
    const added = await getAlbumMembership(quiet.cache, '2026-01-01T03:00:00Z', 24 * HOUR, fetch, options);
    expect(added).toMatchObject({ refreshed: true, changedAssetIds: ['b'] });
    expect(added.cache).toEqual({ fetchedAt: '2026-01-01T03:00:00.000Z', membership: { a: ['Trip'], b: ['Trip'] }, albums: { trip: 2 } });

    // An asset removed without an updatedAt bump: the count shows it.
    server = { b: ['Trip'] };
    albums = [{ id: 'trip', updatedAt: '2026-01-01T02:00:00.000Z', assetCount: 1 }];
    const removed = await getAlbumMembership(added.cache, '2026-01-01T04:00:00Z', 24 * HOUR, fetch, options);
    expect(removed).toMatchObject({ refreshed: true, changedAssetIds: ['a'] });
    expect(calls).toBe(3);

    const base = { fetchedAt: '2026-01-01T00:00:00.000Z', membership: {}, albums: { x: 1 } };
    const listed = (id: string, updatedAt = '2025-01-01T00:00:00.000Z', assetCount = 1): AlbumListing => ({ id, updatedAt, assetCount });
    expect(albumsChangedSince(base, [listed('x')])).toBe(false);
    expect(albumsChangedSince(base, [listed('x', '2026-01-01T00:00:00.000Z')])).toBe(false);
    expect(albumsChangedSince(base, [listed('x', '2026-01-01T00:00:00.001Z')])).toBe(true);
    expect(albumsChangedSince(base, [listed('x'), listed('y')])).toBe(true);
    expect(albumsChangedSince(base, [])).toBe(true);
    expect(albumsChangedSince(base, [listed('y')])).toBe(true);
    expect(albumsChangedSince(base, [listed('x', undefined, 2)])).toBe(true);
    // A cache written before album counts were recorded is refreshed once.
    expect(albumsChangedSince({ fetchedAt: base.fetchedAt, membership: {} }, [listed('x')])).toBe(true);
    expect(parseAlbumCache(JSON.parse(JSON.stringify(base)))).toEqual(base);
    expect(parseAlbumCache({ ...base, albums: { x: 'one' } })).toEqual({ fetchedAt: base.fetchedAt, membership: {} });
  });
});
