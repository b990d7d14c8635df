/**
 * Capture time: the local wall clock plus its UTC offset, in EXIF, XMP and IPTC, consistent, so Immich
 * reads back the same instant and the same local time. The offset is Immich's localDateTime (wall clock
 * written as UTC) minus dateTimeOriginal (the instant): no time zone database needed.
 */
import type { ImmichAssetDetails } from '../../immich/types';
import type { DiffContext } from '../diffContext';
import type { ModuleOutcome } from '../options';
import type { TimePlan } from '../types';

const MAX_OFFSET_MINUTES = 18 * 60;

export function planTime(asset: ImmichAssetDetails): ModuleOutcome<TimePlan> {
  // Videos get the XMP dates only (the target has no EXIF/IPTC): Immich ranks DateTimeOriginal above the
  // QuickTime CreateDate (UTC), so the offset we write wins there too. QuickTime's own dates are left alone.
  const instant = asset.exif.dateTimeOriginal;
  if (!instant) return { skipped: 'Immich has no capture time' };
  const instantMs = parseIsoAsUtc(instant);
  const localMs = parseIsoAsUtc(asset.localDateTime);
  if (!Number.isFinite(instantMs) || !Number.isFinite(localMs)) {
    return { skipped: `Immich's capture time is not a valid date (${instant} / ${asset.localDateTime})` };
  }
  const local = new Date(localMs).toISOString();
  const year = Number(local.slice(0, 4));
  if (!/^\d{4}-/.test(local) || year < 1) {
    return { skipped: `Immich's capture time ${local} cannot be written as an EXIF date (years 0001–9999)` };
  }
  // A zone Immich does not know (timeZone null) is no exception: it took the file's zone-less wall clock as
  // UTC, so local equals the instant and the offset is +00:00. It must be written: left zone-less, Immich's
  // reader (exiftool-vendored with backfillTimezones and a GPS zone lookup) reads the wall clock in the zone of
  // the file's GPS position, hours away from the instant Immich holds. Read back, timeZone becomes "UTC".
  const offsetMinutes = Math.round((localMs - instantMs) / 60_000);
  if (Math.abs(offsetMinutes) > MAX_OFFSET_MINUTES) {
    return { skipped: `the offset between Immich's local and UTC times (${offsetMinutes} min) is not a real time zone` };
  }
  return { plan: { local: local.slice(0, 23), offsetMinutes } };
}

/** Immich writes both times with "Z"; one without a zone must still not be read in this machine's zone. */
export function parseIsoAsUtc(value: string): number {
  const hasZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(value.trim());
  return Date.parse(hasZone ? value : `${value.trim()}Z`);
}

export const TIME_TAGS = {
  embedded: [
    'ExifIFD:DateTimeOriginal',
    'ExifIFD:CreateDate',
    'ExifIFD:SubSecTimeOriginal',
    'ExifIFD:SubSecTimeDigitized',
    'ExifIFD:OffsetTimeOriginal',
    'ExifIFD:OffsetTimeDigitized',
    'XMP-exif:DateTimeOriginal',
    'XMP-xmp:CreateDate',
    'XMP-photoshop:DateCreated',
    'IPTC:DateCreated',
    'IPTC:TimeCreated',
  ],
  sidecar: ['XMP-exif:DateTimeOriginal', 'XMP-xmp:CreateDate', 'XMP-photoshop:DateCreated'],
};

export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

interface ParsedExifDate {
  wall: string; // "YYYY:MM:DD HH:MM:SS"
  millis: number | null; // null when the value has no fraction
  offset: string | null; // "+HH:MM" / null
}

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$/;

export function parseExifDate(value: unknown): ParsedExifDate | null {
  if (typeof value !== 'string') return null;
  const m = EXIF_DATE.exec(value.trim());
  if (!m) return null;
  const offset = m[8] === undefined ? null : m[8] === 'Z' ? '+00:00' : m[8].includes(':') ? m[8] : `${m[8].slice(0, 3)}:${m[8].slice(3)}`;
  return {
    wall: `${m[1]}:${m[2]}:${m[3]} ${m[4]}:${m[5]}:${m[6]}`,
    millis: m[7] === undefined ? null : subSecondsToMillis(m[7]),
    offset,
  };
}

/** EXIF sub-seconds are the digits after the decimal point ("85" = 850 ms). */
export function subSecondsToMillis(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  const digits = String(value).trim();
  if (!/^\d+$/.test(digits)) return null;
  return Math.round(Number(`0.${digits}`) * 1000);
}

interface Wanted {
  wall: string;
  millis: number;
  offset: string; // "+HH:MM"
  date: string; // "YYYY:MM:DD"
  time: string; // "HH:MM:SS"
}

function wanted(plan: TimePlan): Wanted {
  const [date, time] = plan.local.split('T');
  const exifDate = date.replaceAll('-', ':');
  return {
    wall: `${exifDate} ${time.slice(0, 8)}`,
    millis: Number(time.slice(9, 12) || '0'),
    offset: formatOffset(plan.offsetMinutes),
    date: exifDate,
    time: time.slice(0, 8),
  };
}

function xmpValue(w: Wanted): string {
  return `${w.wall}${w.millis ? `.${String(w.millis).padStart(3, '0')}` : ''}${w.offset}`;
}

function xmpMatches(current: unknown, w: Wanted): boolean {
  const parsed = parseExifDate(current);
  if (!parsed) return false;
  return parsed.wall === w.wall && (parsed.millis ?? 0) === w.millis && parsed.offset === w.offset;
}

export function diffTime(plan: TimePlan, ctx: DiffContext): void {
  const w = wanted(plan);
  for (const tag of ['XMP-exif:DateTimeOriginal', 'XMP-xmp:CreateDate', 'XMP-photoshop:DateCreated']) {
    if (!xmpMatches(ctx.read(tag), w)) ctx.write(tag, xmpValue(w), 'Capture time');
  }
  if (ctx.target === 'sidecar') return;

  if (ctx.capabilities.exif) {
    const pairs = [
      ['ExifIFD:DateTimeOriginal', 'ExifIFD:SubSecTimeOriginal', 'ExifIFD:OffsetTimeOriginal'],
      ['ExifIFD:CreateDate', 'ExifIFD:SubSecTimeDigitized', 'ExifIFD:OffsetTimeDigitized'],
    ];
    for (const [dateTag, subSecTag, offsetTag] of pairs) {
      const current = parseExifDate(ctx.read(dateTag));
      if (!current || current.wall !== w.wall) ctx.write(dateTag, w.wall, 'Capture time');
      const subSec = subSecondsToMillis(ctx.read(subSecTag)) ?? 0;
      if (subSec !== w.millis) {
        ctx.write(subSecTag, w.millis ? String(w.millis).padStart(3, '0') : null, 'Capture time (sub-seconds)');
      }
      if (ctx.read(offsetTag) !== w.offset) ctx.write(offsetTag, w.offset, 'Capture time (UTC offset)');
    }
  }

  if (ctx.capabilities.iptc) {
    const date = ctx.read('IPTC:DateCreated');
    if (date !== w.date) ctx.write('IPTC:DateCreated', w.date, 'Capture time');
    const time = ctx.read('IPTC:TimeCreated');
    const wantedTime = `${w.time}${w.offset}`;
    if (time !== wantedTime) ctx.write('IPTC:TimeCreated', wantedTime, 'Capture time');
  }
}
