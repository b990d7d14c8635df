/**
 * The sync checkpoint's home inside n8n: the workflow's global static data, shared by Immich Search
 * Assets (which plans a batch) and Immich Write Metadata (which records what happened to it).
 *
 * n8n persists static data only when an execution of an active or CLI-started workflow ends, and never
 * for manual test runs; it saves only when a top-level key is assigned, so every save assigns a whole
 * new value instead of mutating the stored one.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { parseAlbumCache, type AlbumCache } from '../../lib/sync/albumCache';
import { parseCheckpoint, type HandledOrigin, type PassSource, type SyncCheckpoint } from '../../lib/sync/checkpoint';

/** The key in workflow static data; one per workflow, so two sync workflows keep separate checkpoints. */
export const SYNC_STATE_KEY = 'immichMetadataSync';

/** One asset of the batch Search Assets handed out, in the order it was listed. */
export interface BatchAsset {
  id: string;
  fileCreatedAt?: string;
  updatedAt: string | null;
  /** Parked (failed too often, unchanged since): not emitted, but the cursor may pass it. */
  parked?: boolean;
}

/** A run's share of the pass: the retries, the pending ids, then each listing's slice in order. */
export interface BatchSegment {
  origin: HandledOrigin;
  assets: BatchAsset[];
  /** For listing segments: which source this slice belongs to. */
  source?: PassSource;
  /** For listing segments: true when the listing ended inside this batch (the source is done once all are handled). */
  exhausted?: boolean;
}

export interface PendingBatch {
  /** When Search Assets planned it (ISO); the execution that wrote it records it. */
  plannedAt: string;
  /** startedAt of the pass the batch belongs to: results of a batch from an older pass only touch the retry list. */
  passStartedAt: string | null;
  segments: BatchSegment[];
}

export interface SyncState {
  checkpoint: SyncCheckpoint;
  albumCache: AlbumCache | null;
  batch: PendingBatch | null;
}

type StaticDataOwner = Pick<IExecuteFunctions, 'getWorkflowStaticData'>;

export function loadSyncState(context: StaticDataOwner): SyncState {
  const stored = context.getWorkflowStaticData('global')[SYNC_STATE_KEY];
  const raw = isRecord(stored) ? stored : {};
  return {
    checkpoint: parseCheckpoint(raw.checkpoint),
    albumCache: parseAlbumCache(raw.albumCache),
    batch: parseBatch(raw.batch),
  };
}

export function saveSyncState(context: StaticDataOwner, state: SyncState): void {
  // A JSON round trip drops undefined values and class instances that static data cannot hold.
  context.getWorkflowStaticData('global')[SYNC_STATE_KEY] = JSON.parse(JSON.stringify(state)) as IDataObject;
}

function parseBatch(value: unknown): PendingBatch | null {
  if (!isRecord(value) || !Array.isArray(value.segments) || typeof value.plannedAt !== 'string') return null;
  const segments: BatchSegment[] = [];
  for (const segment of value.segments) {
    if (!isRecord(segment) || !['listing', 'retry', 'pending'].includes(segment.origin as string) || !Array.isArray(segment.assets)) return null;
    const assets = segment.assets.filter((a): a is BatchAsset => isRecord(a) && typeof a.id === 'string');
    segments.push({
      origin: segment.origin as HandledOrigin,
      assets,
      source: isRecord(segment.source) ? (segment.source as PassSource) : undefined,
      exhausted: segment.exhausted === true,
    });
  }
  return { plannedAt: value.plannedAt, passStartedAt: typeof value.passStartedAt === 'string' ? value.passStartedAt : null, segments };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
