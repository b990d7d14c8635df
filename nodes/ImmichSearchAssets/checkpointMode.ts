/**
 * Immich Search Assets in "Sync Batch (Checkpoint)" mode: instead of a fixed search, each run hands out
 * the next batch of the sync — first the failed assets to retry, then assets whose album membership
 * changed, then the current pass's listings from the checkpoint cursor (everything on a full pass;
 * on an incremental pass what changed since the last one plus every asset of people changed since) —
 * and leaves the batch in workflow static data for Write Metadata to record (checkpointRecord.ts).
 */
import type { IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import type { ImmichClient } from '../../lib/immich/client';
import type { ImmichAssetSummary } from '../../lib/immich/types';
import { clearAlbumCache, getAlbumMembership, DEFAULT_ALBUM_CACHE_TTL_MS } from '../../lib/sync/albumCache';
import {
  addChangedAssets,
  clearCheckpoint,
  compareInstants,
  currentListing,
  describeCheckpoint,
  finishCurrentSource,
  isParked,
  pendingAssetIds,
  planRun,
  DEFAULT_FULL_RECONCILE_EVERY_DAYS,
  type SyncCheckpoint,
} from '../../lib/sync/checkpoint';
import { loadSyncState, saveSyncState, type BatchAsset, type BatchSegment, type PendingBatch } from '../shared/checkpointStore';
import { applyBatchResults } from '../ImmichWriteMetadata/checkpointRecord';

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

/** The Immich calls a sync batch needs (ImmichClient has them); narrowed so the planner is testable against any client. */
export type SyncBatchClient = Pick<ImmichClient, 'searchAssets' | 'listPeople' | 'albumMembership' | 'listAlbums'>;

export interface PlannedBatch {
  /** The items to emit: summaries for listed assets, `{ id }` for retries and pending ids (Get Asset Details fetches them). */
  items: Array<ImmichAssetSummary | { id: string; syncOrigin: 'retry' | 'pending' }>;
  batch: PendingBatch;
  checkpoint: SyncCheckpoint;
}

/**
 * Plans one run from the stored state: the framework-free part of the sync-batch mode. Returns the new
 * state to save; when the batch emits nothing, its (parked or empty) listings are recorded at once,
 * because Write Metadata will not run on zero items.
 */
export async function planSyncBatch(
  client: SyncBatchClient,
  stored: ReturnType<typeof loadSyncState>,
  settings: SyncBatchSettings,
  now: Date,
): Promise<{ items: PlannedBatch['items']; state: ReturnType<typeof loadSyncState>; summary: string }> {
  let checkpoint = settings.resetCheckpoint ? clearCheckpoint() : stored.checkpoint;
  // Clearing keeps the old membership as the diff's baseline, so album changes made before are still found.
  let albumCache = settings.clearAlbumCache ? clearAlbumCache(stored.albumCache) : stored.albumCache;

  const plan = planRun(checkpoint, { now, mode: 'incremental', fullReconcileEveryDays: settings.fullReconcileEveryDays });
  checkpoint = plan.checkpoint;

  if (!plan.resumed) {
    // Album membership is refreshed at the start of every pass once its TTL passed; on an incremental
    // pass the assets whose albums changed are added, as Immich's updatedAt does not show them.
    // GET /albums on each new pass refreshes the cache early when an album changed within the TTL.
    const albums = await getAlbumMembership(albumCache, now, settings.albumCacheTtlMs, async (listed) => (await client.albumMembership(listed ?? undefined)).byAsset, {
      listAlbums: () => client.listAlbums(),
    });
    albumCache = albums.cache;
    if (plan.discoverChangesSince) {
      const since = plan.discoverChangesSince;
      const people = await client.listPeople();
      const personIds = people.filter((p) => p.updatedAt && compareInstants(p.updatedAt, since) >= 0).map((p) => p.id);
      checkpoint = addChangedAssets(checkpoint, { personIds, assetIds: albums.changedAssetIds });
    }
  }

  const items: PlannedBatch['items'] = [];
  const emitted = new Set<string>();
  const segments: BatchSegment[] = [];
  const room = () => settings.maxAssetsPerRun - items.length;

  const retryAssets: BatchAsset[] = [];
  for (const id of plan.retryIds) {
    if (room() <= 0) break;
    retryAssets.push({ id, updatedAt: checkpoint.retries[id]?.updatedAt ?? null });
    items.push({ id, syncOrigin: 'retry' });
    emitted.add(id);
  }
  if (retryAssets.length) segments.push({ origin: 'retry', assets: retryAssets });

  const pendingAssets: BatchAsset[] = [];
  for (const id of pendingAssetIds(checkpoint)) {
    if (room() <= 0) break;
    pendingAssets.push({ id, updatedAt: null });
    if (!emitted.has(id)) items.push({ id, syncOrigin: 'pending' });
    emitted.add(id);
  }
  if (pendingAssets.length) segments.push({ origin: 'pending', assets: pendingAssets });

  // Walk the listings in order on a scratch copy: a source that ends inside this batch is finished
  // there so the next one can start; the stored checkpoint moves only when the results are recorded.
  let scratch = checkpoint;
  // Pending ids not handed out this run must stay pending, so the listings wait until they are all out.
  const pendingLeft = pendingAssetIds(checkpoint).length > pendingAssets.length;
  while (!pendingLeft && room() > 0) {
    const listing = currentListing(scratch);
    if (!listing) break;
    const skip = new Set(listing.skipIds);
    const assets: BatchAsset[] = [];
    let exhausted = true;
    const pageSize = Math.min(1000, room() + skip.size + 1);
    scan: for await (const page of client.searchAssets({ ...listing.filters }, pageSize)) {
      for (const asset of page) {
        if (skip.has(asset.id)) continue;
        if (room() <= 0) {
          exhausted = false;
          break scan;
        }
        const parked = isParked(checkpoint, asset);
        assets.push({ id: asset.id, fileCreatedAt: asset.fileCreatedAt, updatedAt: asset.updatedAt, ...(parked ? { parked } : {}) });
        if (!parked && !emitted.has(asset.id)) {
          items.push(asset);
          emitted.add(asset.id);
        }
      }
    }
    segments.push({ origin: 'listing', source: listing.source, assets, exhausted });
    if (!exhausted) break;
    scratch = finishCurrentSource(scratch);
  }

  const batch: PendingBatch = { plannedAt: now.toISOString(), passStartedAt: checkpoint.pass?.startedAt ?? null, segments };
  if (items.length === 0) {
    checkpoint = applyBatchResults(checkpoint, batch, [], now);
    return { items, state: { checkpoint, albumCache, batch: null }, summary: describeCheckpoint(checkpoint) };
  }
  return { items, state: { checkpoint, albumCache, batch }, summary: describeCheckpoint(checkpoint) };
}

/** Search Assets' execute for the sync-batch mode. */
export async function executeSyncBatch(this: IExecuteFunctions, client: SyncBatchClient): Promise<INodeExecutionData[][]> {
  const settings = readSyncBatchSettings(this);
  let planned;
  try {
    planned = await planSyncBatch(client, loadSyncState(this), settings, new Date());
  } catch (error) {
    // Nothing was saved: the next run plans the same batch again.
    throw new NodeOperationError(this.getNode(), error as Error, {
      description: 'The sync checkpoint was not changed; the next run starts from the same place.',
    });
  }
  saveSyncState(this, planned.state);
  this.logger.info(`Immich sync batch: ${planned.items.length} assets handed out; ${planned.summary}`);
  return [planned.items.map((json) => ({ json: { ...json }, pairedItem: { item: 0 } }))];
}
