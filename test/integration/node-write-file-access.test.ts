/**
 * Write Metadata under n8n's file access rule (n8n-core's own check, N8N_RESTRICT_FILE_ACCESS_TO): a
 * library outside the allowed folders gets no byte written and every item fails naming the setting;
 * a library inside them is written as usual. Real n8n execution code, real ExifTool.
 */
import { promises as fs } from 'fs';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import * as path from 'path';

import type { AssetWriteResult } from '../../lib/files/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { ImmichWriteMetadata } from '../../nodes/ImmichWriteMetadata/ImmichWriteMetadata.node';
import { runNode } from '../helpers/n8nRunner';
import { assetFor, copySample, makeTempDir, snapshot } from './writer-fixtures';

jest.setTimeout(240_000);

let tmp: string;
let library: string;
let month: string;
let elsewhere: string;

beforeEach(async () => {
  tmp = await makeTempDir('node-access');
  library = path.join(tmp, 'library');
  month = path.join(library, '2024', '05');
  elsewhere = path.join(tmp, 'n8n-files');
  await fs.mkdir(month, { recursive: true });
  await fs.mkdir(elsewhere, { recursive: true });
  await copySample('metadata/rating/mongolels.jpg', month);
  await copySample('metadata/tags/picasa.jpg', month);
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const inputs = (): INodeExecutionData[] =>
  ['mongolels.jpg', 'picasa.jpg'].map((name, i) => {
    const asset = assetFor(name);
    return { json: { ...asset, metadataPlan: buildMetadataPlan(asset) } as unknown as IDataObject, pairedItem: { item: i } };
  });

describe('Write Metadata and N8N_RESTRICT_FILE_ACCESS_TO', () => {
  it.each(['original', 'sidecar'])('target %s, library not allowed: nothing written, every item on the error output naming the setting', async (target) => {
    const before = await snapshot(tmp);
    const { outputs, error } = await runNode(ImmichWriteMetadata, { libraryPath: library, target }, inputs(), {
      onError: 'continueErrorOutput',
      restrictFileAccessTo: elsewhere,
    });
    expect(error).toBeNull();
    expect(outputs[0]).toEqual([]);
    expect(outputs[1]).toHaveLength(2);
    for (const item of outputs[1]) {
      expect(item.json.error).toMatch(/N8N_RESTRICT_FILE_ACCESS_TO/);
      expect((item.json.details as unknown as AssetWriteResult).status).toBe('failed');
    }
    expect(await snapshot(tmp)).toEqual(before);
  });

  it('On Error "Stop Workflow": the node fails with the setting to change', async () => {
    const before = await snapshot(tmp);
    const { error } = await runNode(ImmichWriteMetadata, { libraryPath: library }, inputs(), { restrictFileAccessTo: elsewhere });
    expect(error?.message).toMatch(/n8n does not allow access to .*mongolels\.jpg.*N8N_RESTRICT_FILE_ACCESS_TO/);
    expect(await snapshot(tmp)).toEqual(before);
  });

  it('library allowed (one of several folders): written as usual', async () => {
    const { items, error } = await runNode(ImmichWriteMetadata, { libraryPath: library }, inputs(), {
      restrictFileAccessTo: `${elsewhere};${library}`,
    });
    expect(error).toBeNull();
    expect(items.map((i) => (i.json as unknown as AssetWriteResult).status)).toEqual(['written', 'written']);
  });
});
