/**
 * A second, independent reader: the exiv2 command line (the library under digiKam, darktable, gThumb and Shotwell),
 * with no ExifTool involved. It reads what a file says about people, face regions (MWG and Microsoft), caption,
 * rating, GPS and capture time, so tests can check that what ExifTool wrote reads the same in another stack.
 */
import { execFileSync } from 'node:child_process';

/** Fails loudly when exiv2 is missing: the tests that need it must not pass without it. */
export function exiv2Binary(): string {
  try {
    execFileSync('exiv2', ['--version'], { stdio: 'pipe' });
    return 'exiv2';
  } catch {
    throw new Error('exiv2 is not installed: install the Debian package "exiv2" (apt-get install exiv2; .ci/run does this)');
  }
}

/** Every key exiv2 prints, with its values in file order (IPTC repeats a key per keyword). */
export function exiv2Keys(file: string): Map<string, string[]> {
  let out: string;
  try {
    out = execFileSync(exiv2Binary(), ['-q', '-Pkv', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`exiv2 could not read ${file}: ${(e.stderr || e.stdout || String(error)).trim()}`);
  }
  const keys = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const match = /^(\S+)\s*(.*)$/.exec(line);
    if (!match || !match[1]) continue;
    const list = keys.get(match[1]) ?? [];
    list.push(match[2].trimEnd());
    keys.set(match[1], list);
  }
  return keys;
}

export interface Exiv2Region {
  name: string;
  /** Normalized corners in the frame the file stores them in (no orientation applied). */
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export interface Exiv2Read {
  orientation: number;
  personInImage: string[];
  subject: string[];
  iptcKeywords: string[];
  hierarchicalSubject: string[];
  mwgDimensions: { w: number; h: number } | null;
  mwgRegions: Exiv2Region[];
  mpRegions: Exiv2Region[];
  description: { xmp: string | null; exif: string | null; iptc: string | null };
  rating: number | null;
  latitude: number | null;
  longitude: number | null;
  /** "YYYY-MM-DD HH:mm:ss" local wall clock, with its offset when the file names one. */
  exifDateTimeOriginal: { local: string; subSec: string | null; offset: string | null } | null;
  /** A sidecar holds no EXIF: exiv2 makes these from the XMP itself (see roundtrip-exiv2.test.ts). */
  isSidecar: boolean;
  xmpDateTimeOriginal: string | null;
}

/** exiv2 prints bags and sequences joined by ", " (no name in the samples holds a comma). */
const list = (value: string | undefined) => (value ? value.split(', ').filter(Boolean) : []);
/** Lang-alt values come as `lang="x-default" text`. */
const langAlt = (value: string | undefined) => (value === undefined ? null : value.replace(/^lang="[^"]*"\s?/, ''));

/** EXIF degrees as rationals "48/1 51/1 2959/100"; null when a part is 0/0 (undefined, i.e. no position). */
function rationalDegrees(value: string): number | null {
  const parts = value.split(' ').map((part) => {
    const [n, q] = part.split('/').map(Number);
    return q === undefined ? n : n / q;
  });
  if (parts.some((v) => !Number.isFinite(v))) return null;
  const [d, m, s] = parts;
  return d + (m ?? 0) / 60 + (s ?? 0) / 3600;
}

/** XMP GPS as "DDD,MM.mmmmK" or "DDD,MM,SSK". */
function xmpDegrees(value: string): number {
  const ref = value.slice(-1);
  const parts = value.slice(0, -1).split(',').map(Number);
  const degrees = parts[0] + (parts[1] ?? 0) / 60 + (parts[2] ?? 0) / 3600;
  return ref === 'S' || ref === 'W' ? -degrees : degrees;
}

function regions(keys: Map<string, string[]>, prefix: string, read: (get: (field: string) => string | undefined) => Exiv2Region | null): Exiv2Region[] {
  const out: Exiv2Region[] = [];
  for (let i = 1; keys.has(`${prefix}[${i}]`); i++) {
    const region = read((field) => keys.get(`${prefix}[${i}]/${field}`)?.[0]);
    if (region) out.push(region);
  }
  return out;
}

export function exiv2Read(file: string): Exiv2Read {
  const keys = exiv2Keys(file);
  const one = (key: string) => keys.get(key)?.[0];
  const mwg = regions(keys, 'Xmp.mwg-rs.Regions/mwg-rs:RegionList', (get) => {
    const name = get('mwg-rs:Name');
    const [x, y, w, h] = ['x', 'y', 'w', 'h'].map((k) => Number(get(`mwg-rs:Area/stArea:${k}`)));
    return name && [x, y, w, h].every(Number.isFinite) ? { name, x1: x - w / 2, y1: y - h / 2, x2: x + w / 2, y2: y + h / 2 } : null;
  });
  const mp = regions(keys, 'Xmp.MP.RegionInfo/MPRI:Regions', (get) => {
    const name = get('MPReg:PersonDisplayName');
    const [x, y, w, h] = (get('MPReg:Rectangle') ?? '').split(',').map((v) => Number(v.trim()));
    return name && [x, y, w, h].every(Number.isFinite) ? { name, x1: x, y1: y, x2: x + w, y2: y + h } : null;
  });
  const dimW = Number(one('Xmp.mwg-rs.Regions/mwg-rs:AppliedToDimensions/stDim:w'));
  const dimH = Number(one('Xmp.mwg-rs.Regions/mwg-rs:AppliedToDimensions/stDim:h'));

  let latitude: number | null = null;
  let longitude: number | null = null;
  const exifLat = one('Exif.GPSInfo.GPSLatitude');
  const exifLon = one('Exif.GPSInfo.GPSLongitude');
  const lat = exifLat ? rationalDegrees(exifLat) : null;
  const lon = exifLon ? rationalDegrees(exifLon) : null;
  if (lat !== null && lon !== null) {
    latitude = lat * (one('Exif.GPSInfo.GPSLatitudeRef') === 'S' ? -1 : 1);
    longitude = lon * (one('Exif.GPSInfo.GPSLongitudeRef') === 'W' ? -1 : 1);
  } else if (one('Xmp.exif.GPSLatitude') && one('Xmp.exif.GPSLongitude')) {
    latitude = xmpDegrees(one('Xmp.exif.GPSLatitude')!);
    longitude = xmpDegrees(one('Xmp.exif.GPSLongitude')!);
  }

  const exifDate = one('Exif.Photo.DateTimeOriginal');
  const ratingText = one('Xmp.xmp.Rating');
  return {
    orientation: Number(one('Exif.Image.Orientation') ?? 1),
    personInImage: list(one('Xmp.iptcExt.PersonInImage')),
    subject: list(one('Xmp.dc.subject')),
    iptcKeywords: keys.get('Iptc.Application2.Keywords') ?? [],
    hierarchicalSubject: list(one('Xmp.lr.hierarchicalSubject')),
    mwgDimensions: dimW > 0 && dimH > 0 ? { w: dimW, h: dimH } : null,
    mwgRegions: mwg,
    mpRegions: mp,
    description: { xmp: langAlt(one('Xmp.dc.description')), exif: one('Exif.Image.ImageDescription') ?? null, iptc: one('Iptc.Application2.Caption') ?? null },
    rating: ratingText === undefined ? null : Number(ratingText),
    latitude,
    longitude,
    exifDateTimeOriginal: exifDate
      ? { local: exifDate.replace(/^(\d{4}):(\d\d):(\d\d)/, '$1-$2-$3'), subSec: one('Exif.Photo.SubSecTimeOriginal') ?? null, offset: one('Exif.Photo.OffsetTimeOriginal') ?? null }
      : null,
    isSidecar: /\.xmp$/i.test(file),
    xmpDateTimeOriginal: one('Xmp.exif.DateTimeOriginal') ?? one('Xmp.photoshop.DateCreated') ?? null,
  };
}
