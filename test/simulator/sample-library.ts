/**
 * The demo library: copies of the shared sample photos laid out as `photoDir/<year>/<month>/<file>`,
 * with the Immich records a real server would hold for them (values from expected-immich-emulated.json,
 * plus what a user would have added in Immich: people, albums, tags, ratings, edited descriptions
 * incl. non-Latin text, positions south/west of the equator/meridian).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { checksumOf } from './dto';
import { ArrayAssetStore, buildTags, IMMICH_LIBRARY_ROOT, SimLibrary, uuidFrom, type SimAlbum, type SimAsset, type SimExif, type SimFace, type SimPerson, type SimUser } from './library';
import { loadExpectedImmichReads, samplesDir } from './paths';

export { IMMICH_LIBRARY_ROOT } from './library';


export interface SampleEntry {
  /** Path relative to the shared samples dir, e.g. "metadata/faces/portrait.jpg". */
  sample: string;
  assetId: string;
  /** The copy under photoDir. */
  localPath: string;
  originalPath: string;
}

export interface SampleLibrary {
  library: SimLibrary;
  photoDir: string;
  entries: SampleEntry[];
  /** Entry by sample file name ("portrait.jpg") or relative sample path. */
  entry(name: string): SampleEntry;
}

const MIME: Record<string, string> = { '.jpg': 'image/jpeg', '.heic': 'image/heic', '.png': 'image/png', '.webp': 'image/webp', '.avif': 'image/avif', '.mp4': 'video/mp4' };
const IMPORTED_AT = '2025-01-10T12:00:00.000Z';

/** What the user did in Immich beyond what the files say (Immich's truth differs from the file). */
interface Curation {
  description?: string;
  rating?: number | null;
  favorite?: boolean;
  gps?: { latitude: number; longitude: number; city: string; country: string };
  visibility?: SimAsset['visibility'];
  trashed?: boolean;
  edited?: boolean;
  notExtracted?: boolean;
  extraTags?: string[];
  /** Used when the file has no usable capture date (Immich falls back to the file's mtime). */
  fallbackDate?: string;
}

const CURATION: Record<string, Curation> = {
  'metadata/faces/portrait.jpg': { rating: 5, favorite: true, description: 'Мария и Пьер Кюри', fallbackDate: '1903-06-25T10:00:00.000Z' },
  'metadata/faces/portrait-orientation-6.jpg': { fallbackDate: '1903-06-25T10:05:00.000Z' },
  'metadata/gps-position/thompson-springs.jpg': { rating: 4 },
  'metadata/gps-position/empty_gps.jpg': { trashed: true },
  'metadata/rating/mongolels.jpg': { visibility: 'archive', extraTags: ['Travel/Mongolia'] },
  'metadata/tags/picasa.jpg': { favorite: true, gps: { latitude: -33.9249, longitude: 18.4241, city: 'Cape Town', country: 'South Africa' } },
  'metadata/dates/date-priority-test.jpg': { notExtracted: true },
  'metadata/dates/time-created.jpg': { fallbackDate: '2021-03-14T15:09:26.000Z' },
  'albums/nature/el_torcal_rocks.jpg': { gps: { latitude: -22.9068, longitude: -43.1729, city: 'Rio de Janeiro', country: 'Brazil' }, description: 'SONY DSC' },
  'albums/nature/cyclamen_persicum.jpg': { description: 'Alpenveilchen — Цикламен персидский', rating: 2 },
  'formats/heic/IMG_2682.heic': { description: 'Omaha, 日本への旅の前', extraTags: ['Travel/Japan/東京'] },
  'formats/webp/denali.webp': { edited: true, description: 'Denali' },
  'formats/png/density_plot.png': { visibility: 'hidden', fallbackDate: '2020-02-02T02:02:02.000Z' },
  'formats/avif/8bit-sRGB.avif': { fallbackDate: '2022-08-08T08:08:08.000Z' },
  'unmerged-branches/solvay.jpg': { description: 'Solvay Conference 1927', fallbackDate: '1927-10-24T11:00:00.000Z' },
  'unmerged-branches/future42603.mp4': { fallbackDate: '2023-04-05T06:07:08.000Z' },
};

const ALBUMS: Record<string, string[]> = {
  Nature: ['albums/nature/el_torcal_rocks.jpg', 'albums/nature/cyclamen_persicum.jpg'],
  'Curie Family': ['metadata/faces/portrait.jpg', 'metadata/faces/portrait-orientation-6.jpg', 'unmerged-branches/solvay.jpg'],
  'Reise 2022 · 日本': ['metadata/gps-position/thompson-springs.jpg', 'formats/heic/IMG_2682.heic'],
  'Empty album': [],
};

function person(name: string, isHidden = false): SimPerson {
  return { id: uuidFrom(`person:${name || 'unnamed'}`), name, isHidden, isFavorite: false, updatedAt: IMPORTED_AT };
}

export const SAMPLE_PEOPLE = {
  marie: person('Marie Curie'),
  pierre: person('Pierre Curie'),
  einstein: person('Albert Einstein'),
  bohr: person('Niels Bohr'),
  unnamed: person(''),
  hidden: person('Hidden Stranger', true),
};

function face(seed: string, personId: string | null, box: [number, number, number, number], size: [number, number], sourceType: SimFace['sourceType']): SimFace {
  return { id: uuidFrom(`face:${seed}`), personId, x1: box[0], y1: box[1], x2: box[2], y2: box[3], imageWidth: size[0], imageHeight: size[1], sourceType };
}

/** Faces as Immich holds them, in the displayed frame. The Curie boxes are the ones Immich imports from the files' MWG regions. */
function facesFor(sample: string): SimFace[] {
  const curie: [number, number] = [840, 700];
  const p = SAMPLE_PEOPLE;
  if (sample === 'metadata/faces/portrait.jpg') {
    return [
      face(`${sample}#marie`, p.marie.id, [261, 146, 356, 284], curie, 'exif'),
      face(`${sample}#pierre`, p.pierre.id, [536, 83, 618, 252], curie, 'exif'),
      // machine learning found Marie again: the same person twice must not produce two regions
      face(`${sample}#marie-ml`, p.marie.id, [264, 150, 352, 280], curie, 'machine-learning'),
    ];
  }
  if (sample === 'metadata/faces/portrait-orientation-6.jpg') {
    return [face(`${sample}#marie`, p.marie.id, [261, 146, 356, 284], curie, 'exif'), face(`${sample}#pierre`, p.pierre.id, [536, 83, 618, 252], curie, 'exif')];
  }
  if (sample === 'unmerged-branches/solvay.jpg') {
    const size: [number, number] = [1280, 926];
    return [
      face(`${sample}#einstein`, p.einstein.id, [598, 402, 650, 470], size, 'machine-learning'),
      face(`${sample}#bohr`, p.bohr.id, [1010, 248, 1058, 312], size, 'machine-learning'),
      face(`${sample}#unnamed`, p.unnamed.id, [150, 260, 196, 322], size, 'machine-learning'),
      face(`${sample}#hidden`, p.hidden.id, [402, 236, 448, 298], size, 'machine-learning'),
      face(`${sample}#unassigned`, null, [840, 410, 890, 478], size, 'machine-learning'),
      face(`${sample}#manual`, p.marie.id, [700, 420, 748, 486], size, 'manual'),
    ];
  }
  return [];
}


const isRealDate = (value: string) => /^\d{4}-\d\d-\d\dT/.test(value);

export function createSampleLibrary(options: { photoDir: string; copyFiles?: boolean }): SampleLibrary {
  const expected = loadExpectedImmichReads();
  const owner: SimUser = { id: uuidFrom('user:demo'), email: 'demo@example.com', name: 'Demo User' };
  const samples = Object.keys(expected).filter((s) => !s.endsWith('.xmp')).sort();
  const tagValues = new Set<string>();
  const assetTags = new Map<string, string[]>();
  for (const sample of samples) {
    const values = [...expected[sample].tags, ...(CURATION[sample]?.extraTags ?? [])];
    values.forEach((v) => tagValues.add(v));
    assetTags.set(sample, values);
  }
  const tags = buildTags([...tagValues], IMPORTED_AT);
  const tagId = (value: string) => tags.find((t) => t.value === value)!.id;

  const entries: SampleEntry[] = [];
  const assets: SimAsset[] = samples.map((sample, index) => {
    const e = expected[sample];
    const c = CURATION[sample] ?? {};
    const realDate = isRealDate(e.dateTimeOriginal) && !e.dateTimeOriginal.startsWith('+');
    const taken = realDate ? e.dateTimeOriginal : c.fallbackDate ?? '2024-01-01T00:00:00.000Z';
    const local = realDate ? e.localDateTime : taken;
    const year = local.slice(0, 4);
    const month = local.slice(5, 7);
    const fileName = path.basename(sample);
    const localPath = path.join(options.photoDir, year, month, fileName);
    const source = path.join(samplesDir(), sample);
    if (options.copyFiles !== false) {
      fs.mkdirSync(path.dirname(localPath), { recursive: true });
      fs.copyFileSync(source, localPath);
    }
    const ext = path.extname(fileName).toLowerCase();
    const isVideo = ext === '.mp4';
    const rotated = ['5', '6', '7', '8'].includes(e.orientation ?? '');
    const exif: SimExif = {
      dateTimeOriginal: realDate ? e.dateTimeOriginal : taken,
      timeZone: realDate ? e.timeZone : null,
      description: c.description ?? e.description ?? '',
      rating: c.rating !== undefined ? c.rating : e.rating,
      latitude: c.gps?.latitude ?? e.latitude,
      longitude: c.gps?.longitude ?? e.longitude,
      city: c.gps?.city ?? null,
      state: null,
      country: c.gps?.country ?? null,
      orientation: e.orientation,
      exifImageWidth: e.exifImageWidth,
      exifImageHeight: e.exifImageHeight,
      make: null,
      model: null,
      fileSizeInByte: fs.statSync(source).size,
    };
    const id = uuidFrom(`asset:${sample}`);
    const originalPath = `${IMMICH_LIBRARY_ROOT}/${year}/${month}/${fileName}`;
    entries.push({ sample, assetId: id, localPath, originalPath });
    const importedAt = new Date(Date.parse(IMPORTED_AT) + index * 1000).toISOString();
    return {
      id,
      type: isVideo ? 'VIDEO' : 'IMAGE',
      originalPath,
      originalFileName: fileName,
      originalMimeType: MIME[ext] ?? 'application/octet-stream',
      libraryId: null,
      createdAt: importedAt,
      updatedAt: importedAt,
      fileCreatedAt: taken,
      fileModifiedAt: taken,
      localDateTime: local,
      isFavorite: c.favorite === true,
      visibility: c.visibility ?? 'timeline',
      deletedAt: c.trashed ? new Date(Date.parse(IMPORTED_AT) + 86_400_000).toISOString() : null,
      isEdited: c.edited === true,
      width: isVideo ? null : rotated ? e.exifImageHeight : e.exifImageWidth,
      height: isVideo ? null : rotated ? e.exifImageWidth : e.exifImageHeight,
      durationMs: isVideo ? 1000 : null,
      checksum: checksumOf(sample),
      exif: c.notExtracted ? null : exif,
      tagIds: (assetTags.get(sample) ?? []).map(tagId),
      faces: facesFor(sample),
    };
  });

  const albums: SimAlbum[] = Object.entries(ALBUMS).map(([albumName, members]) => ({
    id: uuidFrom(`album:${albumName}`),
    albumName,
    description: '',
    createdAt: IMPORTED_AT,
    updatedAt: IMPORTED_AT,
    assetIds: new Set(members.map((m) => uuidFrom(`asset:${m}`))),
  }));

  const library = new SimLibrary(new ArrayAssetStore(assets), owner, { people: Object.values(SAMPLE_PEOPLE).map((p) => ({ ...p })), albums, tags });
  return {
    library,
    photoDir: options.photoDir,
    entries,
    entry(name: string) {
      const found = entries.find((e) => e.sample === name || path.basename(e.sample) === name);
      if (!found) throw new Error(`no sample entry ${name}`);
      return found;
    },
  };
}
