/**
 * The subset of Immich response DTOs the client reads, and their conversion to the normalized types.
 * Field names follow the OpenAPI spec (v3.1); v2-only fields (people[].faces, unassignedFaces) are optional.
 */
import type { ImmichAssetSummary, ImmichAssetType, ImmichExif, ImmichFace, ImmichPerson } from './types';

export interface PersonDto {
  id: string;
  name: string;
  isHidden: boolean;
  updatedAt?: string;
  faces?: FaceWithoutPersonDto[]; // v1.x/v2.x GET /assets/{id} only
}

export interface FaceWithoutPersonDto {
  id: string;
  boundingBoxX1: number;
  boundingBoxY1: number;
  boundingBoxX2: number;
  boundingBoxY2: number;
  imageWidth: number;
  imageHeight: number;
  sourceType?: string;
}

export interface FaceDto extends FaceWithoutPersonDto {
  person: PersonDto | null;
}

export interface ExifDto {
  dateTimeOriginal?: string | null;
  timeZone?: string | null;
  description?: string | null;
  rating?: number | null;
  latitude?: number | null;
  longitude?: number | null;
  orientation?: string | number | null;
  exifImageWidth?: number | null;
  exifImageHeight?: number | null;
}

export interface TagDto {
  id: string;
  name: string;
  value: string;
}

export interface AssetDto {
  id: string;
  type: ImmichAssetType;
  originalPath: string;
  originalFileName: string;
  libraryId?: string | null;
  updatedAt: string;
  fileCreatedAt: string;
  localDateTime: string;
  isFavorite: boolean;
  isTrashed: boolean;
  isArchived?: boolean;
  visibility?: string;
  isEdited?: boolean;
  width?: number | null;
  height?: number | null;
  exifInfo?: ExifDto;
  people?: PersonDto[];
  unassignedFaces?: FaceWithoutPersonDto[]; // v1.x/v2.x
  tags?: TagDto[];
}

export interface SearchResponseDto {
  /** `nextCursor`: v3.2 and newer, answered to the filter/cursor search shape. */
  assets: { items: AssetDto[]; nextPage: string | null; nextCursor?: string | null; count: number };
}

export interface AlbumDto {
  id: string;
  albumName: string;
  assetCount: number;
  updatedAt: string;
}

export interface PeopleResponseDto {
  people: PersonDto[];
  hasNextPage?: boolean;
  total: number;
}

export function toExif(dto: ExifDto | undefined | null): ImmichExif {
  const orientation = dto?.orientation;
  return {
    dateTimeOriginal: dto?.dateTimeOriginal ?? null,
    timeZone: dto?.timeZone ?? null,
    description: dto?.description ?? null,
    rating: dto?.rating ?? null,
    latitude: dto?.latitude ?? null,
    longitude: dto?.longitude ?? null,
    orientation: orientation === null || orientation === undefined || orientation === '' ? null : String(orientation),
    exifImageWidth: dto?.exifImageWidth ?? null,
    exifImageHeight: dto?.exifImageHeight ?? null,
  };
}

export function toPerson(dto: PersonDto): ImmichPerson {
  return { id: dto.id, name: dto.name ?? '', isHidden: dto.isHidden === true, updatedAt: dto.updatedAt ?? null };
}

export function toSummary(dto: AssetDto): ImmichAssetSummary {
  return {
    id: dto.id,
    type: dto.type,
    originalPath: dto.originalPath,
    originalFileName: dto.originalFileName,
    libraryId: dto.libraryId ?? null,
    updatedAt: dto.updatedAt,
    fileCreatedAt: dto.fileCreatedAt,
    localDateTime: dto.localDateTime,
    isFavorite: dto.isFavorite === true,
    isTrashed: dto.isTrashed === true,
    visibility: dto.visibility ?? (dto.isArchived ? 'archive' : 'timeline'),
    isEdited: dto.isEdited === true,
    width: dto.width ?? null,
    height: dto.height ?? null,
    exif: dto.exifInfo ? toExif(dto.exifInfo) : null,
    people: dto.people ? dto.people.map(toPerson) : null,
  };
}

function face(dto: FaceWithoutPersonDto, person: PersonDto | null): ImmichFace {
  const name = person?.name?.trim() ? person.name : null;
  return {
    id: dto.id,
    personId: person?.id ?? null,
    personName: name,
    personHidden: person?.isHidden === true,
    x1: dto.boundingBoxX1,
    y1: dto.boundingBoxY1,
    x2: dto.boundingBoxX2,
    y2: dto.boundingBoxY2,
    imageWidth: dto.imageWidth,
    imageHeight: dto.imageHeight,
    sourceType: dto.sourceType ?? 'machine-learning',
  };
}

/** v3: `GET /faces?id=<asset>` answers faces that each carry their person (or null). */
export function facesFromV3(dtos: FaceDto[]): ImmichFace[] {
  return dtos.map((dto) => face(dto, dto.person));
}

/** v1.x/v2.x: faces are nested in `people[].faces` of the asset, unassigned ones in `unassignedFaces`. */
export function facesFromV2(asset: AssetDto): ImmichFace[] {
  const assigned = (asset.people ?? []).flatMap((person) => (person.faces ?? []).map((f) => face(f, person)));
  const unassigned = (asset.unassignedFaces ?? []).map((f) => face(f, null));
  return [...assigned, ...unassigned];
}
