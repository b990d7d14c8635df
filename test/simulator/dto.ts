/** Renders simulator records as Immich v3.1 response DTOs (and the v2 and v3.2 shapes where they differ). */
import { createHash } from 'node:crypto';
import { editedFaceBox } from './edits';
import type { SimAlbum, SimAsset, SimFace, SimLibrary, SimPerson, SimTag, SimUser } from './library';

export type ServerMode = 'v2' | 'v3';

export function personDto(person: SimPerson): Record<string, unknown> {
  return {
    id: person.id,
    name: person.name,
    birthDate: null,
    thumbnailPath: `/usr/src/app/upload/thumbs/${person.id}.jpeg`,
    isHidden: person.isHidden,
    isFavorite: person.isFavorite,
    updatedAt: person.updatedAt,
    color: '#5b7fde',
  };
}

/** Immich serves the face boxes of an edited asset moved into the edited image (see edits.ts). */
function faceBox(face: SimFace, asset?: SimAsset): Record<string, unknown> {
  const box = asset?.edits?.length && asset.exif ? editedFaceBox(face, asset.edits, orientedSize(asset.exif)) : face;
  return {
    id: face.id,
    imageWidth: box.imageWidth,
    imageHeight: box.imageHeight,
    boundingBoxX1: box.x1,
    boundingBoxY1: box.y1,
    boundingBoxX2: box.x2,
    boundingBoxY2: box.y2,
    sourceType: face.sourceType,
  };
}

/** Immich's getDimensions: the EXIF size, swapped for orientations that turn the image a quarter. */
function orientedSize(exif: NonNullable<SimAsset['exif']>): { width: number; height: number } {
  const width = exif.exifImageWidth ?? 0;
  const height = exif.exifImageHeight ?? 0;
  return ['5', '6', '7', '8'].includes(exif.orientation ?? '') ? { width: height, height: width } : { width, height };
}

/**
 * A person the caller's v3.2 server shows: not one owned by another member of a shared face cluster (`inSharedCluster`),
 * whose faces answer `person: null` and who is left out of the asset's people. v3.1 has no shared clusters.
 */
function visiblePerson(personId: string | null, library: SimLibrary, sharedClusters: boolean): SimPerson | undefined {
  const person = personId ? library.people.get(personId) : undefined;
  return person && !(sharedClusters && person.inSharedCluster) ? person : undefined;
}

export function faceDto(face: SimFace, library: SimLibrary, asset?: SimAsset, sharedClusters = false): Record<string, unknown> {
  const person = visiblePerson(face.personId, library, sharedClusters);
  return { ...faceBox(face, asset), person: person ? personDto(person) : null };
}

export function tagDto(tag: SimTag): Record<string, unknown> {
  return { id: tag.id, name: tag.name, value: tag.value, createdAt: tag.createdAt, updatedAt: tag.updatedAt, ...(tag.parentId ? { parentId: tag.parentId } : {}) };
}

export function userDto(user: SimUser, at: string): Record<string, unknown> {
  return { id: user.id, email: user.email, name: user.name, avatarColor: 'primary', profileChangedAt: at, profileImagePath: '' };
}

export function userAdminDto(user: SimUser, at: string): Record<string, unknown> {
  return {
    ...userDto(user, at),
    createdAt: at,
    updatedAt: at,
    deletedAt: null,
    isAdmin: true,
    license: null,
    oauthId: '',
    quotaSizeInBytes: null,
    quotaUsageInBytes: 0,
    shouldChangePassword: false,
    status: 'active',
    storageLabel: 'admin',
  };
}

function exifDto(asset: SimAsset): Record<string, unknown> | undefined {
  const e = asset.exif;
  if (!e) return undefined;
  return {
    make: e.make,
    model: e.model,
    exifImageWidth: e.exifImageWidth,
    exifImageHeight: e.exifImageHeight,
    fileSizeInByte: e.fileSizeInByte,
    orientation: e.orientation,
    dateTimeOriginal: e.dateTimeOriginal,
    modifyDate: e.dateTimeOriginal,
    timeZone: e.timeZone,
    lensModel: null,
    fNumber: null,
    focalLength: null,
    iso: null,
    exposureTime: null,
    latitude: e.latitude,
    longitude: e.longitude,
    city: e.city,
    state: e.state,
    country: e.country,
    description: e.description,
    projectionType: null,
    rating: e.rating,
  };
}

function peopleOf(asset: SimAsset, library: SimLibrary, sharedClusters: boolean): SimPerson[] {
  const ids = [...new Set(asset.faces.map((f) => f.personId).filter((id): id is string => id !== null))];
  return ids.map((id) => visiblePerson(id, library, sharedClusters)).filter((p): p is SimPerson => p !== undefined);
}

/** The fields every AssetResponseDto has (search results carry only these plus exif/people when asked). */
export function assetBaseDto(asset: SimAsset): Record<string, unknown> {
  return {
    id: asset.id,
    type: asset.type,
    originalPath: asset.originalPath,
    originalFileName: asset.originalFileName,
    originalMimeType: asset.originalMimeType,
    ownerId: '',
    libraryId: asset.libraryId,
    createdAt: asset.createdAt,
    updatedAt: asset.updatedAt,
    fileCreatedAt: asset.fileCreatedAt,
    fileModifiedAt: asset.fileModifiedAt,
    localDateTime: asset.localDateTime,
    isFavorite: asset.isFavorite,
    isArchived: asset.visibility === 'archive',
    isTrashed: asset.deletedAt !== null,
    isOffline: false,
    isEdited: asset.isEdited,
    visibility: asset.visibility,
    width: asset.width,
    height: asset.height,
    duration: asset.durationMs,
    checksum: asset.checksum,
    thumbhash: null,
    hasMetadata: asset.exif !== null,
    livePhotoVideoId: null,
    duplicateId: null,
    resized: true,
    stack: null,
  };
}

export function searchItemDto(asset: SimAsset, library: SimLibrary, options: { withExif: boolean; withPeople: boolean; sharedClusters?: boolean }): Record<string, unknown> {
  const dto: Record<string, unknown> = { ...assetBaseDto(asset), ownerId: asset.ownerId ?? library.owner.id };
  if (options.withExif) dto.exifInfo = exifDto(asset);
  if (options.withPeople) dto.people = peopleOf(asset, library, options.sharedClusters === true).map(personDto);
  return dto;
}

/** GET /assets/{id}: v3 lists people without faces (faces come from GET /faces); v2 nests them. */
export function assetDetailDto(asset: SimAsset, library: SimLibrary, mode: ServerMode, at: string, sharedClusters = false): Record<string, unknown> {
  const owner = (asset.ownerId && library.users.get(asset.ownerId)) || library.owner;
  const dto: Record<string, unknown> = { ...assetBaseDto(asset), ownerId: owner.id, owner: userDto(owner, at) };
  const exif = exifDto(asset);
  if (exif) dto.exifInfo = exif;
  dto.tags = asset.tagIds.map((id) => library.tags.get(id)).filter((t): t is SimTag => t !== undefined).map(tagDto);
  const people = peopleOf(asset, library, sharedClusters);
  if (mode === 'v3') {
    dto.people = people.map(personDto);
  } else {
    dto.people = people.map((person) => ({ ...personDto(person), faces: asset.faces.filter((f) => f.personId === person.id).map((f) => faceBox(f, asset)) }));
    dto.unassignedFaces = asset.faces.filter((f) => f.personId === null || !library.people.has(f.personId)).map((f) => faceBox(f, asset));
  }
  return dto;
}

export function albumDto(album: SimAlbum, library: SimLibrary, at: string): Record<string, unknown> {
  return {
    id: album.id,
    albumName: album.albumName,
    description: album.description,
    albumThumbnailAssetId: album.assetIds.values().next().value ?? null,
    albumUsers: [{ role: 'owner', user: userDto(library.owner, at) }],
    assetCount: album.assetIds.size,
    createdAt: album.createdAt,
    updatedAt: album.updatedAt,
    hasSharedLink: false,
    isActivityEnabled: true,
    shared: false,
    order: 'desc',
  };
}

export function checksumOf(seed: string): string {
  return createHash('sha1').update(seed).digest('base64');
}
