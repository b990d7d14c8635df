/**
 * A library of N synthetic assets for paging and load tests. Assets are generated from their index
 * when asked for (only mutated ones are stored), so 100,000 assets cost little memory. Files are
 * not copied unless asked (`materialize`), because a benchmark usually needs only some of them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildTags, SimLibrary, uuidFrom, type AssetStore, type SimAlbum, type SimAsset, type SimPerson } from './library';
import { IMMICH_LIBRARY_ROOT } from './sample-library';
import { samplesDir } from './paths';

export interface SyntheticOptions {
  photoDir: string;
  /** Source files cycled through for the assets' content (default: the JPEG samples). */
  filesPool?: string[];
  albumCount?: number;
  peopleCount?: number;
  /** Copy a file for every asset now (default: only when n ≤ 2000). */
  copyFiles?: boolean;
}

export interface SyntheticLibrary {
  library: SimLibrary;
  photoDir: string;
  /** Local path of asset i under photoDir. */
  localPath(index: number): string;
  /** Copies the pool files for the given asset indices (all when omitted) into photoDir. */
  materialize(indices?: Iterable<number>): void;
}

const ID_PREFIX = 'a5e70000-0000-4000-8000-';
const START = Date.parse('2015-01-01T08:00:00.000Z');
const STEP_MS = 3_600_000;
const IMPORTED_AT = '2025-02-01T00:00:00.000Z';

export function syntheticAssetId(index: number): string {
  return ID_PREFIX + index.toString(16).padStart(12, '0');
}

/**
 * Physical slots 0..n-1 are generated, n.. are added assets; removed slots are skipped, so a position
 * (what AssetStore calls index) maps to a slot by counting the removed slots before it.
 */
class SyntheticStore implements AssetStore {
  private readonly changed = new Map<number, SimAsset>();
  private readonly added: SimAsset[] = [];
  private readonly addedSlots = new Map<string, number>();
  /** Sorted removed slots. */
  private readonly removed: number[] = [];
  constructor(
    private readonly generated: number,
    private readonly build: (index: number) => SimAsset,
  ) {}
  get size(): number {
    return this.generated + this.added.length - this.removed.length;
  }
  private slotOf(position: number): number {
    let slot = position;
    for (const r of this.removed) {
      if (r <= slot) slot++;
      else break;
    }
    return slot;
  }
  private positionOf(slot: number): number {
    let before = 0;
    for (const r of this.removed) {
      if (r === slot) return -1;
      if (r < slot) before++;
      else break;
    }
    return slot - before;
  }
  at(index: number): SimAsset {
    const slot = this.slotOf(index);
    return this.changed.get(slot) ?? (slot < this.generated ? this.build(slot) : this.added[slot - this.generated]);
  }
  indexOf(id: string): number {
    const added = this.addedSlots.get(id);
    if (added !== undefined) return this.positionOf(added);
    if (!id.startsWith(ID_PREFIX)) return -1;
    const slot = parseInt(id.slice(ID_PREFIX.length), 16);
    return Number.isInteger(slot) && slot >= 0 && slot < this.generated ? this.positionOf(slot) : -1;
  }
  put(index: number, asset: SimAsset): void {
    this.changed.set(this.slotOf(index), asset);
  }
  add(asset: SimAsset): number {
    const slot = this.generated + this.added.length;
    this.added.push(asset);
    this.addedSlots.set(asset.id, slot);
    return this.positionOf(slot);
  }
  remove(index: number): void {
    const slot = this.slotOf(index);
    this.changed.delete(slot);
    const at = this.removed.findIndex((r) => r > slot);
    this.removed.splice(at < 0 ? this.removed.length : at, 0, slot);
  }
}

export function createSyntheticLibrary(n: number, options: SyntheticOptions): SyntheticLibrary {
  const pool = options.filesPool ?? ['metadata/rating/mongolels.jpg', 'metadata/tags/picasa.jpg', 'albums/nature/cyclamen_persicum.jpg'].map((s) => path.join(samplesDir(), s));
  const people: SimPerson[] = Array.from({ length: options.peopleCount ?? 20 }, (_, i) => ({
    id: uuidFrom(`synthetic-person:${i}`),
    name: i % 7 === 6 ? '' : `Person ${i + 1}`,
    isHidden: i % 11 === 10,
    isFavorite: false,
    updatedAt: IMPORTED_AT,
  }));
  const tags = buildTags(['Synthetic/Even', 'Synthetic/Odd', 'Holiday'], IMPORTED_AT);
  const albumCount = options.albumCount ?? 5;
  const albums: SimAlbum[] = Array.from({ length: albumCount }, (_, k) => ({
    id: uuidFrom(`synthetic-album:${k}`),
    albumName: `Album ${k + 1}`,
    description: '',
    createdAt: IMPORTED_AT,
    updatedAt: IMPORTED_AT,
    assetIds: new Set<string>(),
  }));
  // asset i is in album (i mod 10) when that album exists: membership grows with n, album count does not
  for (let i = 0; i < n; i++) {
    const k = i % 10;
    if (k < albumCount) albums[k].assetIds.add(syntheticAssetId(i));
  }
  const relative = (i: number) => {
    const taken = new Date(START + i * STEP_MS).toISOString();
    const ext = path.extname(pool[i % pool.length]).toLowerCase();
    return { taken, rel: `${taken.slice(0, 4)}/${taken.slice(5, 7)}/syn-${String(i).padStart(6, '0')}${ext}` };
  };
  const build = (i: number): SimAsset => {
    const { taken, rel } = relative(i);
    const person = people.length && i % 4 === 0 ? people[i % people.length] : null;
    const gps = i % 5 === 0 ? { latitude: ((i % 170) - 85) + 0.5, longitude: ((i % 350) - 175) + 0.25 } : { latitude: null, longitude: null };
    return {
      id: syntheticAssetId(i),
      type: 'IMAGE',
      originalPath: `${IMMICH_LIBRARY_ROOT}/${rel}`,
      originalFileName: path.basename(rel),
      originalMimeType: 'image/jpeg',
      libraryId: null,
      createdAt: IMPORTED_AT,
      updatedAt: IMPORTED_AT,
      fileCreatedAt: taken,
      fileModifiedAt: taken,
      localDateTime: taken,
      isFavorite: i % 13 === 0,
      visibility: 'timeline',
      deletedAt: null,
      isEdited: false,
      width: 640,
      height: 480,
      durationMs: null,
      checksum: Buffer.from(`synthetic-${i}`).toString('base64'),
      exif: {
        dateTimeOriginal: taken,
        timeZone: 'UTC',
        description: i % 7 === 0 ? `Synthetic asset ${i} — 合成` : '',
        rating: i % 6 === 0 ? null : i % 6,
        ...gps,
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
      tagIds: i % 9 === 0 ? [tags.find((t) => t.value === (i % 2 ? 'Synthetic/Odd' : 'Synthetic/Even'))!.id] : [],
      faces: person ? [{ id: uuidFrom(`synthetic-face:${i}`), personId: person.id, x1: 100, y1: 80, x2: 180, y2: 190, imageWidth: 640, imageHeight: 480, sourceType: 'machine-learning' }] : [],
    };
  };
  const owner = { id: uuidFrom('user:synthetic'), email: 'bench@example.com', name: 'Bench User' };
  const library = new SimLibrary(new SyntheticStore(n, build), owner, { people, albums, tags });
  const localPath = (i: number) => path.join(options.photoDir, relative(i).rel);
  const materialize = (indices?: Iterable<number>) => {
    const list = indices ?? Array.from({ length: n }, (_, i) => i);
    for (const i of list) {
      const target = localPath(i);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.copyFileSync(pool[i % pool.length], target);
    }
  };
  if (options.copyFiles ?? n <= 2000) materialize();
  return { library, photoDir: options.photoDir, localPath, materialize };
}
