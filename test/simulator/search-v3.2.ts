/**
 * POST /search/metadata in v3.2 (spec-v3.2.ts): the request shapes, turned into the flat v3.1 filters that
 * search.ts matches, and the opaque cursor.
 *
 * - The v3.2 shape: `filter` (SearchFilter), `cursor` (from the previous answer's `nextCursor`), `orderBy`.
 * - The flat v3.1 fields (takenAfter, albumIds, page, order, …) are still accepted but deprecated.
 * - Both in one request is a 400, naming the flat fields, in Immich's error body.
 * - `size`, `withDeleted`, `withExif`, `withPeople`, `withStacked` go with either shape.
 * Operators the simulator does not implement (`or`, `ne`, `any`, `like`, …) answer 501 and are recorded as
 * violations, so a client that starts sending them is noticed instead of being answered wrongly.
 *
 * The cursor stands for a page of offset paging (so every SearchBehaviour applies unchanged) and for its
 * query: it is base64url JSON a client must not read, and a cursor sent with another filter or order is a 400.
 */
import { createHash } from 'node:crypto';
import { SearchProblem } from './search';
import { NEW_SEARCH_FIELDS, SHARED_SEARCH_FIELDS } from './spec-v3.2';

export type SearchShape = 'v3.2' | 'flat';

export interface ReadSearch {
  shape: SearchShape;
  /** The request as search.ts takes it (flat fields, `page` and `size`). */
  flat: Record<string, unknown>;
  /** The query a cursor belongs to (v3.2 shape only). */
  queryKey: string | null;
}

/** Splits a v3.2 request body into its shape; throws SearchProblem (400 mixing, 501 unsupported). */
export function readSearchRequest(body: Record<string, unknown>): ReadSearch {
  const keys = Object.keys(body);
  const isNew = (key: string) => (NEW_SEARCH_FIELDS as readonly string[]).includes(key);
  const isShared = (key: string) => (SHARED_SEARCH_FIELDS as readonly string[]).includes(key);
  const flatKeys = keys.filter((key) => !isNew(key) && !isShared(key));
  const newKeys = keys.filter(isNew);
  if (newKeys.length === 0) return { shape: 'flat', flat: { ...body }, queryKey: null };
  if (flatKeys.length > 0) {
    throw new SearchProblem(400, [`${flatKeys.join(', ')} cannot be combined with ${newKeys.join(', ')}: use filter and orderBy for every criterion (the flat fields are deprecated)`]);
  }
  const shared = Object.fromEntries(keys.filter(isShared).map((key) => [key, body[key]]));
  const filter = (body.filter ?? {}) as Record<string, Record<string, unknown>>;
  const orderBy = (body.orderBy ?? {}) as { field?: string; direction?: string };
  const queryKey = createHash('sha256').update(JSON.stringify([filter, orderBy, shared.withDeleted ?? null])).digest('base64url').slice(0, 16);
  const page = body.cursor === undefined ? 1 : pageOfCursor(String(body.cursor), queryKey);
  return { shape: 'v3.2', flat: { ...shared, ...flatFilters(filter), ...order(orderBy), page }, queryKey };
}

export function cursorFor(page: number, queryKey: string): string {
  return Buffer.from(JSON.stringify({ p: page, q: queryKey })).toString('base64url');
}

function pageOfCursor(cursor: string, queryKey: string): number {
  let decoded: { p?: unknown; q?: unknown } | null = null;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { p?: unknown; q?: unknown };
  } catch {
    decoded = null;
  }
  if (!decoded || !Number.isInteger(decoded.p) || (decoded.p as number) < 1) throw new SearchProblem(400, ['cursor is invalid']);
  if (decoded.q !== queryKey) throw new SearchProblem(400, ['cursor does not belong to this filter and order']);
  return decoded.p as number;
}

function order(orderBy: { field?: string; direction?: string }): Record<string, unknown> {
  if (orderBy.field !== undefined && orderBy.field !== 'fileCreatedAt') throw unsupported(`orderBy.field ${orderBy.field}`);
  return orderBy.direction === undefined ? {} : { order: orderBy.direction };
}

const DATE_FIELDS: Record<string, [string, string]> = {
  takenAt: ['takenAfter', 'takenBefore'],
  updatedAt: ['updatedAfter', 'updatedBefore'],
  createdAt: ['createdAfter', 'createdBefore'],
  trashedAt: ['trashedAfter', 'trashedBefore'],
};
const EQ_FIELDS = ['type', 'visibility', 'isFavorite', 'isMotion', 'isOffline', 'isEncoded', 'city', 'state', 'country', 'make', 'model', 'lensModel', 'rating', 'id', 'libraryId', 'checksum'];
const ALL_OF_FIELDS = ['albumIds', 'personIds', 'tagIds'];

/** SearchFilter → the flat fields search.ts matches (inclusive bounds; Immich's times have millisecond precision). */
function flatFilters(filter: Record<string, Record<string, unknown>>): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  const shift = (iso: unknown, ms: number) => new Date(Date.parse(String(iso)) + ms).toISOString();
  for (const [field, condition] of Object.entries(filter)) {
    const operators = Object.keys(condition ?? {});
    const only = (...allowed: string[]) => {
      const other = operators.find((op) => !allowed.includes(op));
      if (other) throw unsupported(`filter.${field}.${other}`);
    };
    if (field in DATE_FIELDS) {
      only('gte', 'gt', 'lte', 'lt', 'eq');
      const [after, before] = DATE_FIELDS[field];
      if (condition.eq !== undefined) {
        if (condition.eq === null) throw unsupported(`filter.${field}.eq null`);
        flat[after] = flat[before] = condition.eq;
      }
      if (condition.gte !== undefined) flat[after] = condition.gte;
      if (condition.gt !== undefined) flat[after] = shift(condition.gt, 1);
      if (condition.lte !== undefined) flat[before] = condition.lte;
      if (condition.lt !== undefined) flat[before] = shift(condition.lt, -1);
    } else if (ALL_OF_FIELDS.includes(field)) {
      only('all');
      flat[field] = condition.all;
    } else if (EQ_FIELDS.includes(field)) {
      only('eq');
      flat[field] = condition.eq;
    } else if (field === 'hasAlbums' && condition.eq === false) {
      flat.isNotInAlbum = true;
    } else if (field === 'ocr') {
      flat.ocr = condition.matches;
    } else {
      throw unsupported(`filter.${field}`);
    }
  }
  return flat;
}

function unsupported(what: string): SearchProblem {
  return new SearchProblem(501, `the simulator does not implement ${what} of the v3.2 search`);
}
