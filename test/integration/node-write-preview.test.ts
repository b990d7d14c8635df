/** Write Metadata's face preview option through real n8n execution code: a binary JPEG per photo with faces. */
import { promises as fs } from 'fs';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import * as jpeg from 'jpeg-js';
import * as path from 'path';

import type { ImmichAssetDetails } from '../../lib/immich/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { ImmichWriteMetadata } from '../../nodes/ImmichWriteMetadata/ImmichWriteMetadata.node';
import { runNode } from '../helpers/n8nRunner';
import { assetFor, copySample, makeTempDir, sha256 } from './writer-fixtures';

jest.setTimeout(120_000);

let tmp: string;
let library: string;
let month: string;
beforeEach(async () => {
  tmp = await makeTempDir('node-preview');
  library = path.join(tmp, 'library');
  month = path.join(library, '2024', '05');
  await fs.mkdir(month, { recursive: true });
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const face = (name: string, box: number[], width: number, height: number) => ({
  id: `face-${name}`,
  personId: `person-${name}`,
  personName: name,
  personHidden: false,
  x1: box[0],
  y1: box[1],
  x2: box[2],
  y2: box[3],
  imageWidth: width,
  imageHeight: height,
  sourceType: 'machine-learning',
});

function withFaces(fileName: string, width: number, height: number): INodeExecutionData {
  const asset: ImmichAssetDetails = assetFor(fileName, {
    people: [{ id: 'person-Marie Curie', name: 'Marie Curie', isHidden: false, updatedAt: null }],
    faces: [face('Marie Curie', [261, 146, 356, 284], width, height)],
  } as Partial<ImmichAssetDetails>);
  return { json: { ...asset, metadataPlan: buildMetadataPlan(asset, { modules: ['people', 'faces'] }) } as unknown as IDataObject };
}

describe('Write Metadata face previews', () => {
  it('a dry run attaches a JPEG preview with the planned box and touches no file; a HEIC says why it has none', async () => {
    const portrait = await copySample('metadata/faces/portrait.jpg', month);
    const heic = await copySample('formats/heic/IMG_2682.heic', month);
    const before = [await sha256(portrait), await sha256(heic)];
    const run = await runNode(ImmichWriteMetadata, { libraryPath: library, dryRun: true, exiftoolProcesses: 1 }, [
      withFaces('portrait.jpg', 840, 700),
      withFaces('IMG_2682.heic', 4032, 3024),
    ]);
    expect(run.error).toBeNull();
    const [photo, other] = run.items;
    expect(photo.json.status).toBe('written');
    const binary = photo.binary?.facePreview;
    expect(binary).toMatchObject({ mimeType: 'image/jpeg', fileName: 'portrait-faces.jpg' });
    const image = jpeg.decode(Buffer.from(binary!.data, 'base64'));
    expect([image.width, image.height]).toEqual([480, 400]);
    expect(photo.json.facePreview).toMatchObject({ binaryProperty: 'facePreview', width: 480, height: 400, pixelsFrom: 'image' });
    expect((photo.json.facePreview as { boxes: { name: string; kind: string }[] }).boxes).toContainEqual(
      expect.objectContaining({ name: 'Marie Curie', kind: 'planned' }),
    );
    expect(other.binary).toBeUndefined();
    expect(other.json.facePreviewSkipped).toMatch(/IMG_2682\.heic/);
    expect([await sha256(portrait), await sha256(heic)]).toEqual(before);
  });

  it('writing attaches no preview unless asked; with "Always" the preview shows the regions as written', async () => {
    await copySample('metadata/faces/portrait.jpg', month);
    const plain = await runNode(ImmichWriteMetadata, { libraryPath: library, exiftoolProcesses: 1 }, [withFaces('portrait.jpg', 840, 700)]);
    expect(plain.items[0].json.status).toBe('written');
    expect(plain.items[0].binary).toBeUndefined();

    const asked = await runNode(ImmichWriteMetadata, { libraryPath: library, exiftoolProcesses: 1, facePreview: 'always' }, [
      withFaces('portrait.jpg', 840, 700),
    ]);
    expect(asked.items[0].json.status).toBe('unchanged');
    expect(asked.items[0].binary?.facePreview?.mimeType).toBe('image/jpeg');
  });
});
