/**
 * What a run works on, in one order, for the command line and the n8n template alike:
 *
 *   1. failed assets to retry (by id; parked ones wait until they change in Immich),
 *   2. assets whose album or tag membership changed (by id; Immich's updatedAt does not show those),
 *   3. the pass's listings from the checkpoint cursor: the assets changed since the last pass (or all
 *      of them on a full pass), then every asset of each person renamed or changed since then.
 *
 * `startRun` decides the pass and discovers the changes Immich's timestamps do not show; `planSteps`
 * streams the work as steps. The command line works on them as they come; Search Assets (Sync Batch
 * mode) takes the next N of them as a batch. Either way the results go back through recorder.ts.
 */
import type { ImmichClient } from '../immich/client';
import type { ImmichAssetSummary } from '../immich/types';
import type { ModuleName } from '../metadata/types';
import { getAlbumMembership, DEFAULT_ALBUM_CACHE_TTL_MS, type AlbumMembershipResult } from './albumCache';
import {
  addChangedAssets,
  compareInstants,
  currentListing,
  finishCurrentSource,
  isParked,
  pendingAssetIds,
  planRun,
  type HandledOrigin,
  type PassSource,
  type RunMode,
  type RunPlan,
  type SyncCheckpoint,
} from './checkpoint';
import { walkListing, type SearchPager } from './listing';
import { inPartition } from './partition';
import type { Partition } from './stateFolder';
import type { MembershipKind, SyncStateStore } from './stateStore';

/** One asset to handle. */
export interface AssetStep {
  kind: 'asset';
  origin: HandledOrigin;
  id: string;
  /** The search item of a listed asset; null for an id (retry, pending) whose details must be fetched. */
  summary: ImmichAssetSummary | null;
  /** From the listing: moves the cursor. */
  fileCreatedAt?: string;
  updatedAt: string | null;
  /** Failed too often and unchanged since: not worked on, but the cursor passes it. */
  parked?: boolean;
  /** Handed out earlier in this run (as a retry or pending id): not worked on twice. */
  repeat?: boolean;
  /** Listed, but another partition's asset: the cursor passes it, nobody here works on it. */
  otherPartition?: boolean;
}

/** The current listing has no more assets: once the steps before it are recorded, the next source starts. */
export interface SourceEndStep {
  kind: 'source-end';
  source: PassSource;
}

export type WorkStep = AssetStep | SourceEndStep;

/** Which changes outside the assets' own updatedAt a run must look for, by the modules it syncs. */
export interface Discovery {
  albums: boolean;
  tags: boolean;
  people: boolean;
}

/** The changes a run must look for beyond updatedAt, by the modules it syncs. */
export function discoveryFor(modules: readonly ModuleName[] | null): Discovery {
  // Without a known module set (the template's first batch) every kind of change is looked for.
  if (modules === null) return { albums: true, tags: true, people: true };
  const set = new Set(modules);
  return { albums: set.has('albums'), tags: set.has('tags'), people: set.has('people') || set.has('faces') };
}

export interface RunStartSettings {
  mode: RunMode;
  /** What the progress is valid for (see SyncCheckpoint.scope); undefined keeps the stored one. */
  scope?: string;
  discover: Discovery;
  fullReconcileEveryDays?: number;
  clockSkewMarginMs?: number;
  albumCacheTtlMs?: number;
  /** False for a dry run: nothing is stored. */
  persist: boolean;
  now: Date;
  /** Only this partition's assets are added as changed (see partition.ts); the whole library by default. */
  partition?: Partition;
  onEvent?: (message: string) => void;
}

export interface RunStart {
  plan: RunPlan;
  /** The checkpoint with the pass to work on and the discovered changes (already stored when persisting). */
  checkpoint: SyncCheckpoint;
  albums: AlbumMembershipResult | null;
  tags: AlbumMembershipResult | null;
}

export type DiscoveryClient = Pick<ImmichClient, 'albumMembership' | 'listAlbums' | 'tagMembership' | 'listPeople'>;

export async function startRun(client: DiscoveryClient, store: SyncStateStore, settings: RunStartSettings): Promise<RunStart> {
  const event = (message: string): void => settings.onEvent?.(message);
  const plan = planRun(await store.loadCheckpoint(), {
    now: settings.now,
    mode: settings.mode,
    fullReconcileEveryDays: settings.fullReconcileEveryDays,
    clockSkewMarginMs: settings.clockSkewMarginMs,
    scope: settings.scope,
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

  const ttl = settings.albumCacheTtlMs ?? DEFAULT_ALBUM_CACHE_TTL_MS;
  const membership = async (kind: MembershipKind, fetch: (listed: Awaited<ReturnType<DiscoveryClient['listAlbums']>> | null) => Promise<AlbumMembershipResult['membership']>, listAlbums?: DiscoveryClient['listAlbums']) => {
    const result = await getAlbumMembership(await store.loadMembershipCache(kind), settings.now, ttl, fetch, { listAlbums });
    event(result.refreshed ? `${kind} membership fetched from Immich` : `${kind} membership from the cache (fetched ${result.cache.fetchedAt})`);
    return result;
  };
  // One GET /albums per run: an album changed within the cache TTL refreshes the album cache at once.
  const albums = settings.discover.albums
    ? await membership('albums', async (listed) => (await client.albumMembership(listed ?? undefined)).byAsset, () => client.listAlbums())
    : null;
  const tags = settings.discover.tags ? await membership('tags', async () => (await client.tagMembership()).byAsset) : null;

  // Another partition's changed assets are that partition's to handle: kept here they would never leave the pass.
  const changedAssetIds = [...(albums?.changedAssetIds ?? []), ...(tags?.changedAssetIds ?? [])].filter((id) => inPartition(id, settings.partition));
  // A new full pass lists every asset anyway; any other pass must add them, or they would be missed.
  if (changedAssetIds.length > 0 && (plan.resumed || plan.passKind === 'incremental')) {
    checkpoint = addChangedAssets(checkpoint, { assetIds: changedAssetIds });
    event(`${changedAssetIds.length} assets changed album or tag membership`);
  }
  if (plan.discoverChangesSince && settings.discover.people) {
    const since = plan.discoverChangesSince;
    const changed = (await client.listPeople()).filter((p) => p.updatedAt && compareInstants(p.updatedAt, since) >= 0).map((p) => p.id);
    if (changed.length > 0) {
      checkpoint = addChangedAssets(checkpoint, { personIds: changed });
      event(`${changed.length} people changed: their assets are checked too`);
    }
  }
  // The checkpoint (with the changes found) is stored before the new membership baseline, or a kill in
  // between would lose the diff.
  if (settings.persist) {
    await store.saveCheckpoint(checkpoint);
    if (albums?.refreshed) await store.saveMembershipCache('albums', albums.cache);
    if (tags?.refreshed) await store.saveMembershipCache('tags', tags.cache);
  }
  return { plan, checkpoint, albums, tags };
}

export interface PlanStepsOptions {
  pageSize: number;
  /** Asset steps to hand out at most; a listing end right behind the last one is still included. */
  maxAssets?: number;
  /** Work only on this partition's assets; the others' are passed over (they do not count against maxAssets). */
  partition?: Partition;
}

/** The run's work in order (see the module comment). Stop consuming at any point; nothing is lost. */
export async function* planSteps(client: SearchPager, start: Pick<RunStart, 'plan' | 'checkpoint'>, options: PlanStepsOptions): AsyncGenerator<WorkStep> {
  const checkpoint = start.checkpoint;
  let budget = options.maxAssets !== undefined && options.maxAssets > 0 ? Math.floor(options.maxAssets) : Infinity;
  // Only ids handed out by id are remembered (bounded by the retry and pending lists), so memory does
  // not grow with the library.
  const handedOut = new Set<string>();
  const byId = (origin: HandledOrigin, id: string): AssetStep => {
    const step: AssetStep = { kind: 'asset', origin, id, summary: null, updatedAt: checkpoint.retries[id]?.updatedAt ?? null };
    if (handedOut.has(id)) step.repeat = true;
    handedOut.add(id);
    return step;
  };

  const ours = (id: string): boolean => inPartition(id, options.partition);
  for (const id of start.plan.retryIds.filter(ours)) {
    if (budget <= 0) return;
    budget -= 1;
    yield byId('retry', id);
  }
  for (const id of pendingAssetIds(checkpoint).filter(ours)) {
    if (budget <= 0) return;
    budget -= 1;
    yield byId('pending', id);
  }

  let scratch = checkpoint;
  for (let listing = currentListing(scratch); listing; listing = currentListing(scratch)) {
    for await (const asset of walkListing(client, listing, options.pageSize)) {
      if (budget <= 0) return; // the asset after the budget is not handed out: the next run lists it again
      const step: AssetStep = { kind: 'asset', origin: 'listing', id: asset.id, summary: asset, fileCreatedAt: asset.fileCreatedAt, updatedAt: asset.updatedAt };
      if (!ours(asset.id)) {
        yield { ...step, summary: null, otherPartition: true };
        continue;
      }
      budget -= 1;
      if (isParked(checkpoint, asset)) step.parked = true;
      if (handedOut.has(asset.id)) step.repeat = true;
      yield step;
    }
    yield { kind: 'source-end', source: listing.source };
    scratch = finishCurrentSource(scratch);
    if (budget <= 0) return;
  }
}

/** Collects the next batch of steps (Search Assets in Sync Batch mode). */
export async function takeSteps(steps: AsyncIterable<WorkStep>): Promise<WorkStep[]> {
  const taken: WorkStep[] = [];
  for await (const step of steps) taken.push(step);
  return taken;
}

/** Steps a worker must actually work on (not parked, not handed out twice, not another partition's). */
export function needsWork(step: WorkStep): step is AssetStep {
  return step.kind === 'asset' && !step.parked && !step.repeat && !step.otherPartition;
}
