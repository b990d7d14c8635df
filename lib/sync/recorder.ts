/**
 * Records what happened to a run's steps (workPlan.ts) into the checkpoint: the one recorder for the
 * command line, which records each finished prefix of its steps as it goes, and for the template,
 * whose Write Metadata records the batch Search Assets handed out.
 *
 * Steps are recorded in the order they were planned, so each listing's cursor only moves over a prefix
 * of what was listed, and a listing counts as finished only once every step before its end is recorded.
 */
import type { AssetWriteResult } from '../files/types';
import { recordResults, type HandledAsset, type HandledOrigin, type PassSource, type SyncCheckpoint } from './checkpoint';
import type { AssetStep, WorkStep } from './workPlan';

export interface StepOutcome {
  status: AssetWriteResult['status'];
  reason?: string;
  /** The asset's updatedAt as fetched while handling it (a retry or pending id has none before). */
  updatedAt?: string | null;
}

/** A step and what became of it; null for an asset step means no result arrived. */
export interface RecordedStep {
  step: WorkStep;
  outcome: StepOutcome | null;
}

export interface RecordStepsOptions {
  now: Date | string;
  maxAttempts?: number;
  /** The failure reason of an asset step without a result. */
  missingReason?: string;
}

export const MISSING_RESULT_REASON =
  'No result reached Immich Write Metadata for this asset (an earlier node failed for it); it will be retried on the next run.';

export function recordSteps(checkpoint: SyncCheckpoint, entries: readonly RecordedStep[], options: RecordStepsOptions): SyncCheckpoint {
  let next = checkpoint;
  let handled: HandledAsset[] = [];
  const flush = (listingExhausted: boolean): void => {
    if (handled.length === 0 && !listingExhausted) return;
    next = recordResults(next, handled, { now: options.now, maxAttempts: options.maxAttempts, listingExhausted });
    handled = [];
  };
  for (const { step, outcome } of entries) {
    if (step.kind === 'source-end') {
      flush(isCurrentSource(next, step.source));
      continue;
    }
    handled.push(handledAsset(step, outcome, options.missingReason ?? MISSING_RESULT_REASON));
  }
  flush(false);
  return next;
}

function handledAsset(step: AssetStep, outcome: StepOutcome | null, missingReason: string): HandledAsset {
  const base = { id: step.id, fileCreatedAt: step.fileCreatedAt, origin: step.origin };
  // Parked and repeated steps were not worked on: their retry entries stay as they are.
  if (step.parked) return { ...base, updatedAt: step.updatedAt, status: 'skipped', reason: 'parked', parkedSkip: true };
  if (step.repeat) return { ...base, updatedAt: step.updatedAt, status: 'skipped', reason: 'handled earlier in this run', parkedSkip: true };
  if (step.otherPartition) return { ...base, updatedAt: step.updatedAt, status: 'skipped', reason: 'another partition', parkedSkip: true };
  if (!outcome) return { ...base, updatedAt: step.updatedAt, status: 'failed', reason: missingReason };
  return { ...base, updatedAt: outcome.updatedAt !== undefined ? outcome.updatedAt : step.updatedAt, status: outcome.status, reason: outcome.reason };
}

function isCurrentSource(checkpoint: SyncCheckpoint, source: PassSource): boolean {
  const current = checkpoint.pass?.sources[0];
  if (!current || current.kind !== source.kind) return false;
  return current.kind === 'updated' || (source.kind === 'person' && current.personId === source.personId);
}

// ---------------------------------------------------------------------------------------------
// A batch handed out by one n8n execution and recorded by the same execution's Write Metadata

export interface WorkBatch {
  /** When Search Assets planned it (ISO). */
  plannedAt: string;
  /** startedAt of the pass the batch belongs to: a batch of another pass only updates the retry list. */
  passStartedAt: string | null;
  /** The steps without their search items (static data keeps only what recording needs). */
  steps: WorkStep[];
}

export function workBatch(checkpoint: SyncCheckpoint, steps: readonly WorkStep[], now: Date): WorkBatch {
  return {
    plannedAt: now.toISOString(),
    passStartedAt: checkpoint.pass?.startedAt ?? null,
    steps: steps.map((step) => (step.kind === 'asset' ? { ...step, summary: null } : step)),
  };
}

export type BatchResult = Pick<AssetWriteResult, 'assetId' | 'status' | 'reason'>;

/** Records a batch with the results that reached Write Metadata (by asset id; missing ones count as failed). */
export function recordBatch(checkpoint: SyncCheckpoint, batch: WorkBatch, results: readonly BatchResult[], options: RecordStepsOptions): SyncCheckpoint {
  const byId = new Map<string, BatchResult>();
  for (const result of results) if (result && typeof result.assetId === 'string') byId.set(result.assetId, result);
  // After a reset (or a scope change) the pass is another one: only the retry list still applies.
  const samePass = !!checkpoint.pass && checkpoint.pass.startedAt === batch.passStartedAt;
  const entries: RecordedStep[] = [];
  for (const step of batch.steps) {
    if (!samePass && (step.kind !== 'asset' || step.origin !== 'retry')) continue;
    const result = step.kind === 'asset' ? byId.get(step.id) : undefined;
    entries.push({ step, outcome: result ? { status: result.status, reason: result.reason } : null });
  }
  return recordSteps(checkpoint, entries, options);
}

/** Accepts what static data holds; anything else (including batches of older versions) gives null. */
export function parseWorkBatch(value: unknown): WorkBatch | null {
  if (!isRecord(value) || typeof value.plannedAt !== 'string' || !Array.isArray(value.steps)) return null;
  const steps: WorkStep[] = [];
  for (const raw of value.steps) {
    const step = parseStep(raw);
    if (!step) return null;
    steps.push(step);
  }
  return { plannedAt: value.plannedAt, passStartedAt: typeof value.passStartedAt === 'string' ? value.passStartedAt : null, steps };
}

const ORIGINS: readonly HandledOrigin[] = ['listing', 'retry', 'pending'];

function parseStep(raw: unknown): WorkStep | null {
  if (!isRecord(raw)) return null;
  if (raw.kind === 'source-end') {
    const source = raw.source;
    if (isRecord(source) && (source.kind === 'updated' || (source.kind === 'person' && typeof source.personId === 'string'))) {
      return { kind: 'source-end', source: source as PassSource };
    }
    return null;
  }
  if (raw.kind !== 'asset' || typeof raw.id !== 'string' || !ORIGINS.includes(raw.origin as HandledOrigin)) return null;
  const step: AssetStep = {
    kind: 'asset',
    origin: raw.origin as HandledOrigin,
    id: raw.id,
    summary: null,
    updatedAt: typeof raw.updatedAt === 'string' ? raw.updatedAt : null,
  };
  if (typeof raw.fileCreatedAt === 'string') step.fileCreatedAt = raw.fileCreatedAt;
  if (raw.parked === true) step.parked = true;
  if (raw.repeat === true) step.repeat = true;
  if (raw.otherPartition === true) step.otherPartition = true;
  return step;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
