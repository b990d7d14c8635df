/**
 * Album membership (asset id → album names) is costly to collect (one request per album), so it is
 * cached with a time to live, as the seed did. When a refresh happens, comparing the old map with the
 * new one tells which assets joined or left an album: Immich does not change those assets' updatedAt,
 * so this diff is the only way an incremental pass learns about them.
 */

/** Asset id → names of the albums it belongs to. Assets in no album are absent. */
export type AlbumMembership = Record<string, string[]>;

export interface AlbumCache {
  fetchedAt: string;
  membership: AlbumMembership;
  /**
   * Album id → asset count as listed when the membership was fetched. Immich v3 bumps an album's
   * updatedAt when assets are added but not when they are removed, so a changed count is what shows
   * a removal. Absent in caches written before this existed.
   */
  albums?: Record<string, number>;
}

/** One album of `GET /albums` (ImmichClient.listAlbums). */
export interface AlbumListing {
  id: string;
  updatedAt: string;
  assetCount: number;
}

export interface AlbumMembershipOptions<A extends AlbumListing = AlbumListing> {
  /**
   * Lists the albums (one request) so that a cache still within its TTL is refreshed at once when an
   * album changed since it was fetched; without it only the TTL decides.
   */
  listAlbums?: () => Promise<A[]>;
}

export const DEFAULT_ALBUM_CACHE_TTL_MS = 24 * 3600 * 1000;

export interface AlbumMembershipResult {
  /** The cache to store (unchanged when it was still fresh). */
  cache: AlbumCache;
  membership: AlbumMembership;
  refreshed: boolean;
  /** Assets whose album set differs from the previous cache (empty when not refreshed or no previous cache). */
  changedAssetIds: string[];
}

export function isAlbumCacheFresh(cache: AlbumCache | null | undefined, now: Date | string, ttlMs: number = DEFAULT_ALBUM_CACHE_TTL_MS): boolean {
  if (!cache || typeof cache.fetchedAt !== 'string') return false;
  const age = toMillis(now) - Date.parse(cache.fetchedAt);
  return Number.isFinite(age) && age >= 0 && age < ttlMs;
}

/**
 * Returns the membership from the cache while it is fresh (and, with `listAlbums`, no album changed
 * since it was fetched), otherwise fetches it, and reports which assets' albums changed since the
 * previous fetch.
 */
export async function getAlbumMembership<A extends AlbumListing = AlbumListing>(
  cache: AlbumCache | null | undefined,
  now: Date | string,
  ttlMs: number,
  /** Gets the albums already listed (null without listAlbums), so the fetch need not list them again. */
  fetch: (albums: A[] | null) => Promise<AlbumMembership>,
  options: AlbumMembershipOptions<A> = {},
): Promise<AlbumMembershipResult> {
  const valid = parseAlbumCache(cache);
  // Listed before the fetch, so a change made while fetching shows as newer than fetchedAt next time.
  const albums = options.listAlbums ? await options.listAlbums() : null;
  if (valid && isAlbumCacheFresh(valid, now, ttlMs) && !(albums && albumsChangedSince(valid, albums))) {
    return { cache: valid, membership: valid.membership, refreshed: false, changedAssetIds: [] };
  }
  const membership = normalizeMembership(await fetch(albums));
  const fresh: AlbumCache = { fetchedAt: new Date(toMillis(now)).toISOString(), membership };
  if (albums) fresh.albums = albumCounts(albums);
  return { cache: fresh, membership, refreshed: true, changedAssetIds: valid ? diffMembership(valid.membership, membership) : [] };
}

/**
 * `--clear-album-cache`: the next run fetches membership again. The old membership stays as the
 * baseline of the diff (only its age is reset), so assets whose albums changed are still found;
 * without a cache there is nothing to clear.
 */
export function clearAlbumCache(cache: AlbumCache | null = null): AlbumCache | null {
  const valid = parseAlbumCache(cache);
  return valid ? { fetchedAt: new Date(0).toISOString(), membership: valid.membership } : null;
}

/**
 * True when the albums differ from what the cache was built from: one was updated after the fetch
 * (Immich bumps updatedAt when assets are added), appeared, disappeared or holds another number of
 * assets (a removal). A cache that did not record its albums counts as changed, once.
 */
export function albumsChangedSince(cache: AlbumCache, albums: readonly AlbumListing[]): boolean {
  if (!cache.albums) return true;
  const fetchedAt = Date.parse(cache.fetchedAt);
  if (albums.some((album) => Date.parse(album.updatedAt) > fetchedAt)) return true;
  const before = cache.albums;
  const now = albumCounts(albums);
  const ids = Object.keys(now);
  return ids.length !== Object.keys(before).length || ids.some((id) => before[id] !== now[id]);
}

function albumCounts(albums: readonly AlbumListing[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const album of albums) counts[album.id] = album.assetCount;
  return counts;
}

/** Asset ids whose album set differs between two maps, sorted. */
export function diffMembership(before: AlbumMembership, after: AlbumMembership): string[] {
  const changed: string[] = [];
  const ids = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const id of ids) {
    if (!sameSet(before[id] ?? [], after[id] ?? [])) changed.push(id);
  }
  return changed.sort();
}

/** Accepts a stored value (file, static data) and returns a cache or null when it is unusable. */
export function parseAlbumCache(value: unknown): AlbumCache | null {
  if (typeof value !== 'object' || value === null) return null;
  const record = value as Record<string, unknown>;
  if (typeof record.fetchedAt !== 'string' || Number.isNaN(Date.parse(record.fetchedAt))) return null;
  if (typeof record.membership !== 'object' || record.membership === null) return null;
  const cache: AlbumCache = { fetchedAt: record.fetchedAt, membership: normalizeMembership(record.membership as AlbumMembership) };
  const albums = parseAlbumCounts(record.albums);
  if (albums) cache.albums = albums;
  return cache;
}

function parseAlbumCounts(value: unknown): Record<string, number> | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const counts: Record<string, number> = {};
  for (const [id, count] of Object.entries(value)) {
    if (typeof count !== 'number' || !Number.isFinite(count)) return null;
    counts[id] = count;
  }
  return counts;
}

function normalizeMembership(membership: AlbumMembership): AlbumMembership {
  const result: AlbumMembership = {};
  for (const [id, names] of Object.entries(membership)) {
    if (!Array.isArray(names)) continue;
    const clean = Array.from(new Set(names.filter((n): n is string => typeof n === 'string'))).sort();
    if (clean.length > 0) result[id] = clean;
  }
  return result;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

function toMillis(value: Date | string): number {
  return typeof value === 'string' ? Date.parse(value) : value.getTime();
}
