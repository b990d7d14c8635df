/**
 * Faces of assets edited in Immich. Immich keeps face boxes in the displayed original and serves them moved into the
 * edited image (server/src/utils/transform.ts, transformFaceBoundingBox, applied by mapFaces in GET /faces and the
 * asset's nested faces). The simulator does that forward move with its own implementation (test/simulator/edits.ts);
 * the client reads the edits (GET /assets/{id}/edits, once per edited asset), Build Metadata Tags maps the boxes back,
 * and the written file must read back in Immich's reader (test/helpers/immichRead.ts) as the unedited boxes.
 */
import type { ExifTool } from 'exiftool-vendored';
import type { ImmichAssetDetails } from '../../lib/immich/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { createImmichExifTool, immichRead } from '../helpers/immichRead';
import { createSampleLibrary, startSimulator, type SampleLibrary, type Simulator } from '../simulator';
import type { SimEdit } from '../simulator/edits';
import { fastClient, tempDir } from '../simulator/testClient';
import { applyPlan, copySample, createPlainWriter, makeTempDir } from './roundtrip-support';

const crop = (x: number, y: number, width: number, height: number): SimEdit => ({ action: 'crop', parameters: { x, y, width, height } });
const rotate = (angle: number): SimEdit => ({ action: 'rotate', parameters: { angle } });
const mirror = (axis: 'horizontal' | 'vertical'): SimEdit => ({ action: 'mirror', parameters: { axis } });

/** Every action alone and in combinations; the crop keeps both Curies in the picture. */
const CHAINS: [string, SimEdit[]][] = [
  ['crop', [crop(200, 50, 500, 400)]],
  ['rotate 90', [rotate(90)]],
  ['rotate 180', [rotate(180)]],
  ['rotate 270', [rotate(270)]],
  ['mirror horizontal', [mirror('horizontal')]],
  ['mirror vertical', [mirror('vertical')]],
  ['crop, rotate 90', [crop(200, 50, 500, 400), rotate(90)]],
  ['rotate 90, mirror horizontal', [rotate(90), mirror('horizontal')]],
  ['mirror vertical, rotate 270, crop listed last', [mirror('vertical'), rotate(270), crop(150, 40, 600, 420)]],
  ['rotate 90 twice', [rotate(90), rotate(90)]],
  ['crop, rotate 180, mirror both ways', [crop(200, 50, 500, 400), rotate(180), mirror('horizontal'), mirror('vertical')]],
  ['mirror horizontal, rotate 90, mirror vertical, rotate 90', [mirror('horizontal'), rotate(90), mirror('vertical'), rotate(90)]],
];

const SAMPLES = ['metadata/faces/portrait.jpg', 'metadata/faces/portrait-orientation-6.jpg'];

let sample: SampleLibrary;
let sim: Simulator;
let writer: ExifTool;
let immich: ExifTool;
let dir: string;
const unedited = new Map<string, ImmichAssetDetails>();

beforeAll(async () => {
  sample = createSampleLibrary({ photoDir: tempDir('edited-faces-') });
  sim = await startSimulator({ library: sample.library });
  writer = createPlainWriter();
  immich = createImmichExifTool();
  dir = makeTempDir('roundtrip-edited');
  const { client } = fastClient(sim);
  for (const name of SAMPLES) unedited.set(name, await client.getAssetDetails(sample.entry(name).assetId));
});

afterAll(async () => {
  expect(sim.violations()).toEqual([]);
  await Promise.all([sim.close(), writer.end(), immich.end()]);
});

const facesPlan = (details: ImmichAssetDetails) => buildMetadataPlan(details, { modules: ['faces'] });

describe.each(SAMPLES)('%s', (name) => {
  it.each(CHAINS)('%s: the boxes map back onto the original and Immich reads them back unedited', async (label, edits) => {
    const { assetId } = sample.entry(name);
    sample.library.editAsset(assetId, edits);
    sim.resetRequests();
    const { client } = fastClient(sim);
    const details = await client.getAssetDetails(assetId);
    expect(sim.requestCount('GET /assets/{id}/edits')).toBe(1);
    expect(details.isEdited).toBe(true);
    expect(details.edits).toEqual(edits.map((e) => ({ action: e.action, ...e.parameters })));

    const before = unedited.get(name)!;
    // The served boxes really are in another frame (else this test would prove nothing).
    const served = (d: ImmichAssetDetails) => d.faces.map((f) => [f.x1 / f.imageWidth, f.y1 / f.imageHeight]);
    expect(served(details)).not.toEqual(served(before));

    const plan = facesPlan(details);
    expect(plan.skipped).toEqual([]);
    const wanted = facesPlan(before).faces!.faces;
    const got = plan.faces!.faces;
    expect(got.map((f) => f.name)).toEqual(wanted.map((f) => f.name));
    got.forEach((face, i) => {
      // Immich rounds the served box to whole pixels of the edited frame: half a pixel of 700–840.
      for (const key of ['x1', 'y1', 'x2', 'y2'] as const) expect(Math.abs(face.displayed[key] - wanted[i].displayed[key])).toBeLessThanOrEqual(1 / 700);
    });

    const file = copySample(name, dir, `${label.replace(/\W+/g, '-')}-${name.includes('6') ? 'o6' : 'o1'}.jpg`);
    await writer.write(file, { 'XMP-mwg-rs:RegionInfo': null, 'XMP-MP:RegionInfoMP': null } as never);
    await applyPlan(writer, file, plan);
    const read = (await immichRead(immich, file)).faces.map((f) => [f.name, f.boundingBoxX1, f.boundingBoxY1, f.boundingBoxX2, f.boundingBoxY2, f.imageWidth, f.imageHeight]);
    const truth = before.faces
      .filter((f) => f.sourceType === 'exif')
      .map((f) => [f.personName, f.x1, f.y1, f.x2, f.y2, f.imageWidth, f.imageHeight]);
    expect(read).toHaveLength(truth.length);
    for (const row of truth) {
      const mine = read.find((r) => r[0] === row[0])!;
      mine.slice(1).forEach((v, i) => expect(Math.abs((v as number) - (row[i + 1] as number))).toBeLessThanOrEqual(1));
    }
  });
});

describe('what cannot be mapped back', () => {
  it('an unedited asset costs no edits request', async () => {
    sim.resetRequests();
    const { client } = fastClient(sim);
    const details = await client.getAssetDetails(sample.entry('unmerged-branches/solvay.jpg').assetId);
    expect(details.edits).toBeUndefined();
    expect(sim.requestCount('GET /assets/{id}/edits')).toBe(0);
  });

  it('a key without asset.edit.get skips only the face regions of edited assets, naming the permission', async () => {
    const limited = await startSimulator({ library: sample.library, permissions: ['asset.read', 'face.read', 'album.read', 'person.read', 'tag.read'] });
    try {
      const { assetId } = sample.entry('metadata/faces/portrait.jpg');
      sample.library.editAsset(assetId, [rotate(90)]);
      const details = await fastClient(limited).client.getAssetDetails(assetId);
      expect(details.editsUnavailable).toContain('asset.edit.get');
      const plan = buildMetadataPlan(details, { modules: ['faces', 'people'] });
      expect(plan.faces).toBeUndefined();
      expect(plan.people?.names).toEqual(['Marie Curie', 'Pierre Curie']);
      expect(plan.skipped).toEqual([{ module: 'faces', reason: expect.stringContaining('asset.edit.get') }]);
      expect(limited.violations()).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it('a rotation that is not a quarter turn is skipped with the reason', async () => {
    const { assetId } = sample.entry('metadata/faces/portrait.jpg');
    sample.library.editAsset(assetId, [rotate(12.5)]);
    const details = await fastClient(sim).client.getAssetDetails(assetId);
    const plan = facesPlan(details);
    expect(plan.faces).toBeUndefined();
    expect(plan.skipped).toEqual([{ module: 'faces', reason: expect.stringContaining('12.5°') }]);
  });

  it('edits that were not read (a details item from elsewhere) skip the faces instead of writing edited-frame boxes', () => {
    const plan = facesPlan({ ...unedited.get('metadata/faces/portrait.jpg')!, isEdited: true, edits: undefined });
    expect(plan.faces).toBeUndefined();
    expect(plan.skipped[0].reason).toMatch(/edits were not read/);
  });
});
