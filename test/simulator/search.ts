/**
 * POST /search/metadata as Immich answers it, over a SimLibrary, plus the SearchBehaviour knobs.
 * A pure function of (library, body, behaviour, request context); the server only adapts HTTP.
 *
 * Where each rule comes from (Immich server, legacy MetadataSearchDto path; checked against immich-app/immich):
 * - Defaults, scope, access — server/src/services/search.service.ts `searchMetadata`:
 *   - `page ?? 1`, `size || 250`; `order ?? desc` (MetadataSearchDto declares `order` default desc too);
 *   - `visibility: dto.visibility ?? (auth.session?.hasElevatedPermission ? undefined : 'not-locked')`
 *     (v3, since #29385 "search endpoints visibility can be omitted"): an API key has no session, so a
 *     search without `visibility` returns timeline, archive AND hidden (live-photo videos) and leaves out
 *     only locked. v2 (server/src/utils/database.ts `searchAssetBuilder` before #29385):
 *     `options.visibility == null ? AssetVisibility.Timeline : options.visibility` — timeline only.
 *   - `visibility: 'locked'` → `requireElevatedPermission` → 401 "Elevated permission is required" (API key).
 *   - with `albumIds`: `requireAccess(AlbumRead, albumIds)` (400 "Not found or no album.read access" when an
 *     album is unknown or neither owned by nor shared with the caller) and NO owner filter, so other users'
 *     assets in a shared album match; without `albumIds`: `userIds = getUserIdsToSearch(auth)` = the caller
 *     plus partners who share into the caller's timeline (only the caller for `visibility: 'locked'`).
 * - Filters — server/src/utils/database.ts `searchAssetBuilderLegacy` (v2: `searchAssetBuilder`):
 *   - `withDeleted ||= trashedAfter || trashedBefore || isOffline`; trashed assets only with `withDeleted`;
 *   - takenAfter/takenBefore compare `asset.fileCreatedAt` with >= / <= (inclusive), likewise
 *     createdAt, updatedAt and deletedAt (trashedAfter/Before);
 *   - albumIds / personIds: every id (count distinct = length); tagIds: every id or a descendant (tag_closure),
 *     `tagIds: null` = assets without tags; isNotInAlbum only without albumIds;
 *   - city/state/country/make/model/lensModel/rating (null = IS NULL), description: inner join asset_exif,
 *     so an asset without extracted metadata never matches them; `withExif` is an inner join as well;
 *   - description/originalFileName/originalPath: `f_unaccent(col) ilike '%' || f_unaccent(value) || '%'`
 *     (the DTO trims description and originalFileName); libraryId only when truthy; ocr and encodedVideoPath
 *     need rows the simulator has none of (no match); isEncoded/isMotion/isOffline/withStacked against
 *     the simulator's assets, which have no encoded video, no live-photo link, are online and unstacked.
 * - Order and paging — server/src/repositories/search.repository.ts `searchMetadata`:
 *   `orderBy('asset.fileCreatedAt', dir).orderBy('asset.id', dir)`, `limit(size + 1).offset((page - 1) * size)`,
 *   and server/src/utils/pagination.ts `paginationHelper`: hasNextPage = more than `size` rows came back, so
 *   the page ending exactly at the last item answers `nextPage: null`. Ties on fileCreatedAt go by id (uuid
 *   order = lowercase hex order) in the same direction.
 * Everything in SearchBehaviour departs from the above on purpose (see search-behaviour.ts).
 */
import type { ServerMode } from './dto';
import type { SimAsset, SimLibrary } from './library';
import type { SearchBehaviour, TieOrder } from './search-behaviour';

export const DEFAULT_PAGE_SIZE = 250;

export class SearchProblem extends Error {
  /** The error body's `message`: a list for request validation problems, as Immich's are. */
  readonly messages: string | string[];
  constructor(
    readonly status: number,
    message: string | string[],
  ) {
    super(Array.isArray(message) ? message.join('; ') : message);
    this.messages = message;
  }
}

export interface SearchRequestContext {
  mode: ServerMode;
  /** SearchPageInfo.requestIndex of this request. */
  requestIndex: number;
  /** The `endless-pages` fault: a broken server that always says there is more and repeats its last page. */
  endless?: boolean;
}

export interface SearchPage {
  /** The page's assets with their index in the library store. */
  items: Array<{ index: number; asset: SimAsset }>;
  nextPage: string | null;
}

/** Sorted matches per (library version, filters); mutations bump the version, so a stale list is never used. */
export class SearchCache {
  private entry: { version: number; key: string; matches: SortedMatches } | null = null;
  matches(library: SimLibrary, filters: Record<string, unknown>, mode: ServerMode): SortedMatches {
    const key = `${mode}|${JSON.stringify(filters)}`;
    if (!this.entry || this.entry.version !== library.version || this.entry.key !== key) {
      this.entry = { version: library.version, key, matches: sortedMatches(library, filters, mode) };
    }
    return this.entry.matches;
  }
}

export function searchPage(library: SimLibrary, body: Record<string, unknown>, behaviour: SearchBehaviour, context: SearchRequestContext, cache = new SearchCache()): SearchPage {
  behaviour.beforePage?.({ requestIndex: context.requestIndex, body });
  const page = (body.page as number | undefined) ?? 1;
  const size = (body.size as number | undefined) || DEFAULT_PAGE_SIZE;
  const { page: _page, size: _size, ...filters } = body;
  void _page;
  void _size;
  const indices = applyTieOrder(cache.matches(library, filters, context.mode), behaviour.tieOrder, context.requestIndex);
  const total = indices.length;

  const range = pageRange(page, size, total, behaviour);
  let { start, end } = range;
  let more = range.more;
  if (context.endless) {
    if (start >= total) {
      start = Math.max(0, total - pageLength(page, size, behaviour));
      end = total;
    }
    more = true;
  }
  let picked = indices.slice(start, end);
  let nextPage: string | null = more ? String(page + 1) : null;

  if (behaviour.breakContract === 'nextPage-stuck') nextPage = page === 1 ? '2' : String(page);
  if (behaviour.breakContract === 'out-of-order') picked = outOfOrder(library, picked, indices, page, filters);
  return { items: picked.map((index) => ({ index, asset: library.assets.at(index) })), nextPage };
}

/** Where page `page` starts and ends among `total` sorted matches, and whether it answers a nextPage. */
export function pageRange(page: number, size: number, total: number, behaviour: SearchBehaviour): { start: number; end: number; more: boolean } {
  let start = 0;
  for (let p = 1; ; p++) {
    // after a page that ended exactly at the last item (emptyLastPage): an empty page that ends the search
    if (p > 1 && start >= total) return { start: total, end: total, more: false };
    const length = pageLength(p, size, behaviour);
    const more = start + length < total || (behaviour.emptyLastPage === true && start + length === total && total > 0);
    if (p === page) return { start, end: Math.min(start + length, total), more };
    if (!more) return { start: total, end: total, more: false }; // asked beyond the last page: empty, like an offset past the end
    start = behaviour.repeatBoundaryItem && length > 1 && start + length < total ? start + length - 1 : start + length;
  }
}

export function pageLength(page: number, size: number, behaviour: SearchBehaviour): number {
  let length = size;
  if (behaviour.pageSizes?.length) length = Math.min(length, behaviour.pageSizes[(page - 1) % behaviour.pageSizes.length]);
  if (behaviour.pageCap !== undefined) length = Math.min(length, behaviour.pageCap);
  return Math.max(1, length);
}

interface SortedMatches {
  indices: number[];
  /** fileCreatedAt (ms) of each, for tie groups. */
  times: number[];
}

/** Indices of the matching assets in Immich's order: fileCreatedAt, then id, both in the requested direction. */
export function matchingIndices(library: SimLibrary, f: Record<string, unknown>, mode: ServerMode): number[] {
  return sortedMatches(library, f, mode).indices;
}

function sortedMatches(library: SimLibrary, f: Record<string, unknown>, mode: ServerMode): SortedMatches {
  const match = buildMatcher(library, f, mode);
  const keys: Array<{ index: number; time: number; id: string }> = [];
  for (let i = 0; i < library.assets.size; i++) {
    const asset = library.assets.at(i);
    if (match(asset)) keys.push({ index: i, time: Date.parse(asset.fileCreatedAt), id: asset.id.toLowerCase() });
  }
  const direction = f.order === 'asc' ? 1 : -1;
  keys.sort((a, b) => (a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)) * direction);
  return { indices: keys.map((k) => k.index), times: keys.map((k) => k.time) };
}

function buildMatcher(lib: SimLibrary, f: Record<string, unknown>, mode: ServerMode): (asset: SimAsset) => boolean {
  const caller = lib.owner.id;
  if (f.visibility === 'locked') throw new SearchProblem(401, 'Elevated permission is required');
  const albumIds = (f.albumIds as string[] | undefined) ?? [];
  for (const id of albumIds) {
    const album = lib.albums.get(id);
    const readable = album && ((album.ownerId ?? caller) === caller || (album.sharedWithUserIds ?? []).includes(caller));
    if (!readable) throw new SearchProblem(400, 'Not found or no album.read access');
  }
  const ownerScope = albumIds.length ? null : new Set([caller, ...lib.timelinePartnerIds]);
  const visibility = f.visibility ?? (mode === 'v3' ? 'not-locked' : 'timeline');
  const withDeleted = f.withDeleted === true || !!f.trashedAfter || !!f.trashedBefore || f.isOffline !== undefined && f.isOffline !== false;
  const time = (v: unknown) => (typeof v === 'string' && v ? Date.parse(v) : null);
  const b = {
    updatedAfter: time(f.updatedAfter),
    updatedBefore: time(f.updatedBefore),
    takenAfter: time(f.takenAfter),
    takenBefore: time(f.takenBefore),
    createdAfter: time(f.createdAfter),
    createdBefore: time(f.createdBefore),
    trashedAfter: time(f.trashedAfter),
    trashedBefore: time(f.trashedBefore),
  };
  const within = (value: string | null, after: number | null, before: number | null) => {
    if (after === null && before === null) return true;
    if (value === null) return false; // SQL: NULL >= x is not true
    const t = Date.parse(value);
    return (after === null || t >= after) && (before === null || t <= before);
  };
  const albumSets = new Set(albumIds).size === albumIds.length ? albumIds.map((id) => lib.albums.get(id)!.assetIds) : null;
  const personIds = (f.personIds as string[] | undefined) ?? [];
  const tagIds = f.tagIds as string[] | null | undefined;
  const inAnyAlbum = f.isNotInAlbum === true && !albumIds.length ? new Set([...lib.albums.values()].flatMap((a) => [...a.assetIds])) : null;
  const text = (v: unknown) => (typeof v === 'string' ? v.trim() : '');
  const description = text(f.description);
  const originalFileName = text(f.originalFileName);
  const originalPath = typeof f.originalPath === 'string' ? f.originalPath : '';
  const checksum = typeof f.checksum === 'string' && f.checksum ? Buffer.from(f.checksum, f.checksum.length === 28 ? 'base64' : 'hex') : null;
  const exifEquals: Array<[string, (a: SimAsset) => unknown]> = (
    [
      ['city', (a) => a.exif?.city],
      ['state', (a) => a.exif?.state],
      ['country', (a) => a.exif?.country],
      ['make', (a) => a.exif?.make],
      ['model', (a) => a.exif?.model],
      ['lensModel', (a) => a.exif?.lensModel ?? null],
      ['rating', (a) => a.exif?.rating],
    ] as Array<[string, (a: SimAsset) => unknown]>
  ).filter(([key]) => f[key] !== undefined);

  return (a: SimAsset): boolean => {
    if (ownerScope && !ownerScope.has(a.ownerId ?? caller)) return false;
    if (visibility === 'not-locked' ? a.visibility === 'locked' : a.visibility !== visibility) return false;
    if (!withDeleted && a.deletedAt !== null) return false;
    if (!within(a.deletedAt, b.trashedAfter, b.trashedBefore)) return false;
    if (!within(a.updatedAt, b.updatedAfter, b.updatedBefore)) return false;
    if (!within(a.fileCreatedAt, b.takenAfter, b.takenBefore)) return false;
    if (!within(a.createdAt, b.createdAfter, b.createdBefore)) return false;
    if (albumIds.length && (!albumSets || albumSets.some((set) => !set.has(a.id)))) return false;
    if (inAnyAlbum?.has(a.id)) return false;
    if (personIds.length && (new Set(personIds).size !== personIds.length || !personIds.every((pid) => a.faces.some((face) => face.personId === pid)))) return false;
    if (tagIds === null && a.tagIds.length > 0) return false;
    if (tagIds && tagIds.length) {
      const closure = lib.tagClosure(a.tagIds);
      if (!tagIds.every((tid) => closure.has(tid))) return false;
    }
    if (f.withExif === true && a.exif === null) return false;
    for (const [key, read] of exifEquals) {
      if (a.exif === null || (read(a) ?? null) !== f[key]) return false;
    }
    if (description && (a.exif === null || !ilike(a.exif.description, description))) return false;
    if (originalFileName && !ilike(a.originalFileName, originalFileName)) return false;
    if (originalPath && !ilike(a.originalPath, originalPath)) return false;
    if (checksum && !Buffer.from(a.checksum, 'base64').equals(checksum)) return false;
    if (f.id && a.id !== f.id) return false;
    if (f.libraryId && a.libraryId !== f.libraryId) return false;
    if (f.type !== undefined && a.type !== f.type) return false;
    if (f.isFavorite !== undefined && a.isFavorite !== f.isFavorite) return false;
    if (f.isOffline === true || f.isEncoded === true || f.isMotion === true) return false;
    if (f.ocr || f.encodedVideoPath) return false;
    return true;
  };
}

function ilike(value: string, pattern: string): boolean {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return fold(value).includes(fold(pattern));
}

function applyTieOrder({ indices, times }: SortedMatches, tieOrder: TieOrder | undefined, requestIndex: number): number[] {
  if (tieOrder === undefined || tieOrder === 'id') return indices;
  const out = [...indices];
  const random = typeof tieOrder === 'object' ? mulberry32((tieOrder.shuffleSeed ^ (tieOrder.perRequest ? Math.imul(requestIndex + 1, 0x9e3779b1) : 0)) >>> 0) : null;
  let groupStart = 0;
  for (let i = 1; i <= out.length; i++) {
    if (i < out.length && times[i] === times[groupStart]) continue;
    if (i - groupStart > 1) {
      const group = out.slice(groupStart, i);
      if (random) {
        for (let k = group.length - 1; k > 0; k--) {
          const j = Math.floor(random() * (k + 1));
          [group[k], group[j]] = [group[j], group[k]];
        }
      } else group.reverse();
      out.splice(groupStart, group.length, ...group);
    }
    groupStart = i;
  }
  return out;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** breakContract 'out-of-order': page 1 reversed (plus an asset taken before takenAfter), later pages end with the first match. */
function outOfOrder(library: SimLibrary, picked: number[], all: number[], page: number, filters: Record<string, unknown>): number[] {
  if (page > 1) return all.length && !picked.includes(all[0]) ? [...picked, all[0]] : picked;
  const out = [...picked].reverse();
  const after = typeof filters.takenAfter === 'string' ? Date.parse(filters.takenAfter) : null;
  if (after !== null) {
    for (let i = 0; i < library.assets.size; i++) {
      const asset = library.assets.at(i);
      if (Date.parse(asset.fileCreatedAt) < after && asset.deletedAt === null && asset.visibility !== 'locked') {
        out.push(i);
        break;
      }
    }
  }
  return out;
}
