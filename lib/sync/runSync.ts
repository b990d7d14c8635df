/**
 * One sync run: plan it from the checkpoint, list assets page by page (the next page is fetched while
 * the current one is written), sync each asset with bounded concurrency, and record results in listing
 * order so the saved checkpoint never passes an asset whose file work has not finished. A run killed at
 * any point resumes with every asset handled at most once more and none missed. Memory stays bounded:
 * at most two pages and `concurrency` assets are held at a time.
 */
import type { ExifTool } from 'exiftool-vendored';

import type { PathMapping } from '../files/pathMapping';
import type { TargetMode } from '../files/target';
import type { AssetWriteResult } from '../files/types';
import type { ImmichClient } from '../immich/client';
import { ImmichApiError } from '../immich/errors';
import type { ImmichAssetDetails, ImmichAssetSummary, ImmichMembershipMap } from '../immich/types';
import type { ModuleName } from '../metadata/types';
import { AlbumCache, AlbumMembership, DEFAULT_ALBUM_CACHE_TTL_MS, getAlbumMembership } from './albumCache';
import {
  addChangedAssets,
  compareInstants,
  currentListing,
  HandledAsset,
  HandledOrigin,
  isParked,
  ListingRequest,
  PassKind,
  pendingAssetIds,
  planRun,
  recordResults,
  RunMode,
  SyncCheckpoint,
} from './checkpoint';
import type { MembershipKind, SyncStateStore } from './stateStore';
import { syncAsset, type SyncContext } from './syncAsset';

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

interface WorkItem {
  origin: HandledOrigin;
  id: string;
  summary: ImmichAssetSummary | null;
}

interface Outcome {
  handled: HandledAsset;
  result: AssetWriteResult;
  originalPath: string | null;
}

export async function runSync(options: RunSyncOptions): Promise<RunSyncSummary> {
  const { client, store, settings } = options;
  const now = (): Date => settings.now?.() ?? new Date();
  const persist = !settings.dryRun; // a dry run changes no file, so it must not move the checkpoint either
  const event = (message: string): void => options.onEvent?.(message);
  const modules = new Set(settings.modules);
  const concurrency = Math.max(1, Math.floor(settings.concurrency ?? 4));
  const pageSize = Math.max(1, Math.min(1000, Math.floor(settings.pageSize ?? 250)));
  let budget = settings.maxAssets && settings.maxAssets > 0 ? Math.floor(settings.maxAssets) : Infinity;

  const plan = planRun(await store.loadCheckpoint(), {
    now: now(),
    mode: settings.mode,
    fullReconcileEveryDays: settings.fullReconcileEveryDays,
    clockSkewMarginMs: settings.clockSkewMarginMs,
    scope: syncScope(settings),
  });
  let checkpoint = plan.checkpoint;
  if (plan.scopeChanged) event('modules, target or path mapping differ from the stored progress: starting over with a full pass');
  event(
    plan.resumed
      ? `resuming the ${plan.passKind} pass started ${checkpoint.pass?.startedAt}`
      : plan.passKind === 'full'
        ? `starting a full pass${plan.reconcileDue ? ' (periodic full reconcile is due)' : ''}`
        : `starting an incremental pass: assets changed since ${checkpoint.pass?.updatedAfter}`,
  );

  const serverMajor = (await client.serverVersion()).major;
  // One GET /albums per run: an album changed within the cache TTL refreshes the album cache at once.
  const albums = modules.has('albums') ? await membership('albums', (listed) => client.albumMembership(listed ?? undefined), () => client.listAlbums()) : null;
  const tags = modules.has('tags') ? await membership('tags', () => client.tagMembership()) : null;
  const changedAssetIds = [...(albums?.changedAssetIds ?? []), ...(tags?.changedAssetIds ?? [])];
  // A new full pass lists every asset anyway; any other pass must add them, or they would be missed.
  if (changedAssetIds.length > 0 && (plan.resumed || plan.passKind === 'incremental')) {
    checkpoint = addChangedAssets(checkpoint, { assetIds: changedAssetIds });
    event(`${changedAssetIds.length} assets changed album or tag membership`);
  }
  if (plan.discoverChangesSince && (modules.has('people') || modules.has('faces'))) {
    const since = plan.discoverChangesSince;
    const people = await client.listPeople();
    const changed = people.filter((p) => p.updatedAt && compareInstants(p.updatedAt, since) >= 0).map((p) => p.id);
    if (changed.length > 0) {
      checkpoint = addChangedAssets(checkpoint, { personIds: changed });
      event(`${changed.length} people changed: their assets are checked too`);
    }
  }
  // The checkpoint (with the changes found) must be stored before the new membership baseline,
  // or a kill in between would lose the diff.
  if (persist) {
    await store.saveCheckpoint(checkpoint);
    if (albums?.refreshed) await store.saveMembershipCache('albums', albums.cache);
    if (tags?.refreshed) await store.saveMembershipCache('tags', tags.cache);
  }
  const albumMap: ImmichMembershipMap = toMembershipMap('albums', albums?.cache ?? null);
  const tagMap = tags?.membership ?? null;

  const ctx: SyncContext = {
    exiftool: options.exiftool,
    buildOptions: { ...settings.buildOptions, modules: [...settings.modules] },
    libraryPath: settings.libraryPath,
    mapping: settings.mapping,
    target: settings.target,
    dryRun: settings.dryRun,
  };
  const counts = { written: 0, unchanged: 0, skipped: 0, failed: 0 };
  let stopping = options.signal?.aborted ?? false;
  let fatal: unknown = null;
  const onAbort = (): void => {
    stopping = true;
  };
  options.signal?.addEventListener('abort', onAbort);

  // ---- recording in listing order, saving coalesced ----
  const queue: Array<{ outcome: Outcome | null; abandoned: boolean }> = [];
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
    const batch: HandledAsset[] = [];
    while (queue.length > 0 && (queue[0].outcome || queue[0].abandoned)) {
      const slot = queue.shift()!;
      // An abandoned slot (the run is stopping) blocks everything after it: it is handled next run.
      if (slot.abandoned) {
        queue.length = 0;
        break;
      }
      batch.push(slot.outcome!.handled);
    }
    if (batch.length === 0) return;
    checkpoint = recordResults(checkpoint, batch, { now: now(), maxAttempts: settings.maxAttempts });
    scheduleSave();
  };

  const inflight = new Set<Promise<void>>();
  // Only retried ids are remembered (bounded by the retry list), so memory does not grow with the library.
  const retriedThisRun = new Set<string>();
  // Finished assets wait in the queue behind a slow one (a big video) until it is done; bounding the
  // queue bounds both memory and the work a kill at that moment would make the next run redo.
  const maxQueued = concurrency * 16;
  const dispatch = async (item: WorkItem): Promise<void> => {
    while (inflight.size >= concurrency || (queue.length >= maxQueued && inflight.size > 0)) await Promise.race(inflight);
    const slot: { outcome: Outcome | null; abandoned: boolean } = { outcome: null, abandoned: false };
    queue.push(slot);
    const task = handleAsset(item)
      .then((outcome) => {
        slot.outcome = outcome;
        if (item.origin === 'retry') retriedThisRun.add(item.id);
        counts[outcome.result.status] += 1;
        options.onResult?.(outcome.result, { id: item.id, originalPath: outcome.originalPath });
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

  const handleAsset = async (item: WorkItem): Promise<Outcome> => {
    const summary = item.summary;
    const handled = (status: AssetWriteResult['status'], reason?: string, extra: Partial<HandledAsset> = {}): HandledAsset => ({
      id: item.id,
      fileCreatedAt: summary?.fileCreatedAt,
      updatedAt: summary?.updatedAt ?? null,
      origin: item.origin,
      status,
      reason,
      ...extra,
    });
    const plain = (status: AssetWriteResult['status'], reason: string, extra: Partial<HandledAsset> = {}): Outcome => ({
      handled: handled(status, reason, extra),
      result: { assetId: item.id, file: null, status, reason, changes: [], dryRun: settings.dryRun },
      originalPath: summary?.originalPath ?? null,
    });

    if (summary && isParked(checkpoint, summary)) {
      const entry = checkpoint.retries[item.id];
      return plain(
        'skipped',
        `Asset ${item.id}: parked after ${entry.attempts} failed attempts (last error: ${entry.lastError}); it is tried again when it changes in Immich, or after --clear-checkpoint.`,
        { parkedSkip: true },
      );
    }

    let details: ImmichAssetDetails;
    try {
      details = needsDetails(summary)
        ? await client.getAssetDetails(item.id, { albums: albumMap })
        : fromSummary(summary!, modules.has('faces') ? await client.getAssetFaces(summary!) : []);
    } catch (error) {
      if (isRunStoppingError(error)) throw error;
      if (error instanceof ImmichApiError && error.kind === 'not-found') {
        return plain('skipped', `Asset ${item.id} is no longer in Immich (deleted or trashed).`);
      }
      return plain('failed', `Asset ${item.id}: could not read it from Immich: ${messageOf(error)}`);
    }
    if (details.isTrashed) {
      // Fetched by id (a retry or a membership change): the listing would not have shown it.
      return plain('skipped', `Asset ${item.id} is in Immich's trash; it is synced again if restored.`);
    }
    let result: AssetWriteResult;
    try {
      result = await syncAsset(details, ctx);
    } catch (error) {
      result = { assetId: item.id, file: null, status: 'failed', reason: `Asset ${item.id}: ${messageOf(error)}`, changes: [], dryRun: settings.dryRun };
    }
    return {
      // The cursor follows the listing's fileCreatedAt, even if the asset changed since it was listed.
      handled: { ...handled(result.status, result.reason), fileCreatedAt: summary?.fileCreatedAt ?? details.fileCreatedAt, updatedAt: details.updatedAt },
      result,
      originalPath: details.originalPath,
    };
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
  let passDone = false;
  try {
    for (const id of plan.retryIds) {
      if (stopping || budget <= 0) break;
      budget -= 1;
      await dispatch({ origin: 'retry', id, summary: null });
    }
    await drain();

    while (!stopping && checkpoint.pass) {
      const listing = currentListing(checkpoint);
      if (!listing) break;
      let exhausted = true;
      for await (const asset of listSource(client, listing, pageSize)) {
        if (stopping || budget <= 0) {
          exhausted = false;
          break;
        }
        if (retriedThisRun.has(asset.id)) continue; // retried earlier in this run
        budget -= 1;
        await dispatch({ origin: 'listing', id: asset.id, summary: asset });
      }
      await drain();
      if (!exhausted || stopping) break;
      checkpoint = recordResults(checkpoint, [], { now: now(), listingExhausted: true });
      scheduleSave();
    }

    for (const id of pendingAssetIds(checkpoint)) {
      if (stopping || budget <= 0) break;
      budget -= 1;
      await dispatch({ origin: 'pending', id, summary: null });
    }
    await drain();
    passDone = checkpoint.pass === null;
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

  const summary: RunSyncSummary = {
    ...counts,
    passKind: plan.passKind,
    resumed: plan.resumed,
    reconcileDue: plan.reconcileDue,
    passCompleted: passDone && !fatal,
    interrupted: options.signal?.aborted ?? false,
    checkpoint,
  };
  if (fatal) throw new SyncRunError(`The run stopped: ${messageOf(fatal)}`, fatal, summary);
  return summary;

  async function membership(kind: MembershipKind, fetch: (listed: ListedAlbum[] | null) => Promise<ImmichMembershipMap>, listAlbums?: () => Promise<ListedAlbum[]>) {
    const cached = await store.loadMembershipCache(kind);
    const result = await getAlbumMembership(cached, now(), settings.albumCacheTtlMs ?? DEFAULT_ALBUM_CACHE_TTL_MS, async (listed) => (await fetch(listed)).byAsset, {
      listAlbums,
    });
    event(result.refreshed ? `${kind} membership fetched from Immich` : `${kind} membership from the cache (fetched ${result.cache.fetchedAt})`);
    return result;
  }
}

/**
 * What a checkpoint's progress is valid for: the same modules and options, written to the same files.
 * Concurrency, page size, dry run and limits do not change what a synced file contains.
 */
export function syncScope(settings: Pick<RunSyncSettings, 'modules' | 'buildOptions' | 'libraryPath' | 'mapping' | 'target'>): string {
  const options = { ...(settings.buildOptions ?? {}) } as Record<string, unknown>;
  delete options.modules;
  return JSON.stringify({
    modules: [...new Set(settings.modules)].sort(),
    options: sortKeys(options),
    library: settings.libraryPath,
    mapping: sortKeys(settings.mapping as unknown as Record<string, unknown>),
    target: settings.target,
  });
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    out[key] = v && typeof v === 'object' && !Array.isArray(v) ? sortKeys(v as Record<string, unknown>) : v;
  }
  return out;
}

type ListedAlbum = Awaited<ReturnType<ImmichClient['listAlbums']>>[number];

function toMembershipMap(kind: 'albums' | 'tags', cache: AlbumCache | null): ImmichMembershipMap {
  const byAsset: AlbumMembership = cache?.membership ?? {};
  return { kind, builtAt: cache?.fetchedAt ?? new Date(0).toISOString(), sourceCount: 0, byAsset };
}

/**
 * Walks one listing of a pass with keyset paging: each page is a fresh search from the last listed
 * instant (skipping the ids already seen there), so assets added or deleted while the run goes on
 * cannot shift the pages. Only when a whole page shares one instant does it page on with the same
 * filters. The next page is requested before the current one is handed out.
 */
export async function* listSource(client: ImmichClient, listing: ListingRequest, pageSize: number): AsyncGenerator<ImmichAssetSummary> {
  let takenAfter = listing.filters.takenAfter;
  let seenAtInstant = new Set(listing.skipIds);
  const open = (after: string | undefined): AsyncGenerator<ImmichAssetSummary[]> =>
    client.searchAssets({ ...listing.filters, ...(after ? { takenAfter: after } : {}), withExif: true, withPeople: true }, pageSize);
  let pages = open(takenAfter);
  let firstPageOfSearch = true;
  let next: Promise<IteratorResult<ImmichAssetSummary[]>> | null = pages.next();
  next.catch(() => undefined); // awaited below; this only keeps an early exit from leaving it unhandled
  try {
    while (next) {
      const page = await next;
      next = null;
      if (page.done) return;
      const items = page.value;
      const fresh = items.filter((a) => !seenAtInstant.has(a.id));
      const last = items[items.length - 1];
      if (last && (takenAfter === undefined || compareInstants(last.fileCreatedAt, takenAfter) > 0)) {
        const lastPageOfListing = firstPageOfSearch && items.length < pageSize;
        takenAfter = last.fileCreatedAt;
        seenAtInstant = new Set(items.filter((a) => compareInstants(a.fileCreatedAt, last.fileCreatedAt) === 0).map((a) => a.id));
        await pages.return(undefined);
        if (!lastPageOfListing) {
          pages = open(takenAfter);
          firstPageOfSearch = true;
          next = pages.next();
        }
      } else {
        // A whole page at one instant: page on within the same search.
        for (const a of items) seenAtInstant.add(a.id);
        firstPageOfSearch = false;
        next = pages.next();
      }
      next?.catch(() => undefined);
      for (const asset of fresh) yield asset;
    }
  } finally {
    await pages.return(undefined).catch(() => undefined);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
