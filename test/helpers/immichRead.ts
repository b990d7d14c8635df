/**
 * Reads a file the way Immich v3.1's metadata extraction does (server/src/services/metadata.service.ts and
 * metadata.repository.ts): exiftool-vendored with useMWG, the same date priority, description, rating,
 * tag list and face-region rules. Tests use it to prove that what we write reads back in Immich as meant.
 * A zone-less date gets the zone the file implies (backfillTimezones): an offset tag first, else the zone of
 * its GPS position, else UTC, as Immich in its Docker image (TZ=UTC) does.
 */
import { DefaultReadTaskOptions, ExifDateTime, ExifTool, type Tags } from 'exiftool-vendored';

export interface ImmichReadFace {
  name: string;
  imageWidth: number;
  imageHeight: number;
  boundingBoxX1: number;
  boundingBoxY1: number;
  boundingBoxX2: number;
  boundingBoxY2: number;
  sourceType: 'exif';
}

export interface ImmichRead {
  dateTag: string | null;
  dateTimeOriginal: string | null; // null = Immich would fall back to the file's mtime
  localDateTime: string | null;
  timeZone: string | null;
  latitude: number | null;
  longitude: number | null;
  orientation: string | null;
  exifImageWidth: number | null;
  exifImageHeight: number | null;
  description: string;
  rating: number | null;
  tags: string[];
  faces: ImmichReadFace[];
}

/**
 * Immich's ExifTool configuration (server/src/repositories/metadata.repository.ts, createExifTool). Immich also
 * passes `geoTz: (lat, lon) => geotz.find(lat, lon)[0]` (the geo-tz package); it is left at exiftool-vendored's
 * own lookup here because, with `geolocation: true`, exiftool-vendored 38 (ReadTask, #extractTzOffsetFromGps)
 * takes ExifTool's GeolocationTimeZone before it calls geoTz at all, so both read a position's zone the same.
 */
export function createImmichExifTool(): ExifTool {
  return new ExifTool({
    defaultVideosToUTC: true,
    backfillTimezones: true,
    inferTimezoneFromDatestamps: true,
    inferTimezoneFromTimeStamp: true,
    useMWG: true,
    numericTags: [...DefaultReadTaskOptions.numericTags, 'FocalLength', 'FileSize'],
    geolocation: true,
    readArgs: ['-api', 'largefilesupport=1'],
    writeArgs: ['-api', 'largefilesupport=1', '-overwrite_original'],
    maxProcs: 1,
  });
}

const EXIF_DATE_TAGS = [
  'SubSecDateTimeOriginal',
  'SubSecCreateDate',
  'SubSecMediaCreateDate',
  'DateTimeOriginal',
  'CreateDate',
  'MediaCreateDate',
  'CreationDate',
  'DateTimeCreated',
  'GPSDateTime',
  'DateTimeUTC',
  'SonyDateTime2',
  'SourceImageCreateTime',
];

type AnyTags = Record<string, unknown>;

function firstDateTime(tags: AnyTags): { tag: string; dateTime: ExifDateTime } | undefined {
  for (const tag of EXIF_DATE_TAGS) {
    const value = tags[tag];
    if (value instanceof ExifDateTime) return { tag, dateTime: value };
    if (typeof value !== 'string') continue;
    const parsed = ExifDateTime.fromEXIF(value);
    if (parsed) return { tag, dateTime: parsed };
  }
  return undefined;
}

function validate(value: unknown): number | null {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  return v;
}

function getTagList(tags: AnyTags): string[] {
  if (tags.TagsList) return (tags.TagsList as unknown[]).map(String);
  if (tags.HierarchicalSubject) {
    return (tags.HierarchicalSubject as unknown[]).map((tag) =>
      typeof tag === 'number'
        ? String(tag)
        : String(tag)
            .split('|')
            .map((level) => level.replaceAll('/', '|'))
            .join('/'),
    );
  }
  if (tags.Keywords !== undefined) {
    const keywords = Array.isArray(tags.Keywords) ? tags.Keywords : [tags.Keywords];
    return keywords.map(String);
  }
  return [];
}

interface RegionInfo {
  AppliedToDimensions: { W: number; H: number; Unit?: string };
  RegionList: { Area: { X: number; Y: number; W: number; H: number; Unit?: string }; Name?: string; Type?: string }[];
}

/** Immich's orientRegionInfo: stored-frame regions into the displayed frame. */
function orientRegionInfo(info: RegionInfo, orientation: number | undefined): RegionInfo {
  if (orientation === undefined || orientation === 1) return info;
  const sideways = [5, 6, 7, 8].includes(orientation);
  const dims = sideways ? { ...info.AppliedToDimensions, W: info.AppliedToDimensions.H, H: info.AppliedToDimensions.W } : info.AppliedToDimensions;
  const list = info.RegionList.map((region) => {
    let { X, Y, W, H } = region.Area;
    switch (orientation) {
      case 2: X = 1 - X; break;
      case 3: [X, Y] = [1 - X, 1 - Y]; break;
      case 4: Y = 1 - Y; break;
      case 5: [X, Y] = [Y, X]; break;
      case 6: [X, Y] = [1 - Y, X]; break;
      case 7: [X, Y] = [1 - Y, 1 - X]; break;
      case 8: [X, Y] = [Y, 1 - X]; break;
    }
    if (sideways) [W, H] = [H, W];
    return { ...region, Area: { ...region.Area, X, Y, W, H } };
  });
  return { AppliedToDimensions: dims, RegionList: list };
}

function readFaces(tags: AnyTags): ImmichReadFace[] {
  const info = tags.RegionInfo as RegionInfo | undefined;
  if (!info?.AppliedToDimensions || !info.RegionList || info.RegionList.length === 0) return [];
  const oriented = orientRegionInfo(info, validate(tags.Orientation) ?? undefined);
  const imageWidth = oriented.AppliedToDimensions.W;
  const imageHeight = oriented.AppliedToDimensions.H;
  return oriented.RegionList.filter((region) => region.Name).map((region) => ({
    name: region.Name!,
    imageWidth,
    imageHeight,
    boundingBoxX1: Math.floor((region.Area.X - region.Area.W / 2) * imageWidth),
    boundingBoxY1: Math.floor((region.Area.Y - region.Area.H / 2) * imageHeight),
    boundingBoxX2: Math.floor((region.Area.X + region.Area.W / 2) * imageWidth),
    boundingBoxY2: Math.floor((region.Area.Y + region.Area.H / 2) * imageHeight),
    sourceType: 'exif' as const,
  }));
}

function readDates(tags: AnyTags): Pick<ImmichRead, 'dateTag' | 'dateTimeOriginal' | 'localDateTime' | 'timeZone'> {
  const found = firstDateTime(tags);
  let timeZone = (tags.tz as string | undefined) ?? null;
  if (timeZone === null && found?.dateTime.rawValue?.endsWith('+00:00')) timeZone = 'UTC+0';
  if (!found) return { dateTag: null, dateTimeOriginal: null, localDateTime: null, timeZone };
  const d = found.dateTime;
  let instantMs: number;
  let localMs: number;
  if (d.hasZone) {
    let zoned = d.toDateTime();
    // A UTC-only stamp (GPSDateTime) is shown in the zone found elsewhere (exiftool-vendored 35 backfills it so).
    if (d.zone === 'UTC' && timeZone && !/^UTC([+-]0+)?$/.test(timeZone)) zoned = zoned.setZone(timeZone);
    instantMs = zoned.toMillis();
    localMs = zoned.setZone('UTC', { keepLocalTime: true }).toMillis();
  } else {
    localMs = Date.UTC(d.year, d.month - 1, d.day, d.hour, d.minute, d.second, d.millisecond ?? 0);
    instantMs = localMs;
  }
  return {
    dateTag: found.tag,
    dateTimeOriginal: new Date(instantMs).toISOString(),
    localDateTime: new Date(localMs).toISOString(),
    timeZone,
  };
}

function imageDimensions(tags: AnyTags): { width: number | null; height: number | null } {
  const size = typeof tags.ImageSize === 'string' ? tags.ImageSize.split('x').map((v) => Number.parseInt(v, 10) || undefined) : [];
  let [width, height] = size;
  if (!width || !height) [width, height] = [tags.ImageWidth as number | undefined, tags.ImageHeight as number | undefined];
  return { width: validate(width), height: validate(height) };
}

/** Immich's merge: the sidecar wins for every tag it holds, and its dates replace all of the original's. */
function mergeSidecar(media: AnyTags, sidecar: AnyTags): AnyTags {
  const merged = { ...media };
  if (firstDateTime(sidecar)) for (const tag of EXIF_DATE_TAGS) delete merged[tag];
  return { ...merged, ...sidecar };
}

export function interpretTags(tags: AnyTags): ImmichRead {
  const { width, height } = imageDimensions(tags);
  const hasGeo = tags.GPSLatitude !== undefined && tags.GPSLongitude !== undefined;
  const rating = validate(tags.Rating);
  return {
    ...readDates(tags),
    latitude: hasGeo ? validate(tags.GPSLatitude) : null,
    longitude: hasGeo ? validate(tags.GPSLongitude) : null,
    orientation: validate(tags.Orientation)?.toString() ?? null,
    exifImageWidth: width,
    exifImageHeight: height,
    description: String(tags.ImageDescription || tags.Description || '').trim(),
    // v3.1 keeps -1 (rejected) and 1..5; 0 and anything else means "no rating".
    rating: rating !== null && (rating === -1 || (rating >= 1 && rating <= 5)) ? rating : null,
    tags: getTagList(tags),
    faces: readFaces(tags),
  };
}

export async function immichRead(exiftool: ExifTool, file: string, sidecar?: string): Promise<ImmichRead> {
  const media = (await exiftool.read(file)) as Tags as AnyTags;
  if (!sidecar) return interpretTags(media);
  const side = (await exiftool.read(sidecar)) as Tags as AnyTags;
  return interpretTags(mergeSidecar(media, side));
}
