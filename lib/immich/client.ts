/**
 * Framework-free Immich client. Every method notes how many HTTP requests it costs, because the
 * package must stay cheap on libraries with 100,000+ assets.
 */
import { settleWithConcurrency, type Settled } from './concurrency';
import {
  facesFromV2,
  facesFromV3,
  toExif,
  toPerson,
  toSummary,
  type AlbumDto,
  type AssetDto,
  type FaceDto,
  type PeopleResponseDto,
  type SearchResponseDto,
  type TagDto,
} from './dto';
import { ImmichApiError, ServerContractError } from './errors';
import type { ImmichTransport } from './transport';
import type {
  ImmichAssetDetails,
  ImmichAssetEdit,
  ImmichAssetSummary,
  ImmichFace,
  ImmichMembershipMap,
  ImmichPerson,
  ImmichSearchFilters,
  ImmichSearchPage,
  ImmichServerVersion,
} from './types';

export const MAX_PAGE_SIZE = 1000;

export interface ImmichClientOptions {
  /** Assets per search page (1–1000). */
  pageSize?: number;
  /** Parallel requests in getManyAssetDetails. */
  concurrency?: number;
}

export interface AssetDetailsOptions {
  /** Album membership to use; when absent the client builds it once and reuses it. */
  albums?: ImmichMembershipMap;
}

export class ImmichClient {
  private versionPromise: Promise<ImmichServerVersion> | null = null;
  private albumsPromise: Promise<ImmichMembershipMap> | null = null;
  readonly pageSize: number;
  readonly concurrency: number;

  constructor(
    private readonly transport: ImmichTransport,
    options: ImmichClientOptions = {},
  ) {
    this.pageSize = clampInt(options.pageSize ?? 250, 1, MAX_PAGE_SIZE);
    this.concurrency = clampInt(options.concurrency ?? 4, 1, 32);
  }

  /** Cost: 1 request on first call (GET /server/version), 0 afterwards. */
  serverVersion(): Promise<ImmichServerVersion> {
    if (!this.versionPromise) {
      this.versionPromise = this.transport.request<ImmichServerVersion>('GET', '/server/version').then((v) => ({ major: v.major, minor: v.minor, patch: v.patch }));
      this.versionPromise.catch(() => (this.versionPromise = null));
    }
    return this.versionPromise;
  }

  /**
   * One page of a search. `page` is the token the previous page returned (null for the first page), opaque to
   * callers: a page number up to v3.1, the `nextCursor` from v3.2 on (see usesCursorSearch). `next` is null on the
   * last page. Only `next` says whether more pages follow: a server may return fewer items than `size` on any page
   * (forks and proxies cap pages). Cost: 1 request, plus the version once per client.
   */
  async searchPage(filters: ImmichSearchFilters, page: string | null, size: number = this.pageSize): Promise<ImmichSearchPage> {
    const cursor = usesCursorSearch(await this.serverVersion());
    const paging = cursor ? (page === null ? {} : { cursor: page }) : { page: page === null ? 1 : pageNumber(page) };
    const body = { ...(cursor ? filterSearchBody(filters) : searchBody(filters)), ...paging, size: clampInt(size, 1, MAX_PAGE_SIZE) };
    const response = await this.transport.request<SearchResponseDto>('POST', '/search/metadata', { body });
    const items = response?.assets?.items;
    if (!Array.isArray(items)) throw malformed('POST', '/search/metadata', 'assets.items is missing');
    if (cursor && response.assets.nextCursor === undefined) throw malformed('POST', '/search/metadata', 'assets.nextCursor is missing, which Immich v3.2 answers');
    const next = cursor ? response.assets.nextCursor : response.assets.nextPage;
    return { items: items.map(toSummary), next: next === null || next === undefined || next === '' ? null : String(next) };
  }

  /**
   * Yields the matching assets page by page (sorted by fileCreatedAt), following `nextPage` (or `nextCursor`)
   * until the server says there is none. Cost: 1 request per page; the next page is only requested when the
   * consumer asks for it, so at most one is in flight. Stop early with `break` (e.g. for a limit).
   */
  async *searchAssets(filters: ImmichSearchFilters = {}, pageSize = this.pageSize): AsyncGenerator<ImmichAssetSummary[]> {
    const seen = new Set<string>();
    const tokens = new Set<string>();
    let token: string | null = null;
    for (;;) {
      const { items, next } = await this.searchPage(filters, token, pageSize);
      // offset paging can repeat an asset when the library changes between pages: emit each once
      const fresh = items.filter((item) => !seen.has(item.id));
      fresh.forEach((item) => seen.add(item.id));
      if (fresh.length) yield fresh;
      if (next === null) return;
      // tokens are opaque (a page number, or a v3.2 cursor): paging advances when it brings new assets under a new token
      if (tokens.has(next) || next === token || fresh.length === 0) {
        throw new ServerContractError(
          `Immich's search paging does not advance (page ${token ?? 'first'} → next "${next}", ${fresh.length} new assets). Stopping instead of looping forever; check the Immich server version and logs.`,
        );
      }
      tokens.add(next);
      token = next;
    }
  }

  /** Collects searchAssets into one array, stopping at `limit`. Cost: ceil(min(total, limit) / pageSize) requests. */
  async collectAssets(filters: ImmichSearchFilters = {}, limit = Infinity): Promise<ImmichAssetSummary[]> {
    const out: ImmichAssetSummary[] = [];
    const pageSize = Number.isFinite(limit) ? Math.min(this.pageSize, Math.max(1, limit)) : this.pageSize;
    for await (const page of this.searchAssets(filters, pageSize)) {
      for (const asset of page) {
        if (out.length >= limit) return out;
        out.push(asset);
      }
      if (out.length >= limit) return out;
    }
    return out;
  }

  /**
   * Everything Immich knows about one asset. Cost: v3 → 2 requests (GET /assets/{id}, GET /faces);
   * v1/v2 → 1 request (faces are nested in the asset); 1 more for an asset edited in Immich (its edits); plus, once per client, the version and the
   * album membership map (see albumMembership) unless `options.albums` is given.
   */
  async getAssetDetails(assetId: string, options: AssetDetailsOptions = {}): Promise<ImmichAssetDetails> {
    const id = String(assetId ?? '').trim();
    if (!UUID.test(id)) throw new Error(`"${id}" is not an Immich asset id (a UUID such as 8d2c5f0e-…): check the asset id parameter.`);
    const [version, albums] = await Promise.all([this.serverVersion(), options.albums ? Promise.resolve(options.albums) : this.cachedAlbumMembership()]);
    const dto = await this.transport.request<AssetDto>('GET', `/assets/${id}`);
    if (!dto || typeof dto !== 'object' || dto.id !== id) throw malformed('GET', `/assets/${id}`, 'the answer is not the requested asset');
    const faces = version.major >= 3 ? facesFromV3(await this.transport.request<FaceDto[]>('GET', '/faces', { query: { id } })) : facesFromV2(dto);
    const summary = toSummary(dto);
    return {
      ...summary,
      exif: toExif(dto.exifInfo),
      people: peopleOf(dto, faces),
      faces,
      tags: (dto.tags ?? []).map((tag) => tag.value).sort(),
      albums: albums.byAsset[id] ?? [],
      serverMajor: version.major,
      ...(hasSharedFaceClusters(version) ? { sharedFaceClusters: true } : {}),
      ...(summary.isEdited && hasEditsEndpoint(version) ? await this.editsOrReason(id) : {}),
    };
  }

  /**
   * The edits of one asset edited in Immich (crop, rotate, mirror), in the order Immich applies them.
   * Cost: 1 request (GET /assets/{id}/edits, Immich v2.5 and newer; permission asset.edit.get).
   */
  async getAssetEdits(assetId: string): Promise<ImmichAssetEdit[]> {
    const id = String(assetId ?? '').trim();
    if (!UUID.test(id)) throw new Error(`"${id}" is not an Immich asset id (a UUID such as 8d2c5f0e-…): check the asset id parameter.`);
    const path = `/assets/${id}/edits`;
    const answer = await this.transport.request<AssetEditsDto>('GET', path);
    if (!answer || typeof answer !== 'object' || !Array.isArray(answer.edits)) throw malformed('GET', path, 'edits is missing');
    return answer.edits.map((edit) => toEdit(edit, path));
  }

  /** Edits for getAssetDetails: a key without asset.edit.get costs only that asset's face regions, not the asset. */
  private async editsOrReason(id: string): Promise<Pick<ImmichAssetDetails, 'edits' | 'editsUnavailable'>> {
    try {
      return { edits: await this.getAssetEdits(id) };
    } catch (error) {
      if (error instanceof ImmichApiError && error.kind === 'forbidden') {
        return { editsUnavailable: 'the API key lacks the asset.edit.get permission, which reading the edits made in Immich needs' };
      }
      throw error;
    }
  }

  /**
   * Only the face regions of one asset, for callers that already hold its search item (exif, people,
   * isEdited…) and would otherwise pay a GET /assets/{id} just to reach the faces.
   * Cost: v3 → 1 request (GET /faces); v1/v2 have no /faces endpoint, so 1 request (GET /assets/{id})
   * and the nested faces; plus the version once per client.
   */
  async getAssetFaces(asset: string | Pick<ImmichAssetSummary, 'id'>): Promise<ImmichFace[]> {
    const id = String((typeof asset === 'string' ? asset : asset?.id) ?? '').trim();
    if (!UUID.test(id)) throw new Error(`"${id}" is not an Immich asset id (a UUID such as 8d2c5f0e-…): check the asset id parameter.`);
    const version = await this.serverVersion();
    if (version.major >= 3) return facesFromV3(checkedFaces(await this.transport.request<FaceDto[]>('GET', '/faces', { query: { id } })));
    const dto = await this.transport.request<AssetDto>('GET', `/assets/${id}`);
    if (!dto || typeof dto !== 'object' || dto.id !== id) throw malformed('GET', `/assets/${id}`, 'the answer is not the requested asset');
    return facesFromV2(dto);
  }

  /**
   * Details for many assets with bounded concurrency; one failure does not stop the rest.
   * Cost: getAssetDetails × ids.length, with the album map built once.
   */
  async getManyAssetDetails(ids: readonly string[], options: AssetDetailsOptions = {}): Promise<Settled<ImmichAssetDetails>[]> {
    const albums = options.albums ?? (await this.cachedAlbumMembership());
    return settleWithConcurrency(ids, this.concurrency, (id) => this.getAssetDetails(id, { albums }));
  }

  /** All people including hidden ones. Cost: 1 request per 1000 people (GET /people, paged). */
  async listPeople(): Promise<ImmichPerson[]> {
    const people: ImmichPerson[] = [];
    for (let page = 1; ; page++) {
      const response = await this.transport.request<PeopleResponseDto>('GET', '/people', { query: { page, size: MAX_PAGE_SIZE, withHidden: true } });
      const batch = response?.people ?? [];
      people.push(...batch.map(toPerson));
      const more = response.hasNextPage ?? batch.length === MAX_PAGE_SIZE;
      if (!more || batch.length === 0) return people;
    }
  }

  /** Albums (owned and shared with the user), without their assets. Cost: 1 request (GET /albums). */
  async listAlbums(): Promise<Array<{ id: string; albumName: string; assetCount: number; updatedAt: string }>> {
    const albums = await this.transport.request<AlbumDto[]>('GET', '/albums');
    return albums.map((a) => ({ id: a.id, albumName: a.albumName, assetCount: a.assetCount, updatedAt: a.updatedAt }));
  }

  /** Every tag with its full value ("Parent/Child"). Cost: 1 request (GET /tags). */
  async listTags(): Promise<Array<{ id: string; name: string; value: string }>> {
    const tags = await this.transport.request<TagDto[]>('GET', '/tags');
    return tags.map((t) => ({ id: t.id, name: t.name, value: t.value }));
  }

  /**
   * asset id → album names. v3 album responses carry no assets, so: GET /albums (1 request) plus a
   * paged search per album (ceil(assetCount / 1000) requests each, at least 1). The cost grows with
   * the number of albums, not with the number of assets.
   */
  async albumMembership(listed?: Array<{ id: string; albumName: string; assetCount: number }>): Promise<ImmichMembershipMap> {
    // A caller that just listed the albums (the sync's album change check) passes them to save a request.
    const albums = listed ?? (await this.listAlbums());
    const byAsset: Record<string, string[]> = {};
    for (const album of albums) {
      if (album.assetCount === 0) continue;
      for await (const page of this.searchAssets({ albumIds: [album.id], order: 'asc' }, MAX_PAGE_SIZE)) {
        for (const asset of page) addMember(byAsset, asset.id, album.albumName);
      }
    }
    return { kind: 'albums', builtAt: new Date().toISOString(), sourceCount: albums.length, byAsset: sortMembers(byAsset) };
  }

  /**
   * asset id → tag values. GET /tags (1 request) plus a paged search per tag. Immich's tag search also
   * matches descendants, so a parent tag is only kept for an asset when no child tag of it is
   * (the exact list for one asset is in getAssetDetails().tags).
   */
  async tagMembership(): Promise<ImmichMembershipMap> {
    const tags = await this.listTags();
    const byAsset: Record<string, string[]> = {};
    for (const tag of tags) {
      for await (const page of this.searchAssets({ tagIds: [tag.id], order: 'asc' }, MAX_PAGE_SIZE)) {
        for (const asset of page) addMember(byAsset, asset.id, tag.value);
      }
    }
    for (const [assetId, values] of Object.entries(byAsset)) {
      byAsset[assetId] = values.filter((value) => !values.some((other) => other.startsWith(`${value}/`)));
    }
    return { kind: 'tags', builtAt: new Date().toISOString(), sourceCount: tags.length, byAsset: sortMembers(byAsset) };
  }

  /** albumMembership, built at most once per client instance (i.e. once per node execution). */
  cachedAlbumMembership(): Promise<ImmichMembershipMap> {
    if (!this.albumsPromise) {
      this.albumsPromise = this.albumMembership();
      this.albumsPromise.catch(() => (this.albumsPromise = null));
    }
    return this.albumsPromise;
  }
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Maps our filters onto MetadataSearchDto (without page/size). */
export function searchBody(filters: ImmichSearchFilters): Record<string, unknown> {
  const body: Record<string, unknown> = {
    order: filters.order ?? 'asc',
    withDeleted: filters.includeTrashed === true,
  };
  if (filters.type) body.type = filters.type;
  for (const key of ['updatedAfter', 'updatedBefore', 'takenAfter', 'takenBefore'] as const) {
    const value = filters[key];
    if (value !== undefined && value !== null && value !== '') body[key] = isoInstant(value, key);
  }
  for (const key of ['albumIds', 'personIds', 'tagIds'] as const) {
    const ids = filters[key]?.map((id) => String(id).trim()).filter(Boolean);
    if (ids?.length) {
      const bad = ids.find((id) => !UUID.test(id));
      if (bad) throw new Error(`"${bad}" in ${key} is not an Immich id (a UUID): check the filter.`);
      body[key] = ids;
    }
  }
  if (filters.isFavorite !== undefined) body.isFavorite = filters.isFavorite;
  if (filters.visibility) body.visibility = filters.visibility;
  if (filters.withExif) body.withExif = true;
  if (filters.withPeople) body.withPeople = true;
  return body;
}

function atLeast(version: ImmichServerVersion, major: number, minor: number): boolean {
  return version.major > major || (version.major === major && version.minor >= minor);
}

/** Users share face clusters from v3.2 on: GET /faces may answer `person: null` for a face another member's person owns. */
export function hasSharedFaceClusters(version: ImmichServerVersion): boolean {
  return atLeast(version, 3, 2);
}

/**
 * From v3.2 on, POST /search/metadata takes `filter`, `orderBy` and `cursor` and answers `nextCursor`; the flat fields
 * are deprecated and may not be mixed with them (a 400). Older servers know only the flat fields.
 */
export function usesCursorSearch(version: ImmichServerVersion): boolean {
  return atLeast(version, 3, 2);
}

/**
 * Our filters as a v3.2 MetadataSearchDto, all in the new shape (`filter` and `orderBy`; `withDeleted`, `withExif`
 * and `withPeople` say what to include and go with either shape), without cursor and size. Same meaning as
 * searchBody: bounds inclusive, every listed album/person/tag required, trashed assets only when asked.
 */
export function filterSearchBody(filters: ImmichSearchFilters): Record<string, unknown> {
  const flat = searchBody(filters);
  const unmapped = Object.keys(flat).find((key) => !FLAT_TO_FILTER.has(key));
  if (unmapped) throw new Error(`filterSearchBody does not map the search field ${unmapped} onto the v3.2 filter shape`);
  const filter: Record<string, unknown> = {};
  const range = (after: unknown, before: unknown) => ({ ...(after !== undefined ? { gte: after } : {}), ...(before !== undefined ? { lte: before } : {}) });
  if (flat.takenAfter !== undefined || flat.takenBefore !== undefined) filter.takenAt = range(flat.takenAfter, flat.takenBefore);
  if (flat.updatedAfter !== undefined || flat.updatedBefore !== undefined) filter.updatedAt = range(flat.updatedAfter, flat.updatedBefore);
  for (const key of ['albumIds', 'personIds', 'tagIds'] as const) if (flat[key] !== undefined) filter[key] = { all: flat[key] };
  for (const key of ['type', 'isFavorite', 'visibility'] as const) if (flat[key] !== undefined) filter[key] = { eq: flat[key] };
  const body: Record<string, unknown> = { filter, orderBy: { field: 'fileCreatedAt', direction: flat.order } };
  if (flat.withDeleted === true) body.withDeleted = true;
  if (flat.withExif) body.withExif = true;
  if (flat.withPeople) body.withPeople = true;
  return body;
}

/** Every field searchBody may set, which filterSearchBody maps onto the v3.2 shape. */
const FLAT_TO_FILTER = new Set(['order', 'withDeleted', 'type', 'updatedAfter', 'updatedBefore', 'takenAfter', 'takenBefore', 'albumIds', 'personIds', 'tagIds', 'isFavorite', 'visibility', 'withExif', 'withPeople']);

/** v3.1 pages are numbered; a token that is not a positive integer is the server's fault. */
function pageNumber(token: string): number {
  const page = Number(token);
  if (!Number.isInteger(page) || page < 1) throw new ServerContractError(`Immich answered nextPage "${token}", which is not a page number.`);
  return page;
}

function isoInstant(value: string, field: string): string {
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new Error(`${field} "${value}" is not a date: use ISO 8601, e.g. 2024-01-31T00:00:00Z`);
  return new Date(time).toISOString();
}

function peopleOf(dto: AssetDto, faces: ReturnType<typeof facesFromV3>): ImmichPerson[] {
  if (dto.people) return dto.people.map(toPerson);
  const byId = new Map<string, ImmichPerson>();
  for (const f of faces) if (f.personId && !byId.has(f.personId)) byId.set(f.personId, { id: f.personId, name: f.personName ?? '', isHidden: f.personHidden, updatedAt: null });
  return [...byId.values()];
}

function addMember(map: Record<string, string[]>, assetId: string, value: string): void {
  const list = (map[assetId] ??= []);
  if (!list.includes(value)) list.push(value);
}

function sortMembers(map: Record<string, string[]>): Record<string, string[]> {
  for (const list of Object.values(map)) list.sort((a, b) => a.localeCompare(b));
  return map;
}

/** A broken faces answer would become regions without coordinates: refuse it, so that asset fails instead. */
function checkedFaces(answer: unknown): FaceDto[] {
  const isNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const valid = (f: unknown): boolean => {
    const face = f as Record<string, unknown> | null;
    return !!face && typeof face.id === 'string' &&
      ['boundingBoxX1', 'boundingBoxY1', 'boundingBoxX2', 'boundingBoxY2', 'imageWidth', 'imageHeight'].every((key) => isNumber(face[key]));
  };
  if (!Array.isArray(answer) || !answer.every(valid)) throw malformed('GET', '/faces', 'a malformed list of faces: each needs an id, a numeric box and the image size');
  return answer as FaceDto[];
}

interface AssetEditsDto {
  assetId: string;
  edits: Array<{ id?: string; action?: unknown; parameters?: Record<string, unknown> }>;
}

/** GET /assets/{id}/edits appeared in Immich v2.5.0 (x-immich-history of the v3.1 spec). */
function hasEditsEndpoint(version: ImmichServerVersion): boolean {
  return version.major > 2 || (version.major === 2 && version.minor >= 5);
}

function toEdit(edit: AssetEditsDto['edits'][number], path: string): ImmichAssetEdit {
  const p = edit?.parameters ?? {};
  const num = (key: string) => {
    const v = p[key];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw malformed('GET', path, `a ${String(edit?.action)} edit without a numeric ${key}`);
    return v;
  };
  switch (edit?.action) {
    case 'crop':
      return { action: 'crop', x: num('x'), y: num('y'), width: num('width'), height: num('height') };
    case 'rotate':
      return { action: 'rotate', angle: num('angle') };
    case 'mirror':
      if (p.axis !== 'horizontal' && p.axis !== 'vertical') throw malformed('GET', path, 'a mirror edit whose axis is neither horizontal nor vertical');
      return { action: 'mirror', axis: p.axis };
    default:
      throw malformed('GET', path, `an edit action "${String(edit?.action)}" this package does not know (crop, rotate and mirror are)`);
  }
}

function malformed(method: string, path: string, what: string): ImmichApiError {
  return new ImmichApiError({ kind: 'malformed-response', method, path, message: `Immich's answer to ${method} ${path} is not what the API spec describes (${what}): check that the URL points at an Immich server (v1.106 or newer).` });
}

function clampInt(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, Math.floor(Number(value) || min)));
}

export { ImmichApiError };
