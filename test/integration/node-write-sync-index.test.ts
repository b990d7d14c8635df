/**
 * Write Metadata's sync index through real n8n code (n8n-core's WorkflowExecute and its file-access rules) and
 * real ExifTool: the default State Folder is n8n's first allowed folder, a State Folder n8n may not access stops
 * the node with a clear error, and Use Sync Index off reads every file again.
 */
import { promises as fs, mkdtempSync } from 'fs';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import * as os from 'os';
import * as path from 'path';

import type { AssetWriteResult } from '../../lib/files/types';
import type { ImmichAssetDetails } from '../../lib/immich/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { STATE_ROOT_NAME } from '../../lib/sync/stateFolder';
import { DEFAULT_RACY_WINDOW_MS, SYNC_INDEX_FILE } from '../../lib/sync/syncIndex';
import { ImmichWriteMetadata } from '../../nodes/ImmichWriteMetadata/ImmichWriteMetadata.node';
import { runNode } from '../helpers/n8nRunner';
import { assetFor, copySample } from './writer-fixtures';

jest.setTimeout(120_000);

// n8n reads its file-access settings once, when its security config is first used (in this file's first run).
const allowed = mkdtempSync(path.join(os.tmpdir(), 'node-index-allowed-'));
process.env.N8N_RESTRICT_FILE_ACCESS_TO = allowed;

let tmp: string;
let library: string;
let month: string;

beforeEach(async () => {
  // Inside the allowed folder too, so that the library passes n8n's file-access rules as well.
  tmp = mkdtempSync(path.join(allowed, 'run-'));
  library = path.join(tmp, 'library');
  month = path.join(library, '2024', '05');
  await fs.mkdir(month, { recursive: true });
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});
afterAll(async () => {
  await fs.rm(allowed, { recursive: true, force: true });
});

const planned = (asset: ImmichAssetDetails, i: number): INodeExecutionData => ({
  json: { ...asset, metadataPlan: buildMetadataPlan(asset) } as unknown as IDataObject,
  pairedItem: { item: i },
});
const resultOf = (item: INodeExecutionData) => item.json as unknown as AssetWriteResult;

async function filesNamed(dir: string, name: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true });
  return entries.map(String).filter((e) => path.basename(e) === name);
}

describe('Write Metadata with the sync index', () => {
  it('default State Folder: the index lives in n8n\'s allowed folder and vouches for unchanged files; off, every file is read', async () => {
    await copySample('metadata/rating/mongolels.jpg', month);
    const inputs = [planned(assetFor('mongolels.jpg'), 0)];
    const params = { libraryPath: library, exiftoolProcesses: 1 };

    expect(resultOf((await runNode(ImmichWriteMetadata, params, inputs)).items[0]).status).toBe('written');
    await new Promise((r) => setTimeout(r, DEFAULT_RACY_WINDOW_MS + 100));
    const checked = resultOf((await runNode(ImmichWriteMetadata, params, inputs)).items[0]);
    expect([checked.status, checked.fromIndex]).toEqual(['unchanged', undefined]); // confirmed by ExifTool once
    const fast = resultOf((await runNode(ImmichWriteMetadata, params, inputs)).items[0]);
    expect([fast.status, fast.fromIndex]).toEqual(['unchanged', true]);
    expect(await filesNamed(path.join(allowed, STATE_ROOT_NAME), SYNC_INDEX_FILE)).toHaveLength(1);

    const off = resultOf((await runNode(ImmichWriteMetadata, { ...params, useSyncIndex: false }, inputs)).items[0]);
    expect([off.status, off.fromIndex]).toEqual(['unchanged', undefined]);
  });

  it('a State Folder outside the paths n8n may access stops the node with what to do, and writes nothing there', async () => {
    await copySample('metadata/rating/mongolels.jpg', month);
    const outside = path.join(os.tmpdir(), `node-index-outside-${process.pid}-${Date.now()}`);
    // n8n restricted to its file folder and the library: the State Folder is neither
    const { error, items } = await runNode(ImmichWriteMetadata, { libraryPath: library, stateFolder: outside }, [planned(assetFor('mongolels.jpg'), 0)], { restrictFileAccessTo: `${allowed};${library}` });
    expect(items).toEqual([]);
    expect(error?.message).toMatch(/outside the paths n8n may access: set State Folder to a folder inside N8N_RESTRICT_FILE_ACCESS_TO, or turn off Use Sync Index/);
    await expect(fs.stat(outside)).rejects.toThrow(/ENOENT/);
  });
});
