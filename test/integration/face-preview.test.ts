/**
 * Face preview images through real ExifTool on the sample portrait in all 8 EXIF orientations: each drawn box
 * must frame the same face that Immich's own box frames in the displayed image. The displayed image and
 * Immich's boxes are made here independently of lib/: from ExifTool's wording of each orientation
 * ("Mirror horizontal and rotate 270 CW"), applied step by step to the original pixels and boxes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ExifTool } from 'exiftool-vendored';
import * as jpeg from 'jpeg-js';

import { buildMetadataPlan } from '../../lib/metadata/plan';
import { renderFacePreview, type PreviewBox } from '../../lib/preview/facePreview';
import { copySample, createPlainWriter, face, makeAsset, makeTempDir, person } from './roundtrip-support';

const MARIE = [261, 146, 356, 284];
const PIERRE = [536, 83, 618, 252];

interface Gray {
  width: number;
  height: number;
  at: (x: number, y: number) => number;
}

type Step = 'mirror' | 'rotate90';

/** ExifTool's description of an orientation, as the steps a viewer takes (mirror first, then clockwise turns). */
function stepsFromExifTool(description: string): Step[] {
  const steps: Step[] = [];
  if (/^Mirror horizontal/.test(description)) steps.push('mirror');
  if (description === 'Mirror vertical') steps.push('mirror', 'rotate90', 'rotate90');
  const turn = /rotate (90|180|270)/i.exec(description);
  for (let i = 0; i < (turn ? Number(turn[1]) / 90 : 0); i++) steps.push('rotate90');
  return steps;
}

function applyToImage(image: Gray, steps: Step[]): Gray {
  return steps.reduce<Gray>((img, step) => {
    if (step === 'mirror') return { width: img.width, height: img.height, at: (x, y) => img.at(img.width - 1 - x, y) };
    // Clockwise: the old left column becomes the top row.
    return { width: img.height, height: img.width, at: (x, y) => img.at(y, img.height - 1 - x) };
  }, image);
}

/** A box [x1, y1, x2, y2] (pixel edges) through the same steps. */
function applyToBox(box: number[], width: number, height: number, steps: Step[]): { box: number[]; width: number; height: number } {
  let [x1, y1, x2, y2] = box;
  let [w, h] = [width, height];
  for (const step of steps) {
    if (step === 'mirror') [x1, x2] = [w - x2, w - x1];
    else {
      [x1, y1, x2, y2] = [h - y2, x1, h - y1, x2];
      [w, h] = [h, w];
    }
  }
  return { box: [x1, y1, x2, y2], width: w, height: h };
}

function grayOf(bytes: Buffer): Gray {
  const image = jpeg.decode(bytes, { useTArray: true });
  return {
    width: image.width,
    height: image.height,
    at: (x, y) => {
      const i = (y * image.width + x) * 4;
      return 0.299 * image.data[i] + 0.587 * image.data[i + 1] + 0.114 * image.data[i + 2];
    },
  };
}

/** Mean brightness of a 6×6 grid over a box given as fractions of the image: where the face's features are. */
function signature(image: Gray, box: { x1: number; y1: number; x2: number; y2: number }): number[] {
  const cells: number[] = [];
  const n = 6;
  for (let gy = 0; gy < n; gy++) {
    for (let gx = 0; gx < n; gx++) {
      const x0 = Math.floor((box.x1 + ((box.x2 - box.x1) * gx) / n) * image.width);
      const x1 = Math.max(x0 + 1, Math.floor((box.x1 + ((box.x2 - box.x1) * (gx + 1)) / n) * image.width));
      const y0 = Math.floor((box.y1 + ((box.y2 - box.y1) * gy) / n) * image.height);
      const y1 = Math.max(y0 + 1, Math.floor((box.y1 + ((box.y2 - box.y1) * (gy + 1)) / n) * image.height));
      let sum = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += image.at(x, y);
      cells.push(sum / ((x1 - x0) * (y1 - y0)));
    }
  }
  return cells;
}

const meanDifference = (a: number[], b: number[]) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]), 0) / a.length;

let writer: ExifTool;
let dir: string;
let original: Gray;
beforeAll(() => {
  writer = createPlainWriter();
  dir = makeTempDir('face-preview');
  original = grayOf(fs.readFileSync(copySample('metadata/faces/portrait.jpg', dir, 'original.jpg')));
});
afterAll(async () => {
  await writer.end();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('face preview in all 8 EXIF orientations', () => {
  it.each([1, 2, 3, 4, 5, 6, 7, 8])('orientation %i: each drawn box frames the face Immich\'s box frames in the displayed image', async (orientation) => {
    const file = copySample('metadata/faces/portrait.jpg', dir, `orient-${orientation}.jpg`);
    await writer.write(file, { 'XMP-mwg-rs:RegionInfo': null, 'IFD0:Orientation#': orientation } as never);
    const description = String((await writer.readRaw(file, ['-Orientation'])).Orientation);
    const steps = stepsFromExifTool(description);

    const displayedImage = applyToImage(original, steps);
    const marie = applyToBox(MARIE, 840, 700, steps);
    const pierre = applyToBox(PIERRE, 840, 700, steps);
    expect([displayedImage.width, displayedImage.height]).toEqual([marie.width, marie.height]);
    const asset = makeAsset({
      people: [person('Marie Curie'), person('Pierre Curie')],
      faces: [
        face('Marie Curie', marie.box as [number, number, number, number], marie.width, marie.height),
        face('Pierre Curie', pierre.box as [number, number, number, number], pierre.width, pierre.height),
      ],
    });
    const preview = await renderFacePreview(writer, file, buildMetadataPlan(asset, { modules: ['faces'] }));
    if (!preview.ok) throw new Error(preview.reason);
    expect(Math.max(preview.width, preview.height)).toBe(480);
    expect(preview.width / preview.height).toBeCloseTo(marie.width / marie.height, 2);
    fs.mkdirSync(path.join(__dirname, '..', '..', 'test-artifacts', 'face-preview'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, '..', '..', 'test-artifacts', 'face-preview', `orientation-${orientation}.jpg`), preview.jpeg);

    const drawnImage = grayOf(preview.jpeg);
    const drawn = (name: string) => preview.boxes.find((b) => b.name === name)!;
    const fractions = (b: PreviewBox) => ({ x1: b.x1 / preview.width, y1: b.y1 / preview.height, x2: b.x2 / preview.width, y2: b.y2 / preview.height });
    const immichBox = (b: { box: number[]; width: number; height: number }) => ({
      x1: b.box[0] / b.width,
      y1: b.box[1] / b.height,
      x2: b.box[2] / b.width,
      y2: b.box[3] / b.height,
    });
    expect(preview.boxes.map((b) => [b.name, b.kind]).sort()).toEqual([['Marie Curie', 'planned'], ['Pierre Curie', 'planned']]);

    for (const [name, immich, other] of [['Marie Curie', marie, pierre], ['Pierre Curie', pierre, marie]] as const) {
      const box = drawn(name);
      // Where it is drawn: Immich's box, scaled to the preview (rounding to whole preview pixels).
      const wanted = immichBox(immich);
      expect(Math.abs(box.x1 - wanted.x1 * preview.width)).toBeLessThanOrEqual(1);
      expect(Math.abs(box.y2 - wanted.y2 * preview.height)).toBeLessThanOrEqual(1);
      // What it frames: the pixels inside the drawn box are that face in the displayed image, not the other one.
      const inPreview = signature(drawnImage, fractions(box));
      const sameFace = meanDifference(inPreview, signature(displayedImage, wanted));
      const otherFace = meanDifference(inPreview, signature(displayedImage, immichBox(other)));
      expect(sameFace).toBeLessThan(8);
      expect(otherFace).toBeGreaterThan(2 * sameFace + 8);
    }
  });
});

describe('face preview styles and skips', () => {
  it('draws the regions already in the file that stay as kept boxes, beside the planned one', async () => {
    const file = copySample('metadata/faces/portrait.jpg', dir, 'kept.jpg');
    // Without our People keywords, Pierre's region is someone else's and stays when only Marie is written.
    await writer.write(file, { 'XMP-lr:HierarchicalSubject': null, 'XMP-digiKam:TagsList': null } as never);
    const asset = makeAsset({ people: [person('Marie Curie')], faces: [face('Marie Curie', MARIE as [number, number, number, number], 840, 700)] });
    const preview = await renderFacePreview(writer, file, buildMetadataPlan(asset, { modules: ['faces'] }));
    if (!preview.ok) throw new Error(preview.reason);
    expect(preview.boxes.map((b) => [b.name, b.kind]).sort()).toEqual([['Marie Curie', 'planned'], ['Pierre Curie', 'kept']]);
    const pierre = preview.boxes.find((b) => b.name === 'Pierre Curie')!;
    expect(Math.abs(pierre.x1 - (PIERRE[0] / 840) * 480)).toBeLessThanOrEqual(1.5);
  });

  it('skips a HEIC with a reason that names the file', async () => {
    const file = copySample('formats/heic/IMG_2682.heic', dir);
    const asset = makeAsset({ people: [person('Marie Curie')], faces: [face('Marie Curie', [10, 10, 50, 50], 4032, 3024)] });
    const preview = await renderFacePreview(writer, file, buildMetadataPlan(asset, { modules: ['faces'] }));
    expect(preview).toEqual({ ok: false, reason: expect.stringMatching(/IMG_2682\.heic.*HEIC/) });
  });
});
