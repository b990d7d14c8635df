/**
 * The Immich reader emulation (test/helpers/immichRead.ts) must agree with what Immich reads from the untouched
 * samples (expected-immich-emulated.json) before any round-trip test may rely on it.
 */
import * as path from 'node:path';
import type { ExifTool } from 'exiftool-vendored';
import { createImmichExifTool, immichRead } from '../helpers/immichRead';
import { loadExpectedImmichReads, samplesDir } from '../simulator/paths';

const expected = loadExpectedImmichReads();
// The MP4's QuickTime date is year 42603, which exiftool-vendored's date type cannot hold: not an image anyway.
const files = Object.keys(expected).filter((f) => !f.endsWith('.mp4'));

let exiftool: ExifTool;
beforeAll(() => {
  exiftool = createImmichExifTool();
});
afterAll(async () => {
  await exiftool.end();
});

describe('immichRead agrees with expected-immich-emulated.json', () => {
  it('covers the samples', () => {
    expect(files.length).toBeGreaterThanOrEqual(20);
  });

  it.each(files)('%s', async (file) => {
    const want = expected[file];
    const got = await immichRead(exiftool, path.join(samplesDir(), file));
    expect(got.description).toBe(want.description);
    expect(got.rating).toBe(want.rating);
    expect(got.tags).toEqual(want.tags);
    expect(got.orientation).toBe(want.orientation);
    expect(got.exifImageWidth).toBe(want.exifImageWidth);
    expect(got.exifImageHeight).toBe(want.exifImageHeight);
    if (want.latitude === null) expect(got.latitude).toBeNull();
    else expect(got.latitude).toBeCloseTo(want.latitude as number, 5);
    if (want.longitude === null) expect(got.longitude).toBeNull();
    else expect(got.longitude).toBeCloseTo(want.longitude as number, 5);
    const faces = got.faces.map(({ name, imageWidth, imageHeight, boundingBoxX1, boundingBoxY1, boundingBoxX2, boundingBoxY2, sourceType }) => ({
      name, imageWidth, imageHeight, boundingBoxX1, boundingBoxY1, boundingBoxX2, boundingBoxY2, sourceType,
    }));
    expect(faces).toEqual(want.faces_if_import_enabled);
    if (String(want.dateTimeOriginal).startsWith('(file mtime')) {
      expect(got.dateTimeOriginal).toBeNull();
    } else {
      expect(got.dateTag).toBe(want.dateTag);
      expect(got.localDateTime).toBe(want.localDateTime);
      expect(got.dateTimeOriginal).toBe(want.dateTimeOriginal);
      expect(got.timeZone).toBe(want.timeZone);
    }
  });
});
