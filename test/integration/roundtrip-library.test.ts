/**
 * Immich's own view of every untouched sample (expected-immich-emulated.json), planned with every module and
 * written into a copy: Immich must read the same values back, and a second pass must find nothing to write
 * (smart skip: a second run over an unchanged library writes 0 files).
 */
import type { ExifTool } from 'exiftool-vendored';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { ALL_MODULES } from '../../lib/metadata/types';
import { createImmichExifTool, immichRead } from '../helpers/immichRead';
import { loadExpectedImmichReads } from '../simulator/paths';
import { applyPlan, assetFromImmich, copySample, createPlainWriter, makeTempDir, rediff, hasMinorExifDamage } from './roundtrip-support';


const expected = loadExpectedImmichReads();
// The MP4 cannot be written by ExifTool (malformed on purpose). The .xmp samples are written as sidecars.
const samples = Object.keys(expected).filter((f) => !f.endsWith('.mp4'));

let writer: ExifTool;
let immich: ExifTool;
let dir: string;
beforeAll(() => {
  writer = createPlainWriter();
  immich = createImmichExifTool();
  dir = makeTempDir('roundtrip-library');
});
afterAll(async () => {
  await Promise.all([writer.end(), immich.end()]);
});

describe.each(samples)('%s', (sample) => {
  it("Immich's truth written back reads the same, and the second pass writes nothing", async () => {
    const want = expected[sample];
    const file = copySample(sample, dir, sample.replaceAll('/', '_'));
    const plan = buildMetadataPlan(assetFromImmich(sample, want), { modules: [...ALL_MODULES] });
    let target: 'sidecar' | 'embedded' = sample.endsWith('.xmp') ? 'sidecar' : 'embedded';
    let written = file;
    let sidecar: string | undefined;
    if (target === 'embedded' && (await hasMinorExifDamage(writer, file))) {
      // ExifTool can rewrite this file's EXIF only by "repairing" it: the strict write must refuse (the writer
      // then advises the XMP sidecar), and the sidecar must carry Immich's truth instead.
      await expect(applyPlan(writer, file, plan, 'embedded')).rejects.toThrow(/\[minor\]/);
      target = 'sidecar';
      written = sidecar = `${file}.xmp`;
    }
    const diff = await applyPlan(writer, written, plan, target);
    if (target === 'sidecar') expect(Object.keys(diff.writeTags).every((tag) => tag.startsWith('XMP-'))).toBe(true);
    const read = await immichRead(immich, file, sidecar);

    expect(read.description).toBe(want.description);
    expect(read.rating).toBe(want.rating);
    expect(read.tags).toEqual(expect.arrayContaining(want.tags));
    expect(read.orientation).toBe(want.orientation);
    if (want.latitude === null) expect(read.latitude).toBeNull();
    else {
      expect(read.latitude).toBeCloseTo(want.latitude, 6);
      expect(read.longitude).toBeCloseTo(want.longitude!, 6);
    }
    if (!want.dateTimeOriginal.startsWith('(')) {
      expect(read.dateTimeOriginal).toBe(want.dateTimeOriginal);
      expect(read.localDateTime).toBe(want.localDateTime);
    }
    const faces = read.faces.map((f) => [f.name, f.boundingBoxX1, f.boundingBoxY1, f.boundingBoxX2, f.boundingBoxY2]);
    expect(faces).toEqual(want.faces_if_import_enabled.map((f) => [f.name, f.boundingBoxX1, f.boundingBoxY1, f.boundingBoxX2, f.boundingBoxY2]));

    expect((await rediff(writer, written, plan, target)).changes).toEqual([]);
  });
});
