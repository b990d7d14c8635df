/**
 * One sync run of the command line: the steps of workPlan.ts worked on with bounded concurrency (the next
 * page is fetched while the current one is written), each finished prefix recorded through recorder.ts, so
 * the saved checkpoint never passes an asset whose file work has not finished. A run killed at any point
 * resumes with every asset handled at most once more and none missed. Memory stays bounded: at most two
 * pages and `concurrency` assets are held at a time (plus finished results waiting behind a slow one).
 */
import type { ExifTool } from 'exiftool-vendored';

import type { PathMapping } from '../files/pathMapping';
import type { TargetMode } from '../files/target';
import type { AssetWriteResult } from '../files/types';
import type { ImmichClient } from '../immich/client';
import { ImmichApiError } from '../immich/errors';
import type { ImmichAssetDetails, ImmichAssetSummary, ImmichMembershipMap } from '../immich/types';
import type { ModuleName } from '../metadata/types';
import type { AlbumCache, AlbumMembership } from './albumCache';
import type { PassKind, RunMode, SyncCheckpoint } from './checkpoint';
import { recordSteps, type RecordedStep, type StepOutcome } from './recorder';
import type { SyncStateStore } from './stateStore';
import { syncScope } from './scope';
import { syncAsset, type SyncContext } from './syncAsset';
import { discoveryFor, planSteps, startRun, type AssetStep, type WorkStep } from './workPlan';

export interface RunSyncSettings {
  mode: RunMode;
  /** Decides what must be fetched (membership maps, per-asset details); the plan itself uses buildOptions. */
  modules: readonly ModuleName[];
  buildOptions?: SyncContext['buildOptions'];
  libraryPath: string;
  mapping: PathMapping;
  target: TargetMode;
  dryRun: boolean;
  /** Assets synced in parallel (Immich requests of one overlap the file work of others). */
  concurrency?: number;
  /** Upper bound of assets handled in this run (a pass may span several runs). */
  maxAssets?: number;
  pageSize?: number;
  fullReconcileEveryDays?: number;
  maxAttempts?: number;
  albumCacheTtlMs?: number;
  clockSkewMarginMs?: number;
  now?: () => Date;
}

export interface RunSyncOptions {
  client: ImmichClient;
  exiftool: ExifTool;
  store: SyncStateStore;
  settings: RunSyncSettings;
  /** Called once per handled asset, as soon as it finishes. */
  onResult?: (result: AssetWriteResult, asset: { id: string; originalPath: string | null }) => void;
  /** Lifecycle notes for a log (which pass, what was discovered). */
  onEvent?: (message: string) => void;
  /** Abort stops taking new assets; assets in flight finish and are recorded. */
  signal?: AbortSignal;
}

export interface RunSyncSummary {
  written: number;
  unchanged: number;
  skipped: number;
  failed: number;
  passKind: PassKind;
  resumed: boolean;
  reconcileDue: boolean;
  /** True when the pass finished in this run (the next incremental run lists only later changes). */
  passCompleted: boolean;
  interrupted: boolean;
  /** Assets the listings handed to this run, and assets taken by id (retries, membership changes). */
  listed: number;
  byId: number;
  /** Assets recorded in the checkpoint; equal to listed + byId, or the run fails. */
  handled: number;
  checkpoint: SyncCheckpoint;
}

/** Errors that concern the whole run (server gone, key revoked), not one asset: the run stops. */
export class SyncRunError extends Error {
  constructor(
    message: string,
    readonly cause: unknown,
    readonly summary: RunSyncSummary,
  ) {
    super(message);
    this.name = 'SyncRunError';
  }
}

const RUN_STOPPING_KINDS = new Set(['unauthorized', 'forbidden', 'network', 'unreachable', 'timeout', 'rate-limited', 'server']);

export function isRunStoppingError(error: unknown): boolean {
  return error instanceof ImmichApiError && RUN_STOPPING_KINDS.has(error.kind);
}

interface Outcome {
  outcome: StepOutcome;
  result: AssetWriteResult;
  originalPath: string | null;
}

export async function runSync(options: RunSyncOptions): Promise<RunSyncSummary> {
  const { client, store, settings } = options;
  const now = (): Date => settings.now?.() ?? new Date();
  const persist = !settings.dryRun; // a dry run changes no file, so it must not move the checkpoint either
  const modules = new Set(settings.modules);
  const concurrency = Math.max(1, Math.floor(settings.concurrency ?? 4));
  const pageSize = Math.max(1, Math.min(1000, Math.floor(settings.pageSize ?? 250)));

  const start = await startRun(client, store, {
    mode: settings.mode,
    scope: syncScope(settings),
    discover: discoveryFor(settings.modules),
    fullReconcileEveryDays: settings.fullReconcileEveryDays,
    clockSkewMarginMs: settings.clockSkewMarginMs,
    albumCacheTtlMs: settings.albumCacheTtlMs,
    persist,
    now: now(),
    onEvent: options.onEvent,
  });
  let checkpoint = start.checkpoint;
  const serverMajor = (await client.serverVersion()).major;
  const albumMap: ImmichMembershipMap = toMembershipMap('albums', start.albums?.cache ?? null);
  const tagMap = start.tags?.membership ?? null;

  const ctx: SyncContext = {
    exiftool: options.exiftool,
    buildOptions: { ...settings.buildOptions, modules: [...settings.modules] },
    libraryPath: settings.libraryPath,
    mapping: settings.mapping,
    target: settings.target,
    dryRun: settings.dryRun,
  };
  const counts = { written: 0, unchanged: 0, skipped: 0, failed: 0, listed: 0, byId: 0, handled: 0 };
  let stopping = options.signal?.aborted ?? false;
  let fatal: unknown = null;
  const onAbort = (): void => {
    stopping = true;
  };
  options.signal?.addEventListener('abort', onAbort);

  // ---- recording in plan order, saving coalesced ----
  const queue: Array<{ entry: RecordedStep; done: boolean; abandoned: boolean }> = [];
  let saving: Promise<void> | null = null;
  let dirty = false;
  const scheduleSave = (): void => {
    if (!persist) return;
    dirty = true;
    if (saving) return;
    saving = (async () => {
      while (dirty) {
        dirty = false;
        await store.saveCheckpoint(checkpoint);
      }
    })()
      .catch((error: unknown) => {
        // The state cannot be stored (disk full, permissions): going on would redo everything next time.
        stopping = true;
        fatal ??= error;
      })
      .finally(() => {
        saving = null;
      });
  };
  const flush = (): void => {
    const batch: RecordedStep[] = [];
    while (queue.length > 0 && (queue[0].done || queue[0].abandoned)) {
      const slot = queue.shift()!;
      // An abandoned slot (the run is stopping) blocks everything after it: it is handled next run.
      if (slot.abandoned) {
        queue.length = 0;
        break;
      }
      batch.push(slot.entry);
      if (slot.entry.step.kind === 'asset') counts.handled += 1;
    }
    if (batch.length === 0) return;
    checkpoint = recordSteps(checkpoint, batch, { now: now(), maxAttempts: settings.maxAttempts });
    scheduleSave();
  };

  const inflight = new Set<Promise<void>>();
  // Finished assets wait in the queue behind a slow one (a big video) until it is done; bounding the
  // queue bounds both memory and the work a kill at that moment would make the next run redo.
  const maxQueued = concurrency * 16;
  const dispatch = async (step: WorkStep): Promise<void> => {
    while (inflight.size >= concurrency || (queue.length >= maxQueued && inflight.size > 0)) await Promise.race(inflight);
    const slot = { entry: { step, outcome: null } as RecordedStep, done: false, abandoned: false };
    queue.push(slot);
    if (step.kind === 'asset') {
      if (step.origin === 'listing') counts.listed += 1;
      else counts.byId += 1;
    }
    if (step.kind !== 'asset' || step.repeat || step.otherPartition) {
      slot.done = true; // a listing end, an asset this run already works on by id, or another partition's
      flush();
      return;
    }
    const task = handleAsset(step)
      .then((outcome) => {
        slot.entry = { step, outcome: outcome.outcome };
        slot.done = true;
        counts[outcome.result.status] += 1;
        options.onResult?.(outcome.result, { id: step.id, originalPath: outcome.originalPath });
      })
      .catch((error: unknown) => {
        slot.abandoned = true;
        stopping = true;
        fatal ??= error;
      })
      .finally(() => {
        inflight.delete(task);
        flush();
      });
    inflight.add(task);
  };
  const drain = async (): Promise<void> => {
    while (inflight.size > 0) await Promise.race(inflight);
    flush();
  };

  const handleAsset = async (step: AssetStep): Promise<Outcome> => {
    const summary = step.summary;
    const plain = (status: AssetWriteResult['status'], reason: string): Outcome => ({
      outcome: { status, reason },
      result: { assetId: step.id, file: null, status, reason, changes: [], dryRun: settings.dryRun },
      originalPath: summary?.originalPath ?? null,
    });

    if (step.parked) {
      const entry = checkpoint.retries[step.id];
      return plain(
        'skipped',
        `Asset ${step.id}: parked after ${entry?.attempts ?? 'several'} failed attempts (last error: ${entry?.lastError ?? 'unknown'}); it is tried again when it changes in Immich, or after --clear-checkpoint.`,
      );
    }

    let details: ImmichAssetDetails;
    try {
      details = needsDetails(summary)
        ? await client.getAssetDetails(step.id, { albums: albumMap })
        : fromSummary(summary!, modules.has('faces') ? await client.getAssetFaces(summary!) : []);
    } catch (error) {
      if (isRunStoppingError(error)) throw error;
      if (error instanceof ImmichApiError && error.kind === 'not-found') {
        return plain('skipped', `Asset ${step.id} is no longer in Immich (deleted or trashed).`);
      }
      return plain('failed', `Asset ${step.id}: could not read it from Immich: ${messageOf(error)}`);
    }
    if (details.isTrashed) {
      // Fetched by id (a retry or a membership change): the listing would not have shown it.
      return plain('skipped', `Asset ${step.id} is in Immich's trash; it is synced again if restored.`);
    }
    let result: AssetWriteResult;
    try {
      result = await syncAsset(details, ctx);
    } catch (error) {
      result = { assetId: step.id, file: null, status: 'failed', reason: `Asset ${step.id}: ${messageOf(error)}`, changes: [], dryRun: settings.dryRun };
    }
    return { outcome: { status: result.status, reason: result.reason, updatedAt: details.updatedAt }, result, originalPath: details.originalPath };
  };

  // The search item already carries exif, people and isEdited; on v3 only the face regions need their
  // own GET /faces. v1/v2 have no /faces endpoint, so their faces come with the full GET /assets/{id}; an asset
  // edited in Immich takes the full details too, which read its edits to map its face boxes back.
  const needsDetails = (summary: ImmichAssetSummary | null): boolean =>
    !summary || summary.exif === null || summary.people === null || (modules.has('faces') && (serverMajor < 3 || summary.isEdited));

  const fromSummary = (summary: ImmichAssetSummary, faces: ImmichAssetDetails['faces']): ImmichAssetDetails => ({
    ...summary,
    exif: summary.exif!,
    people: summary.people!,
    faces,
    tags: tagMap?.[summary.id] ?? [],
    albums: albumMap.byAsset[summary.id] ?? [],
    serverMajor,
  });

  // ---- the run ----
  try {
    const steps = planSteps(client, start, { pageSize, maxAssets: settings.maxAssets });
    for await (const step of steps) {
      if (stopping) break;
      await dispatch(step);
    }
    await drain();
  } catch (error) {
    // A listing failed: what finished is still recorded.
    stopping = true;
    fatal ??= error;
    await drain();
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    while (saving) await saving;
    if (persist && dirty) await store.saveCheckpoint(checkpoint);
  }

  const taken = counts.listed + counts.byId;
  const interrupted = options.signal?.aborted ?? false;
  if (!fatal && counts.handled !== taken) {
    fatal = new Error(`${taken} assets were taken on but only ${counts.handled} recorded: the checkpoint was kept behind the missing ones.`);
  }
  const summary: RunSyncSummary = {
    written: counts.written,
    unchanged: counts.unchanged,
    skipped: counts.skipped,
    failed: counts.failed,
    listed: counts.listed,
    byId: counts.byId,
    handled: counts.handled,
    passKind: start.plan.passKind,
    resumed: start.plan.resumed,
    reconcileDue: start.plan.reconcileDue,
    passCompleted: checkpoint.pass === null && !fatal,
    interrupted,
    checkpoint,
  };
  if (fatal) throw new SyncRunError(`The run stopped: ${messageOf(fatal)}`, fatal, summary);
  return summary;
}

function toMembershipMap(kind: 'albums' | 'tags', cache: AlbumCache | null): ImmichMembershipMap {
  const byAsset: AlbumMembership = cache?.membership ?? {};
  return { kind, builtAt: cache?.fetchedAt ?? new Date(0).toISOString(), sourceCount: 0, byAsset };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
