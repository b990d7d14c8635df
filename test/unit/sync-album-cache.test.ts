import {
  AlbumMembership,
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
});
