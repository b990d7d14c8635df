/**
 * The search request per server version: flat fields and page numbers up to v3.1; from v3.2 the filter/orderBy shape,
 * all of it at once with no flat field beside it, paging by the opaque nextCursor.
 */
import { filterSearchBody, ImmichClient, searchBody } from '../../lib/immich/client';
import { ServerContractError } from '../../lib/immich/errors';
import type { ImmichRequestOptions, ImmichTransport } from '../../lib/immich/transport';
import type { ImmichSearchFilters } from '../../lib/immich/types';

const ALBUM = '0b7f7c1e-1d2a-4c3b-8e4f-5a6b7c8d9e0f';
const PERSON = '1c8e8d2f-2e3b-4d4c-9f5a-6b7c8d9e0f1a';

/** Every flat MetadataSearchDto field v3.2 deprecates that searchBody may send. */
const FLAT_FIELDS = ['order', 'page', 'type', 'updatedAfter', 'updatedBefore', 'takenAfter', 'takenBefore', 'albumIds', 'personIds', 'tagIds', 'isFavorite', 'visibility'];

interface Sent {
  path: string;
  body: Record<string, unknown>;
}

/** A server of the given version answering `pages` in turn, recording each search body. */
function fakeServer(version: { major: number; minor: number }, pages: Array<{ ids: string[]; nextPage?: string | null; nextCursor?: string | null }>) {
  const sent: Sent[] = [];
  let index = 0;
  const transport: ImmichTransport = {
    async request<T>(_method: string, path: string, options?: ImmichRequestOptions): Promise<T> {
      if (path === '/server/version') return { ...version, patch: 0, prerelease: null } as T;
      sent.push({ path, body: options?.body as Record<string, unknown> });
      const page = pages[Math.min(index++, pages.length - 1)];
      const items = page.ids.map((id) => ({ id, type: 'IMAGE', originalPath: `/x/${id}.jpg`, originalFileName: `${id}.jpg`, updatedAt: '2024-01-01T00:00:00.000Z', fileCreatedAt: '2024-01-01T00:00:00.000Z', localDateTime: '2024-01-01T00:00:00.000Z', isFavorite: false, isTrashed: false }));
      const paging = 'nextCursor' in page ? { nextPage: page.nextPage ?? null, nextCursor: page.nextCursor } : { nextPage: page.nextPage ?? null };
      return { assets: { items, count: items.length, total: items.length, facets: [], ...paging } } as T;
    },
  };
  return { client: new ImmichClient(transport), sent };
}

const filters: ImmichSearchFilters = {
  takenAfter: '2024-01-01T00:00:00Z',
  takenBefore: '2024-12-31T23:59:59Z',
  updatedAfter: '2024-06-01T00:00:00+02:00',
  albumIds: [ALBUM],
  personIds: [PERSON],
  type: 'IMAGE',
  isFavorite: true,
  visibility: 'archive',
  withExif: true,
  withPeople: true,
};

test('v3.2: every filter in the filter/orderBy shape at once, no flat field beside it', () => {
  const body = filterSearchBody(filters);
  expect(body).toEqual({
    filter: {
      takenAt: { gte: '2024-01-01T00:00:00.000Z', lte: '2024-12-31T23:59:59.000Z' },
      updatedAt: { gte: '2024-05-31T22:00:00.000Z' },
      albumIds: { all: [ALBUM] },
      personIds: { all: [PERSON] },
      type: { eq: 'IMAGE' },
      isFavorite: { eq: true },
      visibility: { eq: 'archive' },
    },
    orderBy: { field: 'fileCreatedAt', direction: 'asc' },
    withExif: true,
    withPeople: true,
  });
  expect(Object.keys(body).filter((key) => FLAT_FIELDS.includes(key))).toEqual([]);
  expect(filterSearchBody({ includeTrashed: true, order: 'desc' })).toEqual({ filter: {}, orderBy: { field: 'fileCreatedAt', direction: 'desc' }, withDeleted: true });
});

test('v3.2: the first page asks no cursor, later pages send the nextCursor as it came, and the last page ends at nextCursor null', async () => {
  const { client, sent } = fakeServer({ major: 3, minor: 2 }, [
    { ids: ['a', 'b'], nextCursor: 'eyJvcGFxdWUiOjF9' },
    { ids: ['c'], nextCursor: '7' },
    { ids: ['d'], nextCursor: null },
  ]);
  const pages: string[][] = [];
  for await (const page of client.searchAssets(filters, 2)) pages.push(page.map((a) => a.id));
  expect(pages).toEqual([['a', 'b'], ['c'], ['d']]);
  expect(sent.map((s) => [s.body.cursor, s.body.size])).toEqual([[undefined, 2], ['eyJvcGFxdWUiOjF9', 2], ['7', 2]]);
  for (const { body } of sent) {
    expect(Object.keys(body).filter((key) => FLAT_FIELDS.includes(key))).toEqual([]);
    expect(body).toMatchObject({ filter: filterSearchBody(filters).filter, orderBy: { field: 'fileCreatedAt', direction: 'asc' } });
  }
});

test('v3.2: a page token is the cursor, never read as a page number; nextPage beside it is ignored', async () => {
  const { client, sent } = fakeServer({ major: 3, minor: 2 }, [{ ids: ['a'], nextPage: '2', nextCursor: 'not-a-number' }]);
  await expect(client.searchPage({}, null, 5)).resolves.toMatchObject({ next: 'not-a-number' });
  await expect(client.searchPage({}, 'not-a-number', 5)).resolves.toMatchObject({ next: 'not-a-number' });
  expect(sent[1].body).toEqual({ filter: {}, orderBy: { field: 'fileCreatedAt', direction: 'asc' }, cursor: 'not-a-number', size: 5 });
});

test('v3.2: a server that answers no nextCursor is refused; a cursor that repeats stops the paging', async () => {
  const missing = fakeServer({ major: 3, minor: 2 }, [{ ids: ['a'], nextPage: '2' }]);
  await expect(missing.client.searchPage({}, null)).rejects.toThrow(/nextCursor is missing/);
  const stuck = fakeServer({ major: 3, minor: 3 }, [{ ids: ['a'], nextCursor: 'c1' }, { ids: ['b'], nextCursor: 'c1' }]);
  const collected = stuck.client.collectAssets({});
  await expect(collected).rejects.toThrow(ServerContractError);
  await expect(collected).rejects.toThrow(/does not advance/);
});

test('v3.1 and v2: the flat fields with page numbers, as before', async () => {
  for (const version of [{ major: 3, minor: 1 }, { major: 2, minor: 7 }]) {
    const { client, sent } = fakeServer(version, [{ ids: ['a'], nextPage: '2' }, { ids: ['b'], nextPage: null }]);
    expect((await client.collectAssets(filters)).map((a) => a.id)).toEqual(['a', 'b']);
    expect(sent.map((s) => s.body)).toEqual([
      { ...searchBody(filters), page: 1, size: 250 },
      { ...searchBody(filters), page: 2, size: 250 },
    ]);
    expect(sent.every((s) => !('filter' in s.body) && !('cursor' in s.body) && !('orderBy' in s.body))).toBe(true);
  }
});
