/**
 * A second, independent reader: every sample, written with Immich's view of it (every module, as in
 * roundtrip-library), read back with the exiv2 command line instead of ExifTool. Names, keywords, MWG and
 * Microsoft regions with their boxes, caption, rating, GPS, capture time and offset must agree with what Immich
 * served. Where exiv2 and ExifTool read the same file differently, the test says which is right and why.
 */
import type { ExifTool } from 'exiftool-vendored';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { ALL_MODULES } from '../../lib/metadata/types';
import { exiv2Binary, exiv2Keys, exiv2Read, type Exiv2Region } from '../helpers/exiv2Read';
import { loadExpectedImmichReads, type ExpectedImmichRead } from '../simulator/paths';
import { applyPlan, assetFromImmich, copySample, createPlainWriter, hasMinorExifDamage, makeTempDir } from './roundtrip-support';

const expected = loadExpectedImmichReads();
// The MP4 cannot be written by ExifTool (malformed on purpose); the .xmp samples are written as sidecars.
const samples = Object.keys(expected).filter((f) => !f.endsWith('.mp4'));

/** A stored-frame region as the displayed frame shows it (EXIF orientation table, by the region's corners). */
function displayed(region: Exiv2Region, orientation: number): Exiv2Region {
  const corner = (x: number, y: number): [number, number] => {
    switch (orientation) {
      case 2: return [1 - x, y];
      case 3: return [1 - x, 1 - y];
      case 4: return [x, 1 - y];
      case 5: return [y, x];
      case 6: return [1 - y, x];
      case 7: return [1 - y, 1 - x];
      case 8: return [y, 1 - x];
      default: return [x, y];
    }
  };
  const [ax, ay] = corner(region.x1, region.y1);
  const [bx, by] = corner(region.x2, region.y2);
  return { name: region.name, x1: Math.min(ax, bx), y1: Math.min(ay, by), x2: Math.max(ax, bx), y2: Math.max(ay, by) };
}

/** The offset Immich's local time and instant imply ("+09:00"); null when Immich does not know the zone. */
/** The offset we write: Immich's local time minus the instant (+00:00 for a time Immich holds without a zone). */
function offsetOf(want: ExpectedImmichRead): string {
  const minutes = Math.round((Date.parse(want.localDateTime) - Date.parse(want.dateTimeOriginal)) / 60_000);
  const abs = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

const utcWallClock = (instant: string) => instant.slice(0, 19).replace('T', ' ');

let writer: ExifTool;
let dir: string;
beforeAll(() => {
  exiv2Binary();
  writer = createPlainWriter();
  dir = makeTempDir('roundtrip-exiv2');
});
afterAll(async () => {
  await writer.end();
});

describe.each(samples)('%s', (sample) => {
  it('exiv2 reads back what Immich served', async () => {
    const want: ExpectedImmichRead = expected[sample];
    const file = copySample(sample, dir, sample.replaceAll('/', '_'));
    let target: 'sidecar' | 'embedded' = sample.endsWith('.xmp') ? 'sidecar' : 'embedded';
    const plan = buildMetadataPlan(assetFromImmich(sample, want), { modules: [...ALL_MODULES] });
    let written = file;
    if (target === 'embedded' && (await hasMinorExifDamage(writer, file))) {
      // The strict write refuses a file whose EXIF ExifTool must repair; the XMP sidecar carries the truth instead.
      await expect(applyPlan(writer, file, plan, 'embedded')).rejects.toThrow(/\[minor\]/);
      target = 'sidecar';
      written = `${file}.xmp`;
    }
    const diff = await applyPlan(writer, written, plan, target);
    const read = exiv2Read(written);
    // Where Immich had nothing to write (the AVIF and PNG samples) both readers find no metadata at all.
    if (Object.keys(diff.writeTags).length > 0) expect(exiv2Keys(file).size).toBeGreaterThan(0);

    const names = want.faces_if_import_enabled.map((f) => f.name);
    expect(read.personInImage).toEqual(expect.arrayContaining(names));
    expect(read.subject).toEqual(expect.arrayContaining(names));
    expect(read.hierarchicalSubject).toEqual(expect.arrayContaining(names.map((n) => `People|${n}`)));
    if (/\.jpe?g$/i.test(sample)) expect(read.iptcKeywords).toEqual(expect.arrayContaining(names));

    // Face boxes: Immich's displayed-frame pixels, from the stored-frame MWG areas and the file's orientation.
    const sideways = read.orientation >= 5 && read.orientation <= 8;
    for (const face of want.faces_if_import_enabled) {
      const dims = read.mwgDimensions!;
      const [w, h] = sideways ? [dims.h, dims.w] : [dims.w, dims.h];
      expect([w, h]).toEqual([face.imageWidth, face.imageHeight]);
      const mwg = read.mwgRegions.filter((r) => r.name === face.name);
      expect(mwg).toHaveLength(1);
      const box = displayed(mwg[0], read.orientation);
      const px = [box.x1 * w, box.y1 * h, box.x2 * w, box.y2 * h];
      [face.boundingBoxX1, face.boundingBoxY1, face.boundingBoxX2, face.boundingBoxY2].forEach((v, i) => expect(Math.abs(px[i] - v)).toBeLessThanOrEqual(1.5));
      // The Windows region is the same stored-frame box.
      const mp = read.mpRegions.filter((r) => r.name === face.name);
      expect(mp).toHaveLength(1);
      // (Within Immich's 1.5 px tolerance: an MWG region already in the file within it is not rewritten.)
      for (const key of ['x1', 'x2'] as const) expect(Math.abs(mp[0][key] - mwg[0][key]) * dims.w).toBeLessThanOrEqual(1.5);
      for (const key of ['y1', 'y2'] as const) expect(Math.abs(mp[0][key] - mwg[0][key]) * dims.h).toBeLessThanOrEqual(1.5);
    }

    if (want.description) {
      expect(read.description.xmp).toBe(want.description);
      if (read.description.exif !== null) expect(read.description.exif).toBe(want.description);
      if (read.description.iptc !== null) expect(read.description.iptc).toBe(want.description);
    }
    if (want.rating !== null) expect(read.rating).toBe(want.rating);
    // empty_gps.jpg holds GPSLatitude "0/0 0/0 0/0": exiv2 prints the rationals as stored, ExifTool drops the
    // tag. ExifTool is right: 0/0 is undefined, not 0° (the reader here follows it; a naive exiv2 client would
    // place the photo at 0°, 0°). We write no GPS where Immich has none, so the file keeps its empty tag.
    if (want.latitude === null) expect(read.latitude).toBeNull();
    else {
      expect(read.latitude).toBeCloseTo(want.latitude, 6);
      expect(read.longitude).toBeCloseTo(want.longitude!, 6);
    }

    if (!want.dateTimeOriginal.startsWith('(')) {
      const local = want.localDateTime.slice(0, 19).replace('T', ' ');
      const offset = offsetOf(want);
      if (read.isSidecar) {
        // A sidecar has no EXIF, but exiv2 copies XMP dates into Exif.Photo.DateTimeOriginal when it reads one, and
        // converts "2000-09-27T14:35:33+02:00" to the UTC wall clock 12:35:33 without any offset tag. ExifTool
        // reports only the XMP value. ExifTool is right: EXIF DateTimeOriginal is the local time of capture, so
        // exiv2's copy moves the photo by the offset (what Immich shows is 14:35:33, UTC+2). The XMP value itself
        // reads the same in both.
        expect(read.exifDateTimeOriginal?.local).toBe(utcWallClock(want.dateTimeOriginal));
        expect(read.exifDateTimeOriginal?.offset).toBeNull();
      } else if (read.exifDateTimeOriginal) {
        expect(read.exifDateTimeOriginal.local).toBe(local);
        expect(read.exifDateTimeOriginal.offset).toBe(offset);
      } else {
        expect(target === 'sidecar' || !/\.(jpe?g|heic|webp)$/i.test(sample)).toBe(true);
      }
      expect(read.xmpDateTimeOriginal).not.toBeNull();
      expect(read.xmpDateTimeOriginal!.slice(0, 19)).toBe(local.replace(' ', 'T'));
      if (offset) expect(read.xmpDateTimeOriginal!.endsWith(offset === '+00:00' ? 'Z' : offset) || read.xmpDateTimeOriginal!.endsWith(offset)).toBe(true);
    }
  });
});
