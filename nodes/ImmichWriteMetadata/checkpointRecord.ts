/**
 * After Write Metadata: records what happened to the batch Search Assets handed out (sync-batch mode)
 * into the checkpoint, so the next run resumes behind the handled assets and retries the failed ones.
 *
 * Every asset of the batch counts as handled once this runs: an asset that reached Write Metadata has
 * its result; one that fell out earlier (an upstream node failed for it with Continue On Fail) is
 * recorded as failed, so it goes to the retry list instead of pinning the cursor forever. A run that
 * dies before Write Metadata records nothing, and the next run lists the same assets again.
 */
import type { IExecuteFunctions } from 'n8n-workflow';
import type { AssetWriteResult } from '../../lib/files/types';
import { describeCheckpoint, recordResults, type HandledAsset, type SyncCheckpoint } from '../../lib/sync/checkpoint';
import { loadSyncState, saveSyncState, type PendingBatch } from '../shared/checkpointStore';

export const MISSING_RESULT_REASON =
  'No result reached Immich Write Metadata for this asset (an earlier node failed for it); it will be retried on the next run.';

export type ResultLike = Pick<AssetWriteResult, 'assetId' | 'status' | 'reason'> & Partial<Pick<AssetWriteResult, 'dryRun'>>;

export interface CheckpointRecordOutcome {
  recorded: boolean;
  /** Why nothing was recorded (no batch, dry run, checkpoint reset meanwhile). */
  note?: string;
  checkpoint: SyncCheckpoint;
  summary: string;
}

/**
 * Pure: applies one batch's results to the checkpoint. Segments are recorded in the order they were
 * planned, so each listing's cursor moves over a prefix in listing order, as recordResults requires.
 */
export function applyBatchResults(
  checkpoint: SyncCheckpoint,
  batch: PendingBatch,
  results: readonly ResultLike[],
  now: Date | string,
  maxAttempts?: number,
): SyncCheckpoint {
  const byId = new Map<string, ResultLike>();
  for (const result of results) if (result && typeof result.assetId === 'string') byId.set(result.assetId, result);

  // The pass must be the one the batch was planned for; after a reset only the retry list is updated.
  const samePass = !!checkpoint.pass && checkpoint.pass.startedAt === batch.passStartedAt;
  const countedForRetries = new Set<string>();
  let next = checkpoint;
  for (const segment of batch.segments) {
    if (segment.origin !== 'retry' && !samePass) continue;
    const handled: HandledAsset[] = segment.assets.map((asset) => {
      const result = byId.get(asset.id);
      const status = asset.parked ? 'skipped' : (result?.status ?? 'failed');
      const entry: HandledAsset = {
        id: asset.id,
        fileCreatedAt: asset.fileCreatedAt,
        updatedAt: asset.updatedAt,
        origin: segment.origin,
        status,
        reason: asset.parked ? 'parked' : result ? result.reason : MISSING_RESULT_REASON,
        // An asset listed twice in one batch (a retry that the listing also returned) updates its retry entry once.
        parkedSkip: asset.parked === true || countedForRetries.has(asset.id),
      };
      countedForRetries.add(asset.id);
      return entry;
    });
    next = recordResults(next, handled, { now, maxAttempts, listingExhausted: segment.origin === 'listing' && segment.exhausted === true });
  }
  return next;
}

/**
 * The n8n side: loads the state, applies the results unless this was a dry run, clears the batch and
 * saves. Call it from Write Metadata's execute with every result it outputs.
 */
export function recordCheckpointResults(context: Pick<IExecuteFunctions, 'getWorkflowStaticData'>, results: readonly ResultLike[], now: Date = new Date()): CheckpointRecordOutcome {
  const state = loadSyncState(context);
  if (!state.batch) {
    return { recorded: false, note: 'no sync batch to record (Search Assets is not in Sync Batch mode)', checkpoint: state.checkpoint, summary: describeCheckpoint(state.checkpoint) };
  }
  if (results.length > 0 && results.every((r) => r.dryRun === true)) {
    // A dry run writes nothing, so the checkpoint must not move: the real run has to handle these assets.
    return { recorded: false, note: 'dry run: checkpoint not moved', checkpoint: state.checkpoint, summary: describeCheckpoint(state.checkpoint) };
  }
  const checkpoint = applyBatchResults(state.checkpoint, state.batch, results, now);
  saveSyncState(context, { ...state, checkpoint, batch: null });
  return { recorded: true, checkpoint, summary: describeCheckpoint(checkpoint) };
}
