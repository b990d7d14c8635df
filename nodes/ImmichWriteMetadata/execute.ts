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
import { resolveStateRoot } from '../../lib/sync/stateFolder';
import { openLibraryIndex, SyncIndexLocationError, type SyncIndex } from '../../lib/sync/syncIndex';
import { syncAsset, type SyncContext } from '../../lib/sync/syncAsset';
import { nodeError } from '../shared/errors';
import { batchLeaseKeeper, recordCheckpointResults } from './checkpointRecord';
import { n8nPathGuard } from './fileAccess';
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

/** One sync index per library path, in the State Folder, unless Use Sync Index is off. */
async function openIndexes(ctx: IExecuteFunctions, settings: ItemSettings[], indexes: Map<string, SyncIndex>): Promise<void> {
  for (let i = 0; i < settings.length; i++) {
    const library = settings[i].libraryPath;
    if (indexes.has(library) || !(ctx.getNodeParameter('useSyncIndex', i, true) as boolean)) continue;
    const setting = ctx.getNodeParameter('stateFolder', i, '') as string;
    const root = resolveStateRoot(setting);
    const isBlocked = ctx.helpers.isFilePathBlocked as ((file: string) => boolean) | undefined;
    try {
      indexes.set(
        library,
        await openLibraryIndex(root, library, {
          warn: (message) => ctx.logger.warn(message),
          // n8n's own file-access rule (N8N_RESTRICT_FILE_ACCESS_TO, the blocked n8n folder and patterns).
          mayUse: isBlocked ? (real) => !isBlocked.call(ctx.helpers, real as never) : undefined,
        }),
      );
    } catch (error) {
      // A State Folder the user chose must be usable. Otherwise the index only saves time: a default folder n8n
      // refuses, or one that cannot be created, costs this execution its speed-up.
      if (error instanceof SyncIndexLocationError && setting.trim() !== '') throw new NodeOperationError(ctx.getNode(), error.message, { itemIndex: i });
      ctx.logger.warn(`Sync index for ${library} unavailable in ${root} (${(error as Error).message}); every file is read with ExifTool.`);
    }
  }
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

  const pathGuard = n8nPathGuard(this);
  const previewMode = this.getNodeParameter('facePreview', 0, 'dryRun') as FacePreviewMode;
  const previews: (FacePreview | null)[] = items.map(() => null);
  // ExifTool is asked only when a file needs it: a batch the sync index vouches for never starts it.
  let exiftoolCheck: Promise<void> | null = null;
  let exiftoolProblem: Error | null = null;
  const beforeExifTool = (): Promise<void> =>
    (exiftoolCheck ??= assertExifToolRuns(exiftool).then(
      () => undefined,
      (error: Error) => {
        exiftoolProblem = error;
        throw error;
      },
    ));
  const indexes = new Map<string, SyncIndex>();
  let settled;
  const lease = batchLeaseKeeper(this);
  try {
    await openIndexes(this, settings, indexes);
    if (indexes.size === 0) await beforeExifTool().catch(() => undefined);
    if (exiftoolProblem) throw new NodeOperationError(this.getNode(), (exiftoolProblem as Error).message);
    settled = await settleWithConcurrency(items, concurrency, async (item, i) => {
      const asset = inputAsset(item.json);
      const ctx: SyncContext = { exiftool: exiftool!, ...settings[i], pathGuard, index: indexes.get(settings[i].libraryPath) ?? null, beforeExifTool };
      const result = await syncAsset(asset, ctx);
      if (wantsFacePreview(previewMode, settings[i].dryRun, asset.metadataPlan)) {
        await beforeExifTool();
        previews[i] = await facePreviewFor(exiftool!, asset, { ...settings[i], pathGuard }, result);
      }
      await lease?.keepAlive(); // a long batch keeps the sync's lease
      return result;
    });
  } finally {
    for (const index of indexes.values()) await index.close();
    await exiftool.end();
  }
  // A setup problem, not an asset's: the execution stops as it did before any file was touched.
  if (exiftoolProblem) throw new NodeOperationError(this.getNode(), (exiftoolProblem as Error).message);

  const results = settled.map((s, i) => (s.ok ? s.value : failedResult(items[i].json, s.error.message, settings[i].dryRun)));
  const recorded = await recordCheckpointResults(this, results, scopeOf(items, settings[0]), new Date(), lease);
  if (recorded.hadBatch) this.logger.info(`Immich sync checkpoint: ${recorded.note ?? recorded.summary}`);

  // A failed asset fails its item the n8n way. With On Error "Continue (using error output)" n8n routes an
  // item whose json has only error/message/details to the error output (it merges in the input item's
  // fields there); the result rides along as `details`. With "Continue" the result stays in the main
  // output with an `error` field. Otherwise the node fails, after every other asset was written and the
  // checkpoint recorded (so the failed ones are retried on the next run).
  const failures = results.flatMap((result, i) => (result.status === 'failed' ? [i] : []));
  if (!this.continueOnFail() && failures.length > 0) {
    const first = failures[0];
    throw nodeError(this, results[first].reason ?? `Asset ${results[first].assetId}: not written`, first, failureAdvice(failures.length, results.length));
  }
  const toErrorOutput = this.getNode().onError === 'continueErrorOutput';
  const output: INodeExecutionData[] = results.map((result, i) => {
    if (result.status !== 'failed') return { json: result as unknown as IDataObject, pairedItem: { item: i } };
    const error = result.reason ?? `Asset ${result.assetId}: not written`;
    const json = toErrorOutput ? { error, details: result } : { ...result, error };
    return { json: json as unknown as IDataObject, pairedItem: { item: i } };
  });
  for (let i = 0; i < output.length; i++) await attachFacePreview(this, output[i], previews[i]);
  return [output];
}

function failureAdvice(failed: number, total: number): string {
  const others = failed > 1 ? `${failed} of ${total} assets failed (this is the first); ` : '';
  return `${others}every other asset was handled (in Sync Batch mode the failed ones are retried on the next run). Set On Error to "Continue (using error output)" to receive failed assets as items.`;
}
