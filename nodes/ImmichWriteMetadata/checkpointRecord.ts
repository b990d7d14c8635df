/**
 * After Write Metadata: records what happened to the batch Search Assets handed out (Sync Batch mode)
 * through the sync engine's recorder (lib/sync/recorder.ts), into the state folder the batch was planned
 * from, so the next run (on any worker) resumes behind the handled assets and retries the failed ones.
 *
 * Every asset of the batch counts as handled once this runs: an asset that reached Write Metadata has
 * its result; one that fell out earlier (an upstream node failed for it with Continue On Fail) is
 * recorded as failed, so it goes to the retry list instead of pinning the cursor forever. A run that
 * dies before Write Metadata records nothing, and the next run lists the same assets again.
 */
import type { IExecuteFunctions } from 'n8n-workflow';
import type { AssetWriteResult } from '../../lib/files/types';
import { applyScope, describeCheckpoint, type SyncCheckpoint } from '../../lib/sync/checkpoint';
import { LeaseKeeper, parseLeaseRecord } from '../../lib/sync/lease';
import { recordBatch, type BatchResult } from '../../lib/sync/recorder';
import { FileStateStore } from '../../lib/sync/stateStore';
import { StaticDataStateStore } from '../shared/staticDataStore';

export type ResultLike = BatchResult & Partial<Pick<AssetWriteResult, 'dryRun'>>;

export interface CheckpointRecordOutcome {
  /** False when Search Assets is not in Sync Batch mode (there is nothing to record). */
  hadBatch: boolean;
  /** The state folder recorded into. */
  stateFolder?: string;
  recorded: boolean;
  /** Why nothing was recorded (no batch, dry run, scope changed). */
  note?: string;
  checkpoint: SyncCheckpoint;
  summary: string;
}

/**
 * The lease Search Assets took for the batch in flight, kept alive while the batch is written (call
 * keepAlive() as results come in); null without a batch.
 */
export function batchLeaseKeeper(context: Pick<IExecuteFunctions, 'getWorkflowStaticData'>): LeaseKeeper | null {
  const home = new StaticDataStateStore(context).loadBatchHome();
  const lease = home ? parseLeaseRecord(home.lease) : null;
  return home && lease ? new LeaseKeeper(home.stateFolder, lease) : null;
}

/** Gives up the batch's lease (Write Metadata failed before recording). */
export async function releaseBatchLease(context: Pick<IExecuteFunctions, 'getWorkflowStaticData'>): Promise<void> {
  await batchLeaseKeeper(context)?.release();
}

/**
 * Loads the state, applies the results unless this was a dry run, clears the batch and saves. `scope`
 * is what this run's files were synced for (lib/sync/scope.ts); progress made for another one is dropped
 * and the next run starts a full pass.
 */
export async function recordCheckpointResults(
  context: Pick<IExecuteFunctions, 'getWorkflowStaticData'>,
  results: readonly ResultLike[],
  scope: string | null,
  now: Date = new Date(),
  keeper: LeaseKeeper | null = batchLeaseKeeper(context),
): Promise<CheckpointRecordOutcome> {
  try {
    return await recordUnderLease(context, results, scope, now, keeper);
  } finally {
    // The next run may start as soon as this batch is recorded (or given up).
    await keeper?.release();
  }
}

async function recordUnderLease(
  context: Pick<IExecuteFunctions, 'getWorkflowStaticData'>,
  results: readonly ResultLike[],
  scope: string | null,
  now: Date,
  keeper: LeaseKeeper | null,
): Promise<CheckpointRecordOutcome> {
  const inFlight = new StaticDataStateStore(context);
  const batch = inFlight.loadBatch();
  const home = inFlight.loadBatchHome();
  if (!batch || !home) {
    const none = await inFlight.loadCheckpoint();
    return { hadBatch: false, recorded: false, note: 'no sync batch to record (Search Assets is not in Sync Batch mode)', checkpoint: none, summary: describeCheckpoint(none) };
  }
  const stateFolder = home.stateFolder;
  const store = new FileStateStore(stateFolder);
  const stored = await store.loadCheckpoint();
  const unchanged = (note: string): CheckpointRecordOutcome => ({ hadBatch: true, stateFolder, recorded: false, note, checkpoint: stored, summary: describeCheckpoint(stored) });
  if (results.length > 0 && results.every((r) => r.dryRun === true)) {
    // A dry run writes nothing, so the checkpoint must not move: the real run has to handle these assets.
    return unchanged('dry run: checkpoint not moved');
  }
  if (keeper && !(await keeper.keepAlive())) {
    inFlight.saveBatch(null);
    // The run that took the lease over planned from the same checkpoint and handles these assets itself.
    return unchanged('this run was away longer than its lease lasts and another run took the sync over: its results are not recorded (the files written are correct)');
  }
  const scoped = scope === null ? { checkpoint: stored, scopeChanged: false } : applyScope(stored, scope);
  inFlight.saveBatch(null);
  if (scoped.scopeChanged) {
    await store.saveCheckpoint(scoped.checkpoint);
    return {
      hadBatch: true,
      stateFolder,
      recorded: false,
      note: 'modules, target or path mapping changed since the stored progress: the next run starts over with a full pass',
      checkpoint: scoped.checkpoint,
      summary: describeCheckpoint(scoped.checkpoint),
    };
  }
  const checkpoint = recordBatch(scoped.checkpoint, batch, results, { now });
  await store.saveCheckpoint(checkpoint);
  const taken = batch.steps.filter((step) => step.kind === 'asset').length;
  return { hadBatch: true, stateFolder, recorded: true, checkpoint, summary: `${taken} assets recorded; ${describeCheckpoint(checkpoint)}` };
}
