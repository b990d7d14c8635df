/**
 * The simulator's in-memory Immich library. Assets live in an `AssetStore` so that a synthetic
 * library of 100,000 assets can generate them on demand instead of holding them all.
 * Mutations mimic real Immich bookkeeping: an asset's updatedAt moves when the asset row changes
 * (rating, description, favourite, trash), NOT when a person is renamed, an album changes or a face
 * is reassigned — those bump person.updatedAt / album.updatedAt only.
 */
import { createHash } from 'node:crypto';
import type { SimEdit } from './edits';

/** Where the simulated Immich keeps its library (originalPath prefix). */
export const IMMICH_LIBRARY_ROOT = '/usr/src/app/upload/library';

export type SimAssetType = 'IMAGE' | 'VIDEO' | 'AUDIO' | 'OTHER';
export type SimVisibility = 'archive' | 'timeline' | 'hidden' | 'locked';

export interface SimExif {
  dateTimeOriginal: string | null;
  timeZone: string | null;
  description: string;
  rating: number | null;
  latitude: number | null;
  longitude: number | null;
  city: string | null;
  state: string | null;
  country: string | null;
  orientation: string | null;
  exifImageWidth: number | null;
  exifImageHeight: number | null;
  make: string | null;
  model: string | null;
  lensModel?: string | null;
  fileSizeInByte: number | null;
}

export interface SimFace {
  id: string;
  personId: string | null;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  imageWidth: number;
  imageHeight: number;
  sourceType: 'machine-learning' | 'exif' | 'manual';
}

export interface SimAsset {
  id: string;
  /** The user the asset belongs to; absent: the library's owner (the API key's user). */
  ownerId?: string;
  type: SimAssetType;
  originalPath: string;
  originalFileName: string;
  originalMimeType: string;
  libraryId: string | null;
  createdAt: string;
  updatedAt: string;
  fileCreatedAt: string;
  fileModifiedAt: string;
  localDateTime: string;
  isFavorite: boolean;
  visibility: SimVisibility;
  deletedAt: string | null;
  isEdited: boolean;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  checksum: string;
  /** null: metadata extraction has not run yet (search withExif leaves such assets out). */
  exif: SimExif | null;
  tagIds: string[];
  faces: SimFace[];
  /** Edits made in Immich's editor, in order (GET /assets/{id}/edits); isEdited says whether there are any. */
  edits?: SimEdit[];
}

export interface SimPerson {
  id: string;
  name: string;
  isHidden: boolean;
  isFavorite: boolean;
  updatedAt: string;
  /** v3.2: owned by another member of the caller's shared face cluster, so the caller's API shows their faces unassigned. */
  inSharedCluster?: boolean;
}

export interface SimAlbum {
  id: string;
  albumName: string;
  description: string;
  createdAt: string;
  updatedAt: string;
  assetIds: Set<string>;
  /** Absent: the library's owner. */
  ownerId?: string;
  /** Users the album is shared with (album_user rows); they may search it with albumIds. */
  sharedWithUserIds?: string[];
}

export interface SimTag {
  id: string;
  name: string;
  value: string;
  parentId: string | null;
  createdAt: string;
  updatedAt: string;
}

export interface SimUser {
  id: string;
  email: string;
  name: string;
}

/** Assets by position; `at()` may build the asset on the fly. */
export interface AssetStore {
  readonly size: number;
  at(index: number): SimAsset;
  indexOf(id: string): number;
  /** Replace an asset after a mutation (stores that generate assets keep only the changed ones). */
  put(index: number, asset: SimAsset): void;
  /** Appends an asset; returns its index. */
  add(asset: SimAsset): number;
  /** Removes the asset at index; later assets move down by one. */
  remove(index: number): void;
}

export class ArrayAssetStore implements AssetStore {
  private readonly byId = new Map<string, number>();
  constructor(private readonly assets: SimAsset[]) {
    assets.forEach((asset, i) => this.byId.set(asset.id, i));
  }
  get size(): number {
    return this.assets.length;
  }
  at(index: number): SimAsset {
    return this.assets[index];
  }
  indexOf(id: string): number {
    return this.byId.get(id) ?? -1;
  }
  put(index: number, asset: SimAsset): void {
    this.assets[index] = asset;
  }
  add(asset: SimAsset): number {
    this.assets.push(asset);
    this.byId.set(asset.id, this.assets.length - 1);
    return this.assets.length - 1;
  }
  remove(index: number): void {
    const [gone] = this.assets.splice(index, 1);
    this.byId.delete(gone.id);
    for (let i = index; i < this.assets.length; i++) this.byId.set(this.assets[i].id, i);
  }
}

/** Deterministic version-4-shaped UUID from a seed (the spec's uuid pattern demands version 4). */
export function uuidFrom(seed: string): string {
  const hex = createHash('sha1').update(seed).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

export class SimLibrary {
  readonly people = new Map<string, SimPerson>();
  readonly albums = new Map<string, SimAlbum>();
  readonly tags = new Map<string, SimTag>();
  /** Other users (owners of assets or albums shared with the library's owner). */
  readonly users = new Map<string, SimUser>();
  private partnersInTimeline: string[] = [];
  /** Increases on every mutation; the server drops cached search results when it changes. */
  version = 0;
  private lastClock = 0;
  private addedCount = 0;

  constructor(
    readonly assets: AssetStore,
    readonly owner: SimUser,
    init: { people?: SimPerson[]; albums?: SimAlbum[]; tags?: SimTag[] } = {},
  ) {
    init.people?.forEach((p) => this.people.set(p.id, p));
    init.albums?.forEach((a) => this.albums.set(a.id, a));
    init.tags?.forEach((t) => this.tags.set(t.id, t));
  }

  /** Partners whose assets appear in the owner's timeline, and so in the owner's searches (Immich: getMyPartnerIds with timelineEnabled). */
  get timelinePartnerIds(): readonly string[] {
    return this.partnersInTimeline;
  }

  setTimelinePartners(userIds: string[]): void {
    this.partnersInTimeline = [...userIds];
    this.version++;
  }

  /** A strictly increasing clock, so `updatedAfter` tests never tie with the previous state. */
  now(): string {
    this.lastClock = Math.max(Date.now(), this.lastClock + 1);
    return new Date(this.lastClock).toISOString();
  }

  asset(id: string): SimAsset | undefined {
    const index = this.assets.indexOf(id);
    return index < 0 ? undefined : this.assets.at(index);
  }

  /** Every asset by index; lazy stores build them one at a time. */
  *allAssets(): Generator<SimAsset> {
    for (let i = 0; i < this.assets.size; i++) yield this.assets.at(i);
  }

  private mutateAsset(id: string, change: (asset: SimAsset) => void, bumpUpdatedAt: boolean): SimAsset {
    const index = this.assets.indexOf(id);
    if (index < 0) throw new Error(`simulator: no asset ${id}`);
    const copy = structuredClone(this.assets.at(index));
    change(copy);
    if (bumpUpdatedAt) copy.updatedAt = this.now();
    this.assets.put(index, copy);
    this.version++;
    return copy;
  }

  private requireExif(asset: SimAsset): SimExif {
    if (!asset.exif) throw new Error(`simulator: asset ${asset.id} has no extracted metadata yet`);
    return asset.exif;
  }

  setRating(assetId: string, rating: number | null): SimAsset {
    return this.mutateAsset(assetId, (a) => (this.requireExif(a).rating = rating), true);
  }

  setDescription(assetId: string, description: string): SimAsset {
    return this.mutateAsset(assetId, (a) => (this.requireExif(a).description = description), true);
  }

  setLocation(assetId: string, latitude: number | null, longitude: number | null): SimAsset {
    return this.mutateAsset(assetId, (a) => Object.assign(this.requireExif(a), { latitude, longitude }), true);
  }

  setFavorite(assetId: string, isFavorite: boolean): SimAsset {
    return this.mutateAsset(assetId, (a) => (a.isFavorite = isFavorite), true);
  }

  trashAsset(assetId: string): SimAsset {
    return this.mutateAsset(assetId, (a) => (a.deletedAt = this.now()), true);
  }

  /** Saving in Immich's editor replaces the asset's edit list and marks the asset row as edited. */
  editAsset(assetId: string, edits: SimEdit[]): SimAsset {
    return this.mutateAsset(assetId, (a) => Object.assign(a, { edits: edits.map((e) => ({ ...e, parameters: { ...e.parameters } })), isEdited: edits.length > 0 }), true);
  }

  /** Tag assignment lives in a join table in Immich: the asset row is not touched. */
  tagAsset(assetId: string, tagId: string, present = true): SimAsset {
    if (!this.tags.has(tagId)) throw new Error(`simulator: no tag ${tagId}`);
    return this.mutateAsset(assetId, (a) => (a.tagIds = present ? [...new Set([...a.tagIds, tagId])] : a.tagIds.filter((t) => t !== tagId)), false);
  }

  renamePerson(personId: string, name: string): SimPerson {
    const person = this.people.get(personId);
    if (!person) throw new Error(`simulator: no person ${personId}`);
    person.name = name;
    person.updatedAt = this.now();
    this.version++;
    return person;
  }

  setPersonHidden(personId: string, isHidden: boolean): SimPerson {
    const person = this.people.get(personId);
    if (!person) throw new Error(`simulator: no person ${personId}`);
    person.isHidden = isHidden;
    person.updatedAt = this.now();
    this.version++;
    return person;
  }

  /** Reassigning a face changes the face row only (asset.updatedAt stays, as in Immich). */
  /** v3.2: the person moves into (or out of) a face cluster another member shares; no updatedAt changes. */
  setPersonInSharedCluster(personId: string, inSharedCluster: boolean): SimPerson {
    const person = this.people.get(personId);
    if (!person) throw new Error(`simulator: no person ${personId}`);
    person.inSharedCluster = inSharedCluster;
    this.version++;
    return person;
  }

  assignFace(faceId: string, personId: string | null): SimFace {
    if (personId !== null && !this.people.has(personId)) throw new Error(`simulator: no person ${personId}`);
    for (let i = 0; i < this.assets.size; i++) {
      const asset = this.assets.at(i);
      if (asset.faces.some((f) => f.id === faceId)) {
        const updated = this.mutateAsset(asset.id, (a) => a.faces.forEach((f) => f.id === faceId && (f.personId = personId)), false);
        return updated.faces.find((f) => f.id === faceId)!;
      }
    }
    throw new Error(`simulator: no face ${faceId}`);
  }

  addAssetToAlbum(albumId: string, assetId: string): SimAlbum {
    return this.changeAlbum(albumId, (album) => album.assetIds.add(assetId), assetId);
  }

  /** Like Immich v3's album service: removing assets leaves the album's updatedAt as it was (only adding bumps it). */
  removeAssetFromAlbum(albumId: string, assetId: string): SimAlbum {
    return this.changeAlbum(albumId, (album) => album.assetIds.delete(assetId), assetId, { touch: false });
  }

  renameAlbum(albumId: string, albumName: string): SimAlbum {
    return this.changeAlbum(albumId, (album) => (album.albumName = albumName));
  }

  private changeAlbum(albumId: string, change: (album: SimAlbum) => void, assetId?: string, { touch = true } = {}): SimAlbum {
    const album = this.albums.get(albumId);
    if (!album) throw new Error(`simulator: no album ${albumId}`);
    if (assetId !== undefined && this.assets.indexOf(assetId) < 0) throw new Error(`simulator: no asset ${assetId}`);
    change(album);
    if (touch) album.updatedAt = this.now();
    this.version++;
    return album;
  }

  /**
   * A new asset, as an upload would create it: fresh id, checksum and path (under
   * `${IMMICH_LIBRARY_ROOT}/added/`), createdAt = updatedAt = now; `partial` overrides any field.
   * No file is written; give `originalPath` of a file you placed if the test reads it.
   */
  addAsset(partial: Partial<SimAsset> = {}): SimAsset {
    const n = ++this.addedCount;
    const at = this.now();
    const id = partial.id ?? uuidFrom(`sim-added:${this.owner.id}:${n}:${at}`);
    if (this.assets.indexOf(id) >= 0) throw new Error(`simulator: asset ${id} exists already`);
    const taken = partial.fileCreatedAt ?? at;
    const name = partial.originalFileName ?? `added-${String(n).padStart(4, '0')}.jpg`;
    const asset: SimAsset = {
      id,
      type: 'IMAGE',
      originalPath: `${IMMICH_LIBRARY_ROOT}/added/${name}`,
      originalFileName: name,
      originalMimeType: 'image/jpeg',
      libraryId: null,
      createdAt: at,
      updatedAt: at,
      fileCreatedAt: taken,
      fileModifiedAt: taken,
      localDateTime: taken,
      isFavorite: false,
      visibility: 'timeline',
      deletedAt: null,
      isEdited: false,
      width: 640,
      height: 480,
      durationMs: null,
      checksum: createHash('sha1').update(`sim-added:${id}`).digest('base64'),
      exif: {
        dateTimeOriginal: taken,
        timeZone: 'UTC',
        description: '',
        rating: null,
        latitude: null,
        longitude: null,
        city: null,
        state: null,
        country: null,
        orientation: '1',
        exifImageWidth: 640,
        exifImageHeight: 480,
        make: null,
        model: null,
        fileSizeInByte: null,
      },
      tagIds: [],
      faces: [],
      ...partial,
    };
    asset.id = id;
    this.assets.add(asset);
    this.version++;
    return asset;
  }

  /** Deletes for good (trash emptied): gone from search, GET /assets/{id} and its albums. */
  deleteAsset(assetId: string): void {
    const index = this.assets.indexOf(assetId);
    if (index < 0) throw new Error(`simulator: no asset ${assetId}`);
    this.assets.remove(index);
    for (const album of this.albums.values()) album.assetIds.delete(assetId);
    this.version++;
  }

  /** The capture time as Immich holds it after an edit and re-extraction: fileCreatedAt, localDateTime, exif date. */
  setFileCreatedAt(assetId: string, iso: string): SimAsset {
    if (Number.isNaN(Date.parse(iso))) throw new Error(`simulator: ${iso} is not a date-time`);
    const instant = new Date(iso).toISOString();
    return this.mutateAsset(
      assetId,
      (a) => {
        a.fileCreatedAt = instant;
        a.localDateTime = instant;
        if (a.exif) a.exif.dateTimeOriginal = instant;
      },
      true,
    );
  }

  /** Only updatedAt moves (any other change to the asset row). */
  touchAsset(assetId: string): SimAsset {
    return this.mutateAsset(assetId, () => undefined, true);
  }

  personByName(name: string): SimPerson | undefined {
    return [...this.people.values()].find((p) => p.name === name);
  }

  albumByName(name: string): SimAlbum | undefined {
    return [...this.albums.values()].find((a) => a.albumName === name);
  }

  tagByValue(value: string): SimTag | undefined {
    return [...this.tags.values()].find((t) => t.value === value);
  }

  assetByFileName(name: string): SimAsset | undefined {
    for (const asset of this.allAssets()) if (asset.originalFileName === name) return asset;
    return undefined;
  }

  /** Tag ids with all their ancestors (Immich's tag search matches descendants through a closure table). */
  tagClosure(tagIds: string[]): Set<string> {
    const out = new Set<string>();
    for (const id of tagIds) {
      let current: SimTag | undefined = this.tags.get(id);
      while (current) {
        out.add(current.id);
        current = current.parentId ? this.tags.get(current.parentId) : undefined;
      }
    }
    return out;
  }
}

/** Builds the parent chain for tag values like "Travel/Japan/東京" (Immich stores one row per level). */
export function buildTags(values: string[], at: string): SimTag[] {
  const byValue = new Map<string, SimTag>();
  for (const value of values) {
    const parts = value.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const full = parts.slice(0, i).join('/');
      if (byValue.has(full)) continue;
      const parent = i > 1 ? byValue.get(parts.slice(0, i - 1).join('/'))! : null;
      byValue.set(full, { id: uuidFrom(`tag:${full}`), name: parts[i - 1], value: full, parentId: parent?.id ?? null, createdAt: at, updatedAt: at });
    }
  }
  return [...byValue.values()];
}
