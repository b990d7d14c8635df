/**
 * Immich Search Assets in "Sync Batch (Checkpoint)" mode: instead of a fixed search, each run hands out
 * the next batch of the sync engine's work (lib/sync/workPlan.ts: retries, assets whose albums or tags
 * changed, then the pass's listings from the checkpoint cursor). The checkpoint and caches live in the
 * state folder (lib/sync/stateFolder.ts), which every n8n worker reads at the start of an execution; only
 * the batch in flight, and where it came from, stay in workflow static data for Write Metadata to record
 * in the same execution. This file only adapts n8n parameters to the engine.
 */
import { promises as fs } from 'fs';
import * as path from 'path';
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { ImmichAssetSummary } from '../../lib/immich/types';
import { clearAlbumCache, DEFAULT_ALBUM_CACHE_TTL_MS } from '../../lib/sync/albumCache';
import { clearCheckpoint, describeCheckpoint, DEFAULT_FULL_RECONCILE_EVERY_DAYS } from '../../lib/sync/checkpoint';
import { acquireLease, describeBackOff, releaseLease, type LeaseRecord } from '../../lib/sync/lease';
import type { SearchPager } from '../../lib/sync/listing';
import { recordBatch, workBatch, type WorkBatch } from '../../lib/sync/recorder';
import { scopeModules } from '../../lib/sync/scope';
import { describePartition } from '../../lib/sync/partition';
import { partitionProblem, resolveStateRoot, stateFolderFor, WHOLE_LIBRARY, type Partition } from '../../lib/sync/stateFolder';
import { CHECKPOINT_FILE, FileStateStore, StagedStateStore, type SyncStateStore } from '../../lib/sync/stateStore';
import { discoveryFor, needsWork, planSteps, startRun, takeSteps, type DiscoveryClient } from '../../lib/sync/workPlan';
import { StaticDataStateStore } from '../shared/staticDataStore';

export const SEARCH_MODE_PARAMETER = 'searchMode';
export const SYNC_BATCH_MODE = 'syncBatch';
export const DEFAULT_MAX_ASSETS_PER_RUN = 500;

const showInSyncBatch = { show: { [SEARCH_MODE_PARAMETER]: [SYNC_BATCH_MODE] } };

/** Put first in the Search Assets description; the node's own search parameters should show only for mode "search". */
export const checkpointModeProperties: INodeProperties[] = [
  {
    displayName: 'Mode',
    name: SEARCH_MODE_PARAMETER,
    type: 'options',
    noDataExpression: true,
    options: [
      { name: 'Search', value: 'search', description: 'List the assets matching the filters, every run the same' },
      {
        name: 'Sync Batch (Checkpoint)',
        value: SYNC_BATCH_MODE,
        description:
          'Hand out the next batch of a sync that resumes where the last run stopped; Immich Write Metadata records the results',
      },
    ],
    default: 'search',
  },
  {
    displayName:
      'The checkpoint lives in the State Folder, so every run (and every queue-mode worker) continues where the last one stopped, test runs in the editor included',
    name: 'checkpointNotice',
    type: 'notice',
    default: '',
    displayOptions: showInSyncBatch,
  },
  {
    displayName: 'State Folder',
    name: 'stateFolder',
    type: 'string',
    default: '',
    placeholder: '/library/.immich-metadata-sync',
    description:
      'Where the checkpoint and caches are kept, one subfolder per workflow. Empty: n8n\'s default file folder (~/.n8n-files/immich-metadata-sync). In queue mode use a folder every worker mounts, e.g. beside the library.',
    displayOptions: showInSyncBatch,
  },
  {
    displayName: 'Partitions',
    name: 'partitionCount',
    type: 'number',
    typeOptions: { minValue: 1 },
    default: 1,
    description:
      'Split the library into this many parts by a stable hash of the asset ID. N copies of this workflow (or N schedules), each with its own Partition, sync every asset exactly once between them, in parallel, each with its own checkpoint. 1 = the whole library.',
    displayOptions: showInSyncBatch,
  },
  {
    displayName: 'Partition',
    name: 'partitionIndex',
    type: 'number',
    typeOptions: { minValue: 1 },
    default: 1,
    description: 'Which part this workflow syncs, from 1 to Partitions',
    displayOptions: showInSyncBatch,
  },
  {
    displayName: 'Max Assets Per Run',
    name: 'maxAssetsPerRun',
    type: 'number',
    typeOptions: { minValue: 1 },
    default: DEFAULT_MAX_ASSETS_PER_RUN,
    description: 'How many assets one run hands out at most; the rest follow on the next runs',
    displayOptions: showInSyncBatch,
  },
  {
    displayName: 'Full Reconcile Every N Days',
    name: 'fullReconcileEveryDays',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: DEFAULT_FULL_RECONCILE_EVERY_DAYS,
    description:
      'Between full passes only assets changed since the last pass are listed. Every N days a full pass compares every asset again (0 = never).',
    displayOptions: showInSyncBatch,
  },
  {
    displayName: 'Album Cache TTL (Hours)',
    name: 'albumCacheTtlHours',
    type: 'number',
    typeOptions: { minValue: 0 },
    default: 24, // DEFAULT_ALBUM_CACHE_TTL_MS in hours (the n8n lint wants a literal here)
    description:
      'Immich does not mark an asset as changed when it joins or leaves an album, so album membership is fetched again when this cache expires, or earlier when an album changed, and the assets whose albums changed are synced. 0 = on every new pass.',
    displayOptions: showInSyncBatch,
  },
  {
    displayName: 'Reset Checkpoint',
    name: 'resetCheckpoint',
    type: 'boolean',
    default: false,
    description: 'Whether to forget the position and the retry list and start a full pass. Turn it on for one run, then off again.',
    displayOptions: showInSyncBatch,
  },
  {
    displayName: 'Clear Album Cache',
    name: 'clearAlbumCache',
    type: 'boolean',
    default: false,
    description: 'Whether to fetch album membership again on this run. Turn it on for one run, then off again.',
    displayOptions: showInSyncBatch,
  },
];

export interface SyncBatchSettings {
  maxAssetsPerRun: number;
  fullReconcileEveryDays: number;
  albumCacheTtlMs: number;
  resetCheckpoint: boolean;
  clearAlbumCache: boolean;
  /** The State Folder setting as entered (empty = n8n's default file folder). */
  stateFolder: string;
  partition: Partition;
}

export function readSyncBatchSettings(context: Pick<IExecuteFunctions, 'getNodeParameter'>): SyncBatchSettings {
  const number = (name: string, fallback: number) => {
    const value = Number(context.getNodeParameter(name, 0, fallback));
    return Number.isFinite(value) && value >= 0 ? value : fallback;
  };
  return {
    maxAssetsPerRun: Math.max(1, Math.floor(number('maxAssetsPerRun', DEFAULT_MAX_ASSETS_PER_RUN))),
    fullReconcileEveryDays: number('fullReconcileEveryDays', DEFAULT_FULL_RECONCILE_EVERY_DAYS),
    albumCacheTtlMs: number('albumCacheTtlHours', DEFAULT_ALBUM_CACHE_TTL_MS / 3600_000) * 3600_000,
    resetCheckpoint: context.getNodeParameter('resetCheckpoint', 0, false) === true,
    clearAlbumCache: context.getNodeParameter('clearAlbumCache', 0, false) === true,
    stateFolder: String(context.getNodeParameter('stateFolder', 0, '') ?? ''),
    partition: { index: Number(context.getNodeParameter('partitionIndex', 0, 1)), count: Number(context.getNodeParameter('partitionCount', 0, 1)) },
  };
}

/** The Immich calls a sync batch needs (ImmichClient has them); narrowed so the adapter is testable against any client. */
export type SyncBatchClient = DiscoveryClient & SearchPager;

export type SyncBatchItem = ImmichAssetSummary | { id: string; syncOrigin: 'retry' | 'pending' };

/** The one item of a run that found another run working on the same state folder. */
export interface SyncBackOffItem {
  syncBackedOff: true;
  message: string;
  stateFolder: string;
  holder: LeaseRecord | null;
}

/**
 * One run's batch from the sync engine (lib/sync/workPlan.ts): the next Max Assets Per Run steps, for
 * Write Metadata to record. When the batch emits nothing, its steps (parked assets, listing ends) are
 * recorded at once, because Write Metadata will not run on zero items; then no batch is returned.
 */
export async function planSyncBatch(
  client: SyncBatchClient,
  store: SyncStateStore,
  settings: Omit<SyncBatchSettings, 'stateFolder' | 'partition'> & { partition?: Partition },
  now: Date,
): Promise<{ items: SyncBatchItem[]; summary: string; batch: WorkBatch | null }> {
  if (settings.resetCheckpoint) await store.saveCheckpoint(clearCheckpoint());
  if (settings.clearAlbumCache) {
    // Clearing keeps the old membership as the diff's baseline, so changes made before are still found.
    for (const kind of ['albums', 'tags'] as const) await store.saveMembershipCache(kind, clearAlbumCache(await store.loadMembershipCache(kind)));
  }
  // The modules are set in Build Metadata Tags; Write Metadata stores them in the checkpoint's scope.
  const modules = scopeModules((await store.loadCheckpoint()).scope);
  const start = await startRun(client, store, {
    mode: 'incremental',
    discover: discoveryFor(modules),
    fullReconcileEveryDays: settings.fullReconcileEveryDays,
    albumCacheTtlMs: settings.albumCacheTtlMs,
    persist: true,
    now,
    partition: settings.partition,
  });
  const steps = await takeSteps(
    planSteps(client, start, { pageSize: Math.min(1000, settings.maxAssetsPerRun + 1), maxAssets: settings.maxAssetsPerRun, partition: settings.partition }),
  );
  const items: SyncBatchItem[] = steps.filter(needsWork).map((step) => step.summary ?? { id: step.id, syncOrigin: step.origin as 'retry' | 'pending' });
  let batch: WorkBatch | null = workBatch(start.checkpoint, steps, now);
  let checkpoint = start.checkpoint;
  if (items.length === 0) {
    checkpoint = recordBatch(checkpoint, batch, [], { now });
    await store.saveCheckpoint(checkpoint);
    batch = null;
  }
  const taken = steps.filter((step) => step.kind === 'asset').length;
  const of = settings.partition && settings.partition.count > 1 ? ` of ${describePartition(settings.partition)}` : '';
  return { items, batch, summary: `${items.length} assets${of} handed out (${taken} taken from the plan); ${describeCheckpoint(checkpoint)}` };
}

/** The state folder of this workflow (and partition) under the State Folder setting. */
export function syncStateFolder(context: Pick<IExecuteFunctions, 'getWorkflow' | 'getNode'>, setting: string, partition: Partition = WHOLE_LIBRARY): string {
  const workflowId = context.getWorkflow().id;
  if (!workflowId) {
    throw new NodeOperationError(context.getNode(), 'This workflow has no id yet: save it once, so the sync checkpoint has a folder of its own.');
  }
  return stateFolderFor(resolveStateRoot(setting), `workflow-${workflowId}`, partition);
}

/**
 * Versions before the state folder kept the checkpoint in static data. A folder without a checkpoint
 * takes it over once (regular mode keeps its progress across the upgrade); after that static data holds
 * only the batch in flight.
 */
async function adoptStaticDataState(folder: string, legacy: StaticDataStateStore, store: SyncStateStore): Promise<void> {
  if (!legacy.hasState()) return;
  const exists = await fs.access(path.join(folder, CHECKPOINT_FILE)).then(() => true, () => false);
  if (!exists) {
    await store.saveCheckpoint(await legacy.loadCheckpoint());
    for (const kind of ['albums', 'tags'] as const) await store.saveMembershipCache(kind, await legacy.loadMembershipCache(kind));
  }
}

/** Search Assets' execute for the sync-batch mode. */
export async function executeSyncBatch(this: IExecuteFunctions, client: SyncBatchClient): Promise<INodeExecutionData[][]> {
  const settings = readSyncBatchSettings(this);
  const problem = partitionProblem(settings.partition);
  if (problem) throw new NodeOperationError(this.getNode(), `Partition: ${problem}`, { description: 'Set Partitions to N and Partition to 1..N, a different one on each copy of the workflow.' });
  const folder = syncStateFolder(this, settings.stateFolder, settings.partition);
  const inFlight = new StaticDataStateStore(this);
  inFlight.saveBatch(null);
  // Held from planning until Write Metadata has recorded the batch: overlapping executions and other
  // workers back off instead of handing out the same assets.
  const attempt = await acquireLease(folder, { run: `n8n execution ${this.getExecutionId() ?? '(unsaved)'}` });
  if (!attempt.acquired) {
    const backOff: SyncBackOffItem = { syncBackedOff: true, message: describeBackOff(attempt.holder), stateFolder: folder, holder: attempt.holder };
    this.logger.info(`Immich sync batch: ${backOff.message}`);
    return [[{ json: backOff as unknown as IDataObject, pairedItem: { item: 0 } }]];
  }
  // Planned on a staged copy of the state: a failure leaves the stored state as it was.
  const staged = new StagedStateStore(new FileStateStore(folder));
  let planned;
  try {
    await adoptStaticDataState(folder, inFlight, staged);
    planned = await planSyncBatch(client, staged, settings, new Date());
    await staged.commit();
    inFlight.dropState();
  } catch (error) {
    await releaseLease(folder, attempt.lease);
    throw new NodeOperationError(this.getNode(), error as Error, {
      description: `The sync checkpoint in ${folder} was not changed; the next run starts from the same place.`,
    });
  }
  if (planned.batch) inFlight.saveBatch(planned.batch, { stateFolder: folder, lease: attempt.lease });
  else await releaseLease(folder, attempt.lease); // nothing handed out: Write Metadata will not run
  this.logger.info(`Immich sync batch (state in ${folder}): ${planned.summary}`);
  return [planned.items.map((json) => ({ json: { ...json } as IDataObject, pairedItem: { item: 0 } }))];
}
