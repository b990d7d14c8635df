/**
 * Immich Search Assets in "Sync Batch (Checkpoint)" mode: instead of a fixed search, each run hands out
 * the next batch of the sync engine's work (lib/sync/workPlan.ts: retries, assets whose albums or tags
 * changed, then the pass's listings from the checkpoint cursor) and leaves the batch in workflow static
 * data for Write Metadata to record. This file only adapts n8n parameters and static data to the engine.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { immichNodeError, messageOf } from '../shared/errors';
import type { ImmichAssetSummary } from '../../lib/immich/types';
import { clearAlbumCache, DEFAULT_ALBUM_CACHE_TTL_MS } from '../../lib/sync/albumCache';
import { clearCheckpoint, describeCheckpoint, DEFAULT_FULL_RECONCILE_EVERY_DAYS } from '../../lib/sync/checkpoint';
import type { SearchPager } from '../../lib/sync/listing';
import { recordBatch, workBatch } from '../../lib/sync/recorder';
import { scopeModules } from '../../lib/sync/scope';
import { discoveryFor, needsWork, planSteps, startRun, takeSteps, type DiscoveryClient } from '../../lib/sync/workPlan';
import { StaticDataStateStore, SYNC_STATE_KEY } from '../shared/staticDataStore';

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
      'The checkpoint lives in this workflow\'s static data. n8n saves it when a production or CLI execution ends, not after a manual test run, so test runs always start from the same place.',
    name: 'checkpointNotice',
    type: 'notice',
    default: '',
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
  };
}

/** The Immich calls a sync batch needs (ImmichClient has them); narrowed so the adapter is testable against any client. */
export type SyncBatchClient = DiscoveryClient & SearchPager;

export type SyncBatchItem = ImmichAssetSummary | { id: string; syncOrigin: 'retry' | 'pending' };

/**
 * One run's batch from the sync engine (lib/sync/workPlan.ts): the next Max Assets Per Run steps, kept in
 * static data for Write Metadata to record. When the batch emits nothing, its steps (parked assets,
 * listing ends) are recorded at once, because Write Metadata will not run on zero items.
 */
export async function planSyncBatch(client: SyncBatchClient, store: StaticDataStateStore, settings: SyncBatchSettings, now: Date): Promise<{ items: SyncBatchItem[]; summary: string }> {
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
  });
  const steps = await takeSteps(planSteps(client, start, { pageSize: Math.min(1000, settings.maxAssetsPerRun + 1), maxAssets: settings.maxAssetsPerRun }));
  const items: SyncBatchItem[] = steps.filter(needsWork).map((step) => step.summary ?? { id: step.id, syncOrigin: step.origin as 'retry' | 'pending' });
  const batch = workBatch(start.checkpoint, steps, now);
  let checkpoint = start.checkpoint;
  if (items.length === 0) {
    checkpoint = recordBatch(checkpoint, batch, [], { now });
    await store.saveCheckpoint(checkpoint);
    store.saveBatch(null);
  } else {
    store.saveBatch(batch);
  }
  const taken = steps.filter((step) => step.kind === 'asset').length;
  return { items, summary: `${items.length} assets handed out (${taken} taken from the plan); ${describeCheckpoint(checkpoint)}` };
}

/** Search Assets' execute for the sync-batch mode. */
export async function executeSyncBatch(this: IExecuteFunctions, client: SyncBatchClient): Promise<INodeExecutionData[][]> {
  const settings = readSyncBatchSettings(this);
  // Planned on a scratch copy of the state: a failure leaves the stored state as it was.
  const staticData = this.getWorkflowStaticData('global');
  const scratch: IDataObject = { [SYNC_STATE_KEY]: staticData[SYNC_STATE_KEY] ?? {} };
  const store = new StaticDataStateStore({ getWorkflowStaticData: () => scratch });
  let planned;
  try {
    planned = await planSyncBatch(client, store, settings, new Date());
  } catch (error) {
    throw immichNodeError(this, error, messageOf(error), 0, 'The sync checkpoint was not changed; the next run starts from the same place.');
  }
  staticData[SYNC_STATE_KEY] = scratch[SYNC_STATE_KEY];
  this.logger.info(`Immich sync batch: ${planned.summary}`);
  return [planned.items.map((json) => ({ json: { ...json }, pairedItem: { item: 0 } }))];
}
