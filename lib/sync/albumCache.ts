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
 * Returns the membership from the cache while it is fresh, otherwise fetches it, and reports which
 * assets' albums changed since the previous fetch.
 */
export async function getAlbumMembership(
  cache: AlbumCache | null | undefined,
  now: Date | string,
  ttlMs: number,
  fetch: () => Promise<AlbumMembership>,
): Promise<AlbumMembershipResult> {
  const valid = parseAlbumCache(cache);
  if (valid && isAlbumCacheFresh(valid, now, ttlMs)) {
    return { cache: valid, membership: valid.membership, refreshed: false, changedAssetIds: [] };
  }
  const membership = normalizeMembership(await fetch());
  const fresh: AlbumCache = { fetchedAt: new Date(toMillis(now)).toISOString(), membership };
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
  return { fetchedAt: record.fetchedAt, membership: normalizeMembership(record.membership as AlbumMembership) };
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
