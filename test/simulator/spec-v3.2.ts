/**
 * Immich v3.2's API as far as the simulator serves it, DERIVED — no v3.2 OpenAPI JSON is available here.
 *
 * Source: the generated types of `@immich/sdk` 3.2.2 (build/fetch-client.d.ts, generated from Immich's v3.2
 * OpenAPI spec), compared with shared/immich/openapi.json (v3.1.0) for every schema the simulator serves or
 * accepts. The differences, applied to the v3.1 spec by `deriveV32Spec`:
 * - MetadataSearchDto (POST /search/metadata): new `cursor` (string), `filter` (SearchFilter) and `orderBy`
 *   (SearchOrder); every v3.1 field stays.
 * - New schemas: SearchFilter (+ `or`: SearchFilterBranch[]), SearchFilterBranch, SearchOrder, SearchOrderField
 *   and the filter operators IdsFilter, IdFilter, IdFilterNullable, StringFilter, StringFilterNullable,
 *   StringPatternFilter, StringSimilarityFilter, DateFilter, DateFilterNullable, NumberFilter,
 *   NumberFilterNullable, BoolFilter, EnumFilterAssetType, EnumFilterAssetVisibility.
 * - SearchAssetResponseDto: new required `nextCursor` (string | null) beside `nextPage`.
 * - UserAdminResponseDto (GET /users/me): new required `clusterGroupId` (string; "Cluster group the user is a
 *   member of" — the shared face clusters, whose faces another member's person may own).
 * - Unchanged (same properties and required lists): AssetResponseDto, AssetFaceResponseDto (`person` was
 *   already nullable in v3.1), PersonResponseDto, PeopleResponseDto, AlbumResponseDto, TagResponseDto,
 *   ExifResponseDto, AssetEditsResponseDto, ServerVersionResponseDto, SearchAlbumResponseDto, and the
 *   query parameters of GET /albums, /people and /faces.
 *
 * Not in the types, so the simulator's reading (search-v3.2.ts): which MetadataSearchDto fields are the
 * deprecated flat shape (every filter with a SearchFilter counterpart, `page` and `order`) and which are shared
 * by both shapes (`size`, `withDeleted`, `withExif`, `withPeople`, `withStacked`: what to include, not what to
 * match); the `deprecated` flags below mark the former. The SDK carries the shapes, not those flags.
 * The types carry no formats or patterns; ids and instants get v3.1's (uuid, date-time) so the simulator stays
 * as strict as it is for v3.1.
 */
type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const uuid: Json = { type: 'string', format: 'uuid' };
const instant: Json = { type: 'string', format: 'date-time' };
const nullable = (schema: Json): Json => ({ ...schema, nullable: true });
const list = (items: Json): Json => ({ type: 'array', items });
const object = (properties: Record<string, Json>, required: string[] = []): Json => ({
  type: 'object',
  properties,
  ...(required.length ? { required } : {}),
  additionalProperties: false,
});

const FILTER_OPERATORS: Record<string, Json> = {
  IdsFilter: object({ all: list(uuid), any: list(uuid), none: list(uuid) }),
  IdFilter: object({ eq: uuid, ne: uuid }),
  IdFilterNullable: object({ eq: nullable(uuid), ne: nullable(uuid) }),
  StringFilter: object({ eq: { type: 'string' }, ne: { type: 'string' }, in: list({ type: 'string' }), notIn: list({ type: 'string' }) }),
  StringFilterNullable: object({ eq: nullable({ type: 'string' }), ne: nullable({ type: 'string' }), in: list({ type: 'string' }), notIn: list({ type: 'string' }) }),
  StringPatternFilter: object({
    eq: nullable({ type: 'string' }),
    ne: nullable({ type: 'string' }),
    in: list({ type: 'string' }),
    notIn: list({ type: 'string' }),
    like: { type: 'string' },
    notLike: { type: 'string' },
    startsWith: { type: 'string' },
    endsWith: { type: 'string' },
  }),
  StringSimilarityFilter: object({ matches: { type: 'string' } }, ['matches']),
  DateFilter: object({ eq: instant, ne: instant, gt: instant, gte: instant, lt: instant, lte: instant }),
  DateFilterNullable: object({ eq: nullable(instant), ne: nullable(instant), gt: instant, gte: instant, lt: instant, lte: instant }),
  NumberFilter: object({ eq: { type: 'number' }, ne: { type: 'number' }, gt: { type: 'number' }, gte: { type: 'number' }, lt: { type: 'number' }, lte: { type: 'number' }, in: list({ type: 'number' }), notIn: list({ type: 'number' }) }),
  NumberFilterNullable: object({
    eq: nullable({ type: 'number' }),
    ne: nullable({ type: 'number' }),
    gt: { type: 'number' },
    gte: { type: 'number' },
    lt: { type: 'number' },
    lte: { type: 'number' },
    in: list({ type: 'number' }),
    notIn: list({ type: 'number' }),
  }),
  BoolFilter: object({ eq: { type: 'boolean' } }, ['eq']),
  EnumFilterAssetType: object({ eq: ref('AssetTypeEnum'), ne: ref('AssetTypeEnum'), in: list(ref('AssetTypeEnum')), notIn: list(ref('AssetTypeEnum')) }),
  EnumFilterAssetVisibility: object({ eq: ref('AssetVisibility'), ne: ref('AssetVisibility'), in: list(ref('AssetVisibility')), notIn: list(ref('AssetVisibility')) }),
};

/** SearchFilterBranch's fields and the operator of each (SearchFilter has the same plus `or`). */
export const SEARCH_FILTER_FIELDS: Record<string, string> = {
  albumIds: 'IdsFilter',
  checksum: 'StringFilter',
  city: 'StringFilterNullable',
  country: 'StringFilterNullable',
  createdAt: 'DateFilter',
  description: 'StringPatternFilter',
  encodedVideoPath: 'StringFilter',
  fileSizeInBytes: 'NumberFilter',
  hasAlbums: 'BoolFilter',
  hasPeople: 'BoolFilter',
  hasTags: 'BoolFilter',
  id: 'IdFilter',
  isEncoded: 'BoolFilter',
  isFavorite: 'BoolFilter',
  isMotion: 'BoolFilter',
  isOffline: 'BoolFilter',
  lensModel: 'StringFilterNullable',
  libraryId: 'IdFilterNullable',
  make: 'StringFilterNullable',
  model: 'StringFilterNullable',
  ocr: 'StringSimilarityFilter',
  originalFileName: 'StringPatternFilter',
  originalPath: 'StringPatternFilter',
  personIds: 'IdsFilter',
  rating: 'NumberFilterNullable',
  state: 'StringFilterNullable',
  tagIds: 'IdsFilter',
  takenAt: 'DateFilter',
  trashedAt: 'DateFilterNullable',
  type: 'EnumFilterAssetType',
  updatedAt: 'DateFilter',
  visibility: 'EnumFilterAssetVisibility',
};

/** MetadataSearchDto fields of the v3.2 shape. */
export const NEW_SEARCH_FIELDS = ['filter', 'cursor', 'orderBy'] as const;
/** MetadataSearchDto fields both shapes take (what to include in the answer, not what to match). */
export const SHARED_SEARCH_FIELDS = ['size', 'withDeleted', 'withExif', 'withPeople', 'withStacked'] as const;

const branchProperties = Object.fromEntries(Object.entries(SEARCH_FILTER_FIELDS).map(([field, operator]) => [field, ref(operator)]));

const NEW_SCHEMAS: Record<string, Json> = {
  ...FILTER_OPERATORS,
  SearchFilterBranch: object(branchProperties),
  SearchFilter: object({ ...branchProperties, or: list(ref('SearchFilterBranch')) }),
  SearchOrderField: { type: 'string', enum: ['fileCreatedAt', 'localDateTime', 'fileSizeInBytes', 'rating'] },
  SearchOrder: object({ direction: ref('AssetOrder'), field: ref('SearchOrderField') }),
};

/** The v3.1 spec (parsed openapi.json, not modified) with the v3.2 differences above: a new object. */
export function deriveV32Spec(v31: Json): Json {
  const spec = JSON.parse(JSON.stringify(v31)) as Json;
  (spec.info as Json).version = '3.2.2';
  (spec.info as Json)['x-derived-from'] = '@immich/sdk 3.2.2 build/fetch-client.d.ts (see test/simulator/spec-v3.2.ts)';
  const schemas = (spec.components as Json).schemas as Record<string, Json>;
  Object.assign(schemas, NEW_SCHEMAS);

  const search = schemas.MetadataSearchDto;
  const properties = search.properties as Record<string, Json>;
  for (const [name, schema] of Object.entries(properties)) {
    if (!(SHARED_SEARCH_FIELDS as readonly string[]).includes(name)) schema.deprecated = true;
  }
  properties.cursor = { type: 'string', description: 'Cursor for the next page of results' };
  properties.filter = ref('SearchFilter');
  properties.orderBy = ref('SearchOrder');

  const response = schemas.SearchAssetResponseDto;
  (response.properties as Record<string, Json>).nextCursor = { type: 'string', nullable: true, description: 'Cursor for the next page of results' };
  response.required = [...((response.required as string[]) ?? []), 'nextCursor'];

  const user = schemas.UserAdminResponseDto;
  (user.properties as Record<string, Json>).clusterGroupId = { type: 'string', description: 'Cluster group the user is a member of' };
  user.required = [...((user.required as string[]) ?? []), 'clusterGroupId'];
  return spec;
}
