/**
 * Face regions through real ExifTool and Immich's reading rules: the acceptance case (portrait.jpg and
 * portrait-orientation-6.jpg), all 8 EXIF orientations, and the echo guard (no rewrite of what the file says).
 */
import type { ExifTool } from 'exiftool-vendored';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { displayedDimensions, normalizeBox, parseMpRectangle, storedToDisplayed, type ExifOrientation } from '../../lib/metadata/faceGeometry';
import { createImmichExifTool, immichRead, type ImmichReadFace } from '../helpers/immichRead';
import { applyPlan, copySample, createPlainWriter, face, makeAsset, makeTempDir, person, readCurrent, rediff } from './roundtrip-support';

/** Immich's boxes for the two portraits (a real Immich e2e expectation). */
const DISPLAYED = { width: 840, height: 700 };
const MARIE: [number, number, number, number] = [261, 146, 356, 284];
const PIERRE: [number, number, number, number] = [536, 83, 618, 252];

interface MpInfo {
  Regions: { PersonDisplayName: string; Rectangle: string }[];
}

let writer: ExifTool;
let immich: ExifTool;
let dir: string;
beforeAll(() => {
  writer = createPlainWriter();
  immich = createImmichExifTool();
  dir = makeTempDir('roundtrip-faces');
});
afterAll(async () => {
  await Promise.all([writer.end(), immich.end()]);
});

function byName(faces: ImmichReadFace[]) {
  return Object.fromEntries(faces.map((f) => [f.name, [f.boundingBoxX1, f.boundingBoxY1, f.boundingBoxX2, f.boundingBoxY2, f.imageWidth, f.imageHeight]]));
}

function expectWithin(actual: number[], wanted: number[], px: number) {
  expect(actual).toHaveLength(wanted.length);
  actual.forEach((v, i) => expect(Math.abs(v - wanted[i])).toBeLessThanOrEqual(px));
}

function portraitAsset(boxes: { marie: number[]; pierre: number[] }, width: number, height: number, sourceType = 'machine-learning') {
  return makeAsset({
    people: [person('Marie Curie'), person('Pierre Curie')],
    faces: [
      face('Marie Curie', boxes.marie as [number, number, number, number], width, height, sourceType),
      face('Pierre Curie', boxes.pierre as [number, number, number, number], width, height, sourceType),
    ],
  });
}

describe.each(['metadata/faces/portrait.jpg', 'metadata/faces/portrait-orientation-6.jpg'])('acceptance: %s', (sample) => {
  it("writes Immich's boxes into a copy without regions and Immich reads the same boxes back", async () => {
    const file = copySample(sample, dir, `accept-${sample.includes('6') ? 'o6' : 'o1'}.jpg`);
    await writer.write(file, { 'XMP-mwg-rs:RegionInfo': null, 'XMP-MP:RegionInfoMP': null } as never);
    expect((await immichRead(immich, file)).faces).toEqual([]);

    const plan = buildMetadataPlan(portraitAsset({ marie: MARIE, pierre: PIERRE }, DISPLAYED.width, DISPLAYED.height), { modules: ['faces'] });
    const diff = await applyPlan(writer, file, plan);
    expect(diff.changes.map((c) => c.field)).toEqual(['Face regions (XMP-mwg-rs:RegionInfo)', 'Windows people regions (XMP-MP:RegionInfoMP)']);

    const read = byName((await immichRead(immich, file)).faces);
    expectWithin(read['Marie Curie'], [...MARIE, 840, 700], 2);
    expectWithin(read['Pierre Curie'], [...PIERRE, 840, 700], 2);
    // our floor guard makes it exact, not just within 2 px
    expect(read['Marie Curie']).toEqual([...MARIE, 840, 700]);
    expect(read['Pierre Curie']).toEqual([...PIERRE, 840, 700]);

    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

describe('all 8 EXIF orientations', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8] as ExifOrientation[])('orientation %i: stored regions equal the original portrait regions', async (orientation) => {
    const file = copySample('metadata/faces/portrait.jpg', dir, `orient-${orientation}.jpg`);
    const facesOnly = buildMetadataPlan(portraitAsset({ marie: MARIE, pierre: PIERRE }, 840, 700), { modules: ['faces'] });
    const before = await readCurrent(writer, file, facesOnly, 'embedded');
    const original = before['XMP-mwg-rs:RegionInfo'] as {
      RegionList: { Name: string; Area: { X: number; Y: number; W: number; H: number } }[];
    };
    const originalMp = before['XMP-MP:RegionInfoMP'] as MpInfo;
    await writer.write(file, { 'XMP-mwg-rs:RegionInfo': null, 'XMP-MP:RegionInfoMP': null, 'IFD0:Orientation#': orientation } as never);

    // The same faces, as Immich shows them in the rotated/mirrored frame.
    const display = displayedDimensions(840, 700, orientation);
    const rotate = (box: number[]) => {
      const d = storedToDisplayed(normalizeBox({ x1: box[0], y1: box[1], x2: box[2], y2: box[3] }, 840, 700), orientation);
      return [d.x1 * display.width, d.y1 * display.height, d.x2 * display.width, d.y2 * display.height].map(Math.round);
    };
    const marie = rotate(MARIE);
    const pierre = rotate(PIERRE);
    const plan = buildMetadataPlan(portraitAsset({ marie, pierre }, display.width, display.height), { modules: ['faces'] });
    await applyPlan(writer, file, plan);

    const read = byName((await immichRead(immich, file)).faces);
    expect(read['Marie Curie']).toEqual([...marie, display.width, display.height]);
    expect(read['Pierre Curie']).toEqual([...pierre, display.width, display.height]);

    // Pixels never moved, so the stored-frame regions must match what the original file said (within 1.5 px).
    const written = (await readCurrent(writer, file, plan, 'embedded'))['XMP-mwg-rs:RegionInfo'] as typeof original & {
      AppliedToDimensions: { W: number; H: number };
    };
    expect(written.AppliedToDimensions).toMatchObject({ W: 840, H: 700 });
    for (const region of original.RegionList) {
      const mine = written.RegionList.find((r) => r.Name === region.Name)!;
      for (const key of ['X', 'W'] as const) expect(Math.abs(mine.Area[key] - region.Area[key]) * 840).toBeLessThanOrEqual(1.5);
      for (const key of ['Y', 'H'] as const) expect(Math.abs(mine.Area[key] - region.Area[key]) * 700).toBeLessThanOrEqual(1.5);
    }
    // The Windows regions are the same stored-frame boxes by their top-left corner, as in the original portrait
    // (written by Exiv2 with orientation 1, where its MP and MWG regions agree).
    const writtenMp = (await readCurrent(writer, file, plan, 'embedded'))['XMP-MP:RegionInfoMP'] as MpInfo;
    expect(writtenMp.Regions.map((r) => r.PersonDisplayName)).toEqual(['Marie Curie', 'Pierre Curie']);
    for (const region of originalMp.Regions) {
      const mine = parseMpRectangle(writtenMp.Regions.find((r) => r.PersonDisplayName === region.PersonDisplayName)!.Rectangle)!;
      const theirs = parseMpRectangle(region.Rectangle)!;
      const mwg = written.RegionList.find((r) => r.Name === region.PersonDisplayName)!.Area;
      expect(mine.x).toBeCloseTo(mwg.X - mwg.W / 2, 5);
      expect(mine.y).toBeCloseTo(mwg.Y - mwg.H / 2, 5);
      for (const key of ['x', 'w'] as const) expect(Math.abs(mine[key] - theirs[key]) * 840).toBeLessThanOrEqual(1.5);
      for (const key of ['y', 'h'] as const) expect(Math.abs(mine[key] - theirs[key]) * 700).toBeLessThanOrEqual(1.5);
    }
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

describe('echo guard', () => {
  it('an exif face and a detected face of the same person make one region, and the untouched file needs no write', async () => {
    const file = copySample('metadata/faces/portrait-orientation-6.jpg', dir, 'echo.jpg');
    const asset = makeAsset({
      people: [person('Marie Curie'), person('Pierre Curie')],
      faces: [
        face('Marie Curie', [250, 140, 360, 290], 1680, 1400), // ML, at preview scale, slightly different box
        face('Marie Curie', MARIE, 840, 700, 'exif'),
        face('Pierre Curie', PIERRE, 840, 700, 'exif'),
        face(null, [10, 10, 50, 50], 840, 700), // unassigned face: never a region
      ],
    });
    const plan = buildMetadataPlan(asset, { modules: ['faces'] });
    expect(plan.faces!.faces.map((f) => [f.name, f.sourceType])).toEqual([
      ['Marie Curie', 'exif'],
      ['Pierre Curie', 'exif'],
    ]);
    // The MWG regions are untouched. This sample's Windows regions were left unrotated when its pixels were turned
    // (samples/README.md), so they point at the displayed frame; they are ours (named people) and get corrected.
    const diff = await rediff(writer, file, plan);
    expect(diff.changes.map((c) => c.field)).toEqual(['Windows people regions (XMP-MP:RegionInfoMP)']);
    expect(diff.changes[0].before).toEqual(['Marie Curie: 498,218–665,298 of 840×700', 'Pierre Curie: 538,448–740,515 of 840×700']);
    expect(diff.changes[0].after).toEqual(['Marie Curie: 261,146–356,284 of 840×700', 'Pierre Curie: 536,83–618,252 of 840×700']);
    await applyPlan(writer, file, plan);
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
    expect(await rediff(writer, file, buildMetadataPlan(asset, { modules: ['faces'], microsoftRegions: false })).then((d) => d.changes)).toEqual([]);
  });

  it('keeps regions that are not ours (unnamed, other types) unless asked to replace them', async () => {
    const file = copySample('metadata/faces/portrait.jpg', dir, 'foreign.jpg');
    await writer.write(file, {
      'XMP-mwg-rs:RegionInfo': {
        AppliedToDimensions: { W: 840, H: 700, Unit: 'pixel' },
        RegionList: [
          { Area: { X: 0.1, Y: 0.1, W: 0.05, H: 0.05, Unit: 'normalized' }, Type: 'Pet', Name: 'Rex' },
          { Area: { X: 0.9, Y: 0.9, W: 0.05, H: 0.05, Unit: 'normalized' }, Type: 'Face' },
        ],
      },
    } as never);
    const asset = portraitAsset({ marie: MARIE, pierre: PIERRE }, 840, 700);
    const keep = buildMetadataPlan(asset, { modules: ['faces'] });
    await applyPlan(writer, file, keep);
    const regions = ((await readCurrent(writer, file, keep, 'embedded'))['XMP-mwg-rs:RegionInfo'] as { RegionList: { Name?: string; Type?: string }[] }).RegionList;
    expect(regions.map((r) => `${r.Type}:${r.Name ?? ''}`)).toEqual(['Pet:Rex', 'Face:', 'Face:Marie Curie', 'Face:Pierre Curie']);
    const mp = ((await readCurrent(writer, file, keep, 'embedded'))['XMP-MP:RegionInfoMP'] as MpInfo).Regions;
    expect(mp.map((r) => r.PersonDisplayName)).toEqual(['Marie Curie', 'Pierre Curie']);
    expect((await rediff(writer, file, keep)).changes).toEqual([]);

    const replace = buildMetadataPlan(asset, { modules: ['faces'], replaceForeignRegions: true });
    await applyPlan(writer, file, replace);
    const after = ((await readCurrent(writer, file, replace, 'embedded'))['XMP-mwg-rs:RegionInfo'] as { RegionList: { Name?: string }[] }).RegionList;
    expect(after.map((r) => r.Name)).toEqual(['Marie Curie', 'Pierre Curie']);
  });

  it('skips edited assets with a reason instead of writing boxes of another frame', () => {
    const plan = buildMetadataPlan({ ...portraitAsset({ marie: MARIE, pierre: PIERRE }, 840, 700), isEdited: true }, { modules: ['faces'] });
    expect(plan.faces).toBeUndefined();
    expect(plan.skipped).toEqual([{ module: 'faces', reason: expect.stringContaining('edited') }]);
  });
});

describe('other formats', () => {
  it.each([
    ['formats/motionphoto/samsung-one-ui-6.heic', 3000, 4000], // HEIC with EXIF Orientation 6: displayed portrait
    ['formats/heic/IMG_2682.heic', 4032, 3024],
    ['formats/webp/denali.webp', 600, 315],
    ['formats/png/density_plot.png', 800, 800],
    ['formats/avif/8bit-sRGB.avif', 1617, 1080],
  ])('%s: Immich reads the boxes back in its displayed frame', async (sample, width, height) => {
    const file = copySample(sample, dir, `fmt-${sample.split('/').pop()}`);
    const marie = [Math.round(width * 0.1), Math.round(height * 0.2), Math.round(width * 0.3), Math.round(height * 0.5)];
    const pierre = [Math.round(width * 0.6), Math.round(height * 0.1), Math.round(width * 0.9), Math.round(height * 0.4)];
    // Immich's ML boxes are relative to its preview (here: half size): scale must not matter.
    const half = (b: number[]) => b.map((v) => v / 2);
    const plan = buildMetadataPlan(portraitAsset({ marie: half(marie), pierre: half(pierre) }, width / 2, height / 2), { modules: ['faces'] });
    await applyPlan(writer, file, plan);
    const read = byName((await immichRead(immich, file)).faces);
    expectWithin(read['Marie Curie'], [...marie, width, height], 1);
    expectWithin(read['Pierre Curie'], [...pierre, width, height], 1);
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});
