/** GPS: latitude/longitude with their hemisphere refs. Altitude is not in Immich's API, so it is left alone. */
import type { ImmichAssetDetails } from '../../immich/types';
import type { DiffContext } from '../diffContext';
import type { ModuleOutcome } from '../options';
import type { GpsPlan } from '../types';

/**
 * About 1 m. EXIF stores rationals and Immich's API may round (the file's -108.400968333 comes back as
 * -108.400968), so an unchanged position must not count as a change; a moved pin moves far more.
 */
export const DEGREE_TOLERANCE = 1e-5;

export function planGps(asset: ImmichAssetDetails): ModuleOutcome<GpsPlan> {
  const { latitude, longitude } = asset.exif;
  if (latitude === null || longitude === null) return { skipped: 'Immich has no GPS position; the file keeps its own' };
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) {
    return { skipped: `Immich's GPS position (${latitude}, ${longitude}) is out of range; not written` };
  }
  return { plan: { latitude, longitude } };
}

export const GPS_TAGS = {
  embedded: [
    'GPS:GPSLatitude#',
    'GPS:GPSLatitudeRef#',
    'GPS:GPSLongitude#',
    'GPS:GPSLongitudeRef#',
    'XMP-exif:GPSLatitude#',
    'XMP-exif:GPSLongitude#',
  ],
  sidecar: ['XMP-exif:GPSLatitude#', 'XMP-exif:GPSLongitude#'],
};

function near(value: unknown, wanted: number): boolean {
  return typeof value === 'number' && Math.abs(value - wanted) <= DEGREE_TOLERANCE;
}

function signedExif(magnitude: unknown, ref: unknown, negativeRef: string): number | undefined {
  if (typeof magnitude !== 'number') return undefined;
  return String(ref ?? '').toUpperCase().startsWith(negativeRef) ? -Math.abs(magnitude) : Math.abs(magnitude);
}

export function diffGps(plan: GpsPlan, ctx: DiffContext): void {
  const { latitude, longitude } = plan;
  const writeXmp = (force: boolean) => {
    for (const [tag, wanted] of [
      ['XMP-exif:GPSLatitude', latitude],
      ['XMP-exif:GPSLongitude', longitude],
    ] as const) {
      const current = ctx.read(tag);
      if ((force || current !== undefined) && !near(current, wanted)) ctx.write(tag, wanted, 'GPS');
    }
  };
  if (ctx.target === 'sidecar' || !ctx.capabilities.exif) {
    writeXmp(true);
    return;
  }
  const axes = [
    { name: 'Latitude', wanted: latitude, positive: 'N', negative: 'S' },
    { name: 'Longitude', wanted: longitude, positive: 'E', negative: 'W' },
  ];
  for (const axis of axes) {
    const tag = `GPS:GPS${axis.name}`;
    const refTag = `${tag}Ref`;
    const current = signedExif(ctx.read(tag), ctx.read(refTag), axis.negative);
    if (current !== undefined && near(current, axis.wanted)) continue;
    const before = current ?? null;
    // EXIF keeps the magnitude and the hemisphere apart: without the Ref, south and west flip.
    ctx.write(tag, Math.abs(axis.wanted), 'GPS', before, axis.wanted);
    // The ref is always written with its magnitude (never trust a stale one), but only shown when it changes.
    const ref = axis.wanted < 0 ? axis.negative : axis.positive;
    if (ctx.read(refTag) === ref) ctx.writeSilently(refTag, ref);
    else ctx.write(refTag, ref, 'GPS', ctx.read(refTag));
  }
  // An XMP copy that disagrees would confuse readers that prefer XMP: keep it in step when present.
  writeXmp(false);
}
