import { promises as fs } from 'fs';
import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import { assertExifToolRuns, createExifTool, DEFAULT_EXIFTOOL_PROCESSES } from '../../lib/files/exiftoolPool';
import { validateMapping, type PathMapping } from '../../lib/files/pathMapping';
import type { TargetMode } from '../../lib/files/target';
import type { AssetWriteResult } from '../../lib/files/types';
import type { ImmichAssetDetails } from '../../lib/immich/types';
import { settleWithConcurrency } from '../../lib/immich/concurrency';
import type { MetadataPlan, ModuleName } from '../../lib/metadata/types';
import { syncScope } from '../../lib/sync/scope';
import { syncAsset, type SyncContext } from '../../lib/sync/syncAsset';
import { batchLeaseKeeper, recordCheckpointResults } from './checkpointRecord';
import { attachFacePreview, facePreviewFor, wantsFacePreview, type FacePreviewMode } from './facePreviewOutput';
import type { FacePreview } from '../../lib/preview/facePreview';

interface ItemSettings {
  libraryPath: string;
  mapping: PathMapping;
  target: TargetMode;
  dryRun: boolean;
  keepModifyTime: boolean;
  backup: boolean;
}

function settingsFor(ctx: IExecuteFunctions, i: number): ItemSettings {
  const mode = ctx.getNodeParameter('pathMappingMode', i, 'lastSegments') as PathMapping['mode'];
  const libraryPath = (ctx.getNodeParameter('libraryPath', i, '/library') as string).trim();
  const mapping: PathMapping =
    mode === 'prefix'
      ? {
          mode: 'prefix',
          immichPrefix: (ctx.getNodeParameter('immichPrefix', i, '/usr/src/app/upload') as string).trim(),
          localPrefix: ((ctx.getNodeParameter('localPrefix', i, '') as string) || '').trim() || libraryPath,
        }
      : { mode: 'lastSegments', segments: ctx.getNodeParameter('segments', i, 3) as number };
  return {
    libraryPath,
    mapping,
    target: ctx.getNodeParameter('target', i, 'original') as TargetMode,
    dryRun: ctx.getNodeParameter('dryRun', i, false) as boolean,
    keepModifyTime: ctx.getNodeParameter('keepModifyTime', i, false) as boolean,
    backup: ctx.getNodeParameter('backup', i, false) as boolean,
  };
}

/** Configuration errors stop the execution: no asset could succeed with them. */
async function assertUsable(ctx: IExecuteFunctions, settings: ItemSettings, i: number): Promise<void> {
  try {
    validateMapping(settings.libraryPath, settings.mapping);
  } catch (error) {
    throw new NodeOperationError(ctx.getNode(), (error as Error).message, { itemIndex: i });
  }
  let isFolder = false;
  try {
    isFolder = (await fs.stat(settings.libraryPath)).isDirectory();
  } catch {
    isFolder = false;
  }
  if (!isFolder) {
    throw new NodeOperationError(
      ctx.getNode(),
      `Library Path "${settings.libraryPath}" is not an existing folder. Mount the Immich library into the n8n container there (or correct Library Path).`,
      { itemIndex: i },
    );
  }
}

function inputAsset(json: IDataObject): ImmichAssetDetails & { metadataPlan: MetadataPlan } {
  const asset = json as unknown as Partial<ImmichAssetDetails & { metadataPlan: MetadataPlan }>;
  if (typeof asset.id !== 'string' || typeof asset.originalPath !== 'string') {
    throw new Error('Item is not an Immich asset (no id or originalPath). Connect "Immich Build Metadata Tags" to this node.');
  }
  if (!asset.metadataPlan || typeof asset.metadataPlan !== 'object') {
    throw new Error(`Asset ${asset.id} has no metadataPlan. Put "Immich Build Metadata Tags" before this node.`);
  }
  return asset as ImmichAssetDetails & { metadataPlan: MetadataPlan };
}

/** What this run's files were synced for: the modules of the plans, written under these settings. */
function scopeOf(items: INodeExecutionData[], settings: ItemSettings): string | null {
  const modules = new Set<ModuleName>();
  for (const item of items) {
    const plan = (item.json as { metadataPlan?: Partial<MetadataPlan> }).metadataPlan;
    if (plan && Array.isArray(plan.modules)) for (const module of plan.modules) modules.add(module);
  }
  if (modules.size === 0) return null;
  return syncScope({ modules: [...modules], libraryPath: settings.libraryPath, mapping: settings.mapping, target: settings.target });
}

function failedResult(json: IDataObject, reason: string, dryRun: boolean): AssetWriteResult {
  return { assetId: typeof json.id === 'string' ? json.id : 'unknown', file: null, status: 'failed', reason, changes: [], dryRun };
}

export async function executeWriteMetadata(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const items = this.getInputData();
  if (items.length === 0) return [[]];

  const settings = items.map((_, i) => settingsFor(this, i));
  const checkedRoots = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const key = JSON.stringify([settings[i].libraryPath, settings[i].mapping]);
    if (checkedRoots.has(key)) continue;
    await assertUsable(this, settings[i], i);
    checkedRoots.add(key);
  }

  const processes = this.getNodeParameter('exiftoolProcesses', 0, DEFAULT_EXIFTOOL_PROCESSES) as number;
  const concurrency = this.getNodeParameter('concurrency', 0, DEFAULT_EXIFTOOL_PROCESSES) as number;
  let exiftool;
  try {
    exiftool = createExifTool({ maxProcs: processes, engine: this.getNodeParameter('exiftoolEngine', 0, 'auto') as 'auto' | 'perl' | 'wasm' });
  } catch (error) {
    throw new NodeOperationError(this.getNode(), (error as Error).message);
  }

  const previewMode = this.getNodeParameter('facePreview', 0, 'dryRun') as FacePreviewMode;
  const previews: (FacePreview | null)[] = items.map(() => null);
  let settled;
  const lease = batchLeaseKeeper(this);
  try {
    try {
      await assertExifToolRuns(exiftool);
    } catch (error) {
      throw new NodeOperationError(this.getNode(), (error as Error).message);
    }
    settled = await settleWithConcurrency(items, concurrency, async (item, i) => {
      const asset = inputAsset(item.json);
      const ctx: SyncContext = { exiftool: exiftool!, ...settings[i] };
      const result = await syncAsset(asset, ctx);
      if (wantsFacePreview(previewMode, settings[i].dryRun, asset.metadataPlan)) {
        previews[i] = await facePreviewFor(exiftool!, asset, settings[i], result);
      }
      await lease?.keepAlive(); // a long batch keeps the sync's lease
      return result;
    });
  } finally {
    await exiftool.end();
  }

  const results = settled.map((s, i) => (s.ok ? s.value : failedResult(items[i].json, s.error.message, settings[i].dryRun)));
  const recorded = await recordCheckpointResults(this, results, scopeOf(items, settings[0]), new Date(), lease);
  if (recorded.hadBatch) this.logger.info(`Immich sync checkpoint: ${recorded.note ?? recorded.summary}`);

  const continueOnFail = this.continueOnFail();
  const output: INodeExecutionData[] = results.map((result, i) => ({
    json: (continueOnFail && result.status === 'failed'
      ? { ...result, error: result.reason ?? 'failed' }
      : result) as unknown as IDataObject,
    pairedItem: { item: i },
  }));
  for (let i = 0; i < output.length; i++) await attachFacePreview(this, output[i], previews[i]);
  return [output];
}
