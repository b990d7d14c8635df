/**
 * Where a sync stands between runs, as plain JSON (a file for the command line, workflow static data
 * for n8n). Every function here is pure: it takes a checkpoint and returns a new one.
 *
 * A *pass* walks a listing of assets ordered by fileCreatedAt ascending. A full pass lists everything;
 * an incremental pass lists what changed since the start of the last completed pass (`updatedAfter`),
 * plus the assets of people renamed since then and of albums whose membership changed, because Immich
 * does not bump an asset's updatedAt for changes stored in other tables.
 *
 * Inside a pass the position is a keyset cursor (the last handled fileCreatedAt and the ids handled at
 * exactly that instant), never an offset: assets inserted or deleted between runs cannot shift it, and a
 * resumed listing asks for `takenAfter = cursor` (Immich compares >=) and skips those ids. A pass may
 * span many runs; when it ends, the next one starts from this pass's start time, so changes made while
 * the pass ran are caught next time. The cursor only moves over assets that were handled (written,
 * unchanged, skipped, or failed and put on the retry list), so a killed run loses nothing.
 */

export const CHECKPOINT_VERSION = 1;

export interface SyncCheckpoint {
  version: typeof CHECKPOINT_VERSION;
  /** The pass in progress, or null between passes. */
  pass: SyncPass | null;
  /** Start of the last completed pass (full or incremental): the next incremental pass lists changes since then. */
  lastPassStartedAt: string | null;
  /** Start of the last completed full pass: a full reconcile is due some days after it. */
  lastFullPassStartedAt: string | null;
  /** Failed assets by id, retried on later runs; parked after too many attempts. */
  retries: Record<string, RetryEntry>;
  /**
   * What the progress was made for (modules, target, mapping...). A run with another scope cannot
   * build on it: an asset synced for ratings has not had its albums written yet.
   */
  scope?: string | null;
}

export type PassKind = 'full' | 'incremental';

/** One listing inside a pass: the assets changed since a time, or every asset of one person. */
export type PassSource = { kind: 'updated' } | { kind: 'person'; personId: string };

export interface PassCursor {
  /** fileCreatedAt of the last handled asset of the current source, exactly as Immich sent it. */
  fileCreatedAt: string;
  /** Ids handled at exactly that instant (ties), skipped when the listing resumes at the cursor. */
  idsAtCursor: string[];
}

export interface SyncPass {
  kind: PassKind;
  /** When this pass started (ISO): it becomes the next incremental pass's `updatedAfter`. */
  startedAt: string;
  /** null for a full pass. */
  updatedAfter: string | null;
  /** Listings still to walk; the first one is the current one. */
  sources: PassSource[];
  /** Position inside the current source (null = from its beginning). */
  cursor: PassCursor | null;
  /** Assets to handle by id (e.g. whose album membership changed), removed as they are handled. */
  pendingIds: string[];
  /** How many assets this pass handled so far (for progress and reports). */
  handled: number;
}

export interface RetryEntry {
  attempts: number;
  lastError: string;
  /** The asset's updatedAt when it last failed: a parked asset is tried again once this changes. */
  updatedAt: string | null;
  parked: boolean;
  lastFailedAt: string;
}

export const DEFAULT_FULL_RECONCILE_EVERY_DAYS = 7;
export const DEFAULT_MAX_ATTEMPTS = 3;
/**
 * The pass start comes from our clock while Immich stamps updatedAt with its own; starting the next
 * incremental listing a little earlier means clock skew can only cause a re-check (a smart skip), never
 * a missed change.
 */
export const DEFAULT_CLOCK_SKEW_MARGIN_MS = 10 * 60 * 1000;

export function emptyCheckpoint(): SyncCheckpoint {
  return { version: CHECKPOINT_VERSION, pass: null, lastPassStartedAt: null, lastFullPassStartedAt: null, retries: {}, scope: null };
}

/** `--clear-checkpoint`: forget the position and the retry list; the next run starts a full pass. */
export function clearCheckpoint(): SyncCheckpoint {
  return emptyCheckpoint();
}

/**
 * Accepts whatever was stored (a file, n8n static data) and returns a valid checkpoint. Anything
 * unreadable or from another version gives an empty checkpoint, which only costs a full pass.
 */
export function parseCheckpoint(value: unknown): SyncCheckpoint {
  const raw = typeof value === 'string' ? safeJsonParse(value) : value;
  if (!isRecord(raw) || raw.version !== CHECKPOINT_VERSION) return emptyCheckpoint();
  const cp = emptyCheckpoint();
  cp.lastPassStartedAt = isInstant(raw.lastPassStartedAt) ? raw.lastPassStartedAt : null;
  cp.lastFullPassStartedAt = isInstant(raw.lastFullPassStartedAt) ? raw.lastFullPassStartedAt : null;
  cp.scope = typeof raw.scope === 'string' ? raw.scope : null;
  if (isRecord(raw.retries)) {
    for (const [id, entry] of Object.entries(raw.retries)) {
      if (!isRecord(entry) || typeof entry.attempts !== 'number') continue;
      cp.retries[id] = {
        attempts: entry.attempts,
        lastError: typeof entry.lastError === 'string' ? entry.lastError : '',
        updatedAt: typeof entry.updatedAt === 'string' ? entry.updatedAt : null,
        parked: entry.parked === true,
        lastFailedAt: typeof entry.lastFailedAt === 'string' ? entry.lastFailedAt : '',
      };
    }
  }
  cp.pass = parsePass(raw.pass);
  return cp;
}

function parsePass(value: unknown): SyncPass | null {
  if (!isRecord(value)) return null;
  if ((value.kind !== 'full' && value.kind !== 'incremental') || !isInstant(value.startedAt)) return null;
  const sources = Array.isArray(value.sources) ? value.sources.filter(isPassSource) : [];
  const cursor = isRecord(value.cursor) && isInstant(value.cursor.fileCreatedAt)
    ? { fileCreatedAt: value.cursor.fileCreatedAt, idsAtCursor: stringArray(value.cursor.idsAtCursor) }
    : null;
  return {
    kind: value.kind,
    startedAt: value.startedAt,
    updatedAfter: isInstant(value.updatedAfter) ? value.updatedAfter : null,
    sources,
    cursor,
    pendingIds: stringArray(value.pendingIds),
    handled: typeof value.handled === 'number' ? value.handled : 0,
  };
}

// ---------------------------------------------------------------------------------------------
// Planning a run

export type RunMode =
  /** Start a new full pass (the seed's default run), dropping an unfinished one. */
  | 'full'
  /** Continue an unfinished pass; without one, start a full pass (`--resume`). */
  | 'resume'
  /** Continue an unfinished pass; without one, list only what changed since the last pass (`--only-new`). */
  | 'incremental';

export interface PlanOptions {
  now: Date | string;
  mode: RunMode;
  /** An incremental run becomes a full pass when the last full one is older than this; 0 = never. */
  fullReconcileEveryDays?: number;
  clockSkewMarginMs?: number;
  /** See SyncCheckpoint.scope: when it differs from the stored one, the run starts afresh. */
  scope?: string;
}

export interface RunPlan {
  /** The checkpoint with the pass to work on (continued or newly started). */
  checkpoint: SyncCheckpoint;
  passKind: PassKind;
  /** True when this run continues a pass an earlier run started. */
  resumed: boolean;
  /** True when an incremental run was turned into a full pass because the reconcile interval passed. */
  reconcileDue: boolean;
  /** Failed assets to try again first, fetched by id (parked ones are not included). */
  retryIds: string[];
  /** True when the stored progress was made for another scope and was dropped. */
  scopeChanged: boolean;
  /**
   * Set when a new incremental pass started: people updated at or after this instant and albums whose
   * membership changed should be added with `addChangedAssets` before listing.
   */
  discoverChangesSince: string | null;
}

export function planRun(stored: SyncCheckpoint, options: PlanOptions): RunPlan {
  const now = toIso(options.now);
  const { checkpoint, scopeChanged } = options.scope === undefined ? { checkpoint: stored, scopeChanged: false } : applyScope(stored, options.scope);
  const retryIds = Object.entries(checkpoint.retries)
    .filter(([, entry]) => !entry.parked)
    .map(([id]) => id);

  if (checkpoint.pass && options.mode !== 'full') {
    return { checkpoint, passKind: checkpoint.pass.kind, resumed: true, reconcileDue: false, retryIds, scopeChanged, discoverChangesSince: null };
  }

  const reconcileDue = options.mode === 'incremental' && isReconcileDue(checkpoint, now, options.fullReconcileEveryDays ?? DEFAULT_FULL_RECONCILE_EVERY_DAYS);
  const incremental = options.mode === 'incremental' && checkpoint.lastPassStartedAt !== null && !reconcileDue;
  const margin = options.clockSkewMarginMs ?? DEFAULT_CLOCK_SKEW_MARGIN_MS;
  const updatedAfter = incremental ? new Date(Date.parse(checkpoint.lastPassStartedAt as string) - margin).toISOString() : null;
  const pass: SyncPass = {
    kind: incremental ? 'incremental' : 'full',
    startedAt: now,
    updatedAfter,
    sources: [{ kind: 'updated' }],
    cursor: null,
    pendingIds: [],
    handled: 0,
  };
  return {
    checkpoint: { ...checkpoint, pass },
    passKind: pass.kind,
    resumed: false,
    reconcileDue,
    retryIds,
    scopeChanged,
    discoverChangesSince: updatedAfter,
  };
}

/**
 * Progress made for another scope is dropped (the next pass is a full one); a checkpoint that does not
 * know its scope yet (the template learns it when Write Metadata records the first batch) adopts it.
 */
function hasProgress(checkpoint: SyncCheckpoint): boolean {
  return checkpoint.pass !== null || checkpoint.lastPassStartedAt !== null || Object.keys(checkpoint.retries).length > 0;
}

export function applyScope(checkpoint: SyncCheckpoint, scope: string): { checkpoint: SyncCheckpoint; scopeChanged: boolean } {
  if (checkpoint.scope === scope) return { checkpoint, scopeChanged: false };
  const unknown = checkpoint.scope === null || checkpoint.scope === undefined;
  if (unknown || !hasProgress(checkpoint)) return { checkpoint: { ...checkpoint, scope }, scopeChanged: false };
  return { checkpoint: { ...emptyCheckpoint(), scope }, scopeChanged: true };
}

function isReconcileDue(checkpoint: SyncCheckpoint, now: string, everyDays: number): boolean {
  if (!(everyDays > 0)) return false;
  if (!checkpoint.lastFullPassStartedAt) return true;
  return Date.parse(now) - Date.parse(checkpoint.lastFullPassStartedAt) >= everyDays * 24 * 3600 * 1000;
}

/**
 * Adds to the current pass what Immich's updatedAt does not reveal: every asset of the given people
 * (renamed, hidden, merged) and the given asset ids (album membership changed). Duplicates are harmless:
 * an asset handled twice is compared again and left unchanged.
 */
export function addChangedAssets(
  checkpoint: SyncCheckpoint,
  changes: { personIds?: readonly string[]; assetIds?: readonly string[] },
): SyncCheckpoint {
  const pass = checkpoint.pass;
  if (!pass) throw new Error('addChangedAssets needs a pass in progress: call planRun first');
  const known = new Set(pass.sources.filter((s): s is { kind: 'person'; personId: string } => s.kind === 'person').map((s) => s.personId));
  const sources = [...pass.sources];
  for (const personId of changes.personIds ?? []) {
    if (known.has(personId)) continue;
    known.add(personId);
    sources.push({ kind: 'person', personId });
  }
  const pendingIds = unique([...pass.pendingIds, ...(changes.assetIds ?? [])]);
  return { ...checkpoint, pass: { ...pass, sources, pendingIds } };
}

// ---------------------------------------------------------------------------------------------
// What to list

/** The subset of Immich's MetadataSearchDto a pass needs (the caller adds paging and withExif/withPeople). */
export interface PassSearchFilters {
  order: 'asc';
  updatedAfter?: string;
  takenAfter?: string;
  personIds?: string[];
}

export interface ListingRequest {
  source: PassSource;
  filters: PassSearchFilters;
  /** Ids already handled at exactly `filters.takenAfter`: drop them from the results. */
  skipIds: string[];
}

/** The listing to walk now, or null when every source of the pass is exhausted (or there is no pass). */
export function currentListing(checkpoint: SyncCheckpoint): ListingRequest | null {
  const pass = checkpoint.pass;
  if (!pass || pass.sources.length === 0) return null;
  const source = pass.sources[0];
  const filters: PassSearchFilters = { order: 'asc' };
  if (source.kind === 'updated' && pass.updatedAfter) filters.updatedAfter = pass.updatedAfter;
  if (source.kind === 'person') filters.personIds = [source.personId];
  if (pass.cursor) filters.takenAfter = pass.cursor.fileCreatedAt;
  return { source, filters, skipIds: pass.cursor ? [...pass.cursor.idsAtCursor] : [] };
}

/** Asset ids the pass must still handle one by one (after the listings). */
export function pendingAssetIds(checkpoint: SyncCheckpoint): string[] {
  return checkpoint.pass ? [...checkpoint.pass.pendingIds] : [];
}

/** A parked asset is skipped until Immich reports a different updatedAt for it. */
export function isParked(checkpoint: SyncCheckpoint, asset: { id: string; updatedAt: string | null }): boolean {
  const entry = checkpoint.retries[asset.id];
  return !!entry && entry.parked && entry.updatedAt === asset.updatedAt;
}

// ---------------------------------------------------------------------------------------------
// Recording what happened

export type HandledOrigin = 'listing' | 'retry' | 'pending';

export interface HandledAsset {
  id: string;
  /** Required for listing entries (it moves the cursor). */
  fileCreatedAt?: string;
  updatedAt: string | null;
  origin: HandledOrigin;
  status: 'written' | 'unchanged' | 'skipped' | 'failed';
  reason?: string;
  /** True when the asset was skipped only because it is parked: its retry entry stays. */
  parkedSkip?: boolean;
}

export interface RecordOptions {
  now: Date | string;
  maxAttempts?: number;
  /** The current listing has no more assets after the ones recorded: move to the next source. */
  listingExhausted?: boolean;
}

/**
 * Records a batch of handled assets. Listing entries must come in listing order and form a prefix
 * of what is not yet recorded (the run loop holds back results that finished out of order), so the
 * cursor never passes an asset that was not handled. When every source and pending id is done,
 * the pass completes.
 */
export function recordResults(checkpoint: SyncCheckpoint, handled: readonly HandledAsset[], options: RecordOptions): SyncCheckpoint {
  const now = toIso(options.now);
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const retries = { ...checkpoint.retries };
  let pass = checkpoint.pass ? { ...checkpoint.pass, pendingIds: [...checkpoint.pass.pendingIds] } : null;

  for (const asset of handled) {
    updateRetries(retries, asset, now, maxAttempts);
    if (!pass) continue;
    if (asset.origin === 'listing') {
      pass = advanceCursor(pass, asset);
      pass.handled += 1;
    } else if (asset.origin === 'pending') {
      pass.pendingIds = pass.pendingIds.filter((id) => id !== asset.id);
      pass.handled += 1;
    }
  }

  let next: SyncCheckpoint = { ...checkpoint, retries, pass };
  if (options.listingExhausted && pass) next = finishCurrentSource(next);
  return completeIfDone(next);
}

function updateRetries(retries: Record<string, RetryEntry>, asset: HandledAsset, now: string, maxAttempts: number): void {
  if (asset.parkedSkip) return;
  if (asset.status !== 'failed') {
    delete retries[asset.id];
    return;
  }
  const previous = retries[asset.id];
  // A parked asset that changed in Immich gets a fresh set of attempts.
  const attempts = previous && !(previous.parked && previous.updatedAt !== asset.updatedAt) ? previous.attempts + 1 : 1;
  retries[asset.id] = {
    attempts,
    lastError: asset.reason ?? 'failed',
    updatedAt: asset.updatedAt,
    parked: attempts >= maxAttempts,
    lastFailedAt: now,
  };
}

function advanceCursor(pass: SyncPass, asset: HandledAsset): SyncPass {
  if (!asset.fileCreatedAt) throw new Error(`Asset ${asset.id} came from a listing but has no fileCreatedAt: the checkpoint cannot move past it`);
  const cursor = pass.cursor;
  if (!cursor) return { ...pass, cursor: { fileCreatedAt: asset.fileCreatedAt, idsAtCursor: [asset.id] } };
  const order = compareInstants(asset.fileCreatedAt, cursor.fileCreatedAt);
  if (order < 0) {
    throw new Error(
      `Asset ${asset.id} (fileCreatedAt ${asset.fileCreatedAt}) is before the checkpoint cursor ${cursor.fileCreatedAt}: results must be recorded in listing order`,
    );
  }
  if (order === 0) {
    if (cursor.idsAtCursor.includes(asset.id)) return pass;
    return { ...pass, cursor: { fileCreatedAt: cursor.fileCreatedAt, idsAtCursor: [...cursor.idsAtCursor, asset.id] } };
  }
  return { ...pass, cursor: { fileCreatedAt: asset.fileCreatedAt, idsAtCursor: [asset.id] } };
}

/** The current listing is exhausted: walk the next source from its beginning. */
export function finishCurrentSource(checkpoint: SyncCheckpoint): SyncCheckpoint {
  const pass = checkpoint.pass;
  if (!pass) return checkpoint;
  return completeIfDone({ ...checkpoint, pass: { ...pass, sources: pass.sources.slice(1), cursor: null } });
}

function completeIfDone(checkpoint: SyncCheckpoint): SyncCheckpoint {
  const pass = checkpoint.pass;
  if (!pass || pass.sources.length > 0 || pass.pendingIds.length > 0) return checkpoint;
  return {
    ...checkpoint,
    pass: null,
    lastPassStartedAt: pass.startedAt,
    lastFullPassStartedAt: pass.kind === 'full' ? pass.startedAt : checkpoint.lastFullPassStartedAt,
  };
}

/** A short account of the checkpoint for logs and the n8n summary item. */
export function describeCheckpoint(checkpoint: SyncCheckpoint): string {
  const retrying = Object.values(checkpoint.retries).filter((e) => !e.parked).length;
  const parked = Object.values(checkpoint.retries).length - retrying;
  const pass = checkpoint.pass
    ? `${checkpoint.pass.kind} pass started ${checkpoint.pass.startedAt}, ${checkpoint.pass.handled} assets handled` +
      (checkpoint.pass.cursor ? `, at ${checkpoint.pass.cursor.fileCreatedAt}` : '')
    : 'no pass in progress';
  const last = checkpoint.lastPassStartedAt ? `last completed pass started ${checkpoint.lastPassStartedAt}` : 'no completed pass';
  return `${pass}; ${last}; ${retrying} to retry, ${parked} parked`;
}

// ---------------------------------------------------------------------------------------------

/** Compares two ISO instants by time (Immich may send different precisions for the same instant). */
export function compareInstants(a: string, b: string): number {
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (Number.isNaN(ta) || Number.isNaN(tb)) return a < b ? -1 : a > b ? 1 : 0;
  if (ta !== tb) return ta < tb ? -1 : 1;
  // Same millisecond: finer digits (microseconds) still order them.
  const fa = subMillis(a);
  const fb = subMillis(b);
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

function subMillis(iso: string): number {
  const match = /\.\d{3}(\d*)/.exec(iso);
  return match && match[1] ? Number(`0.${match[1]}`) : 0;
}

function toIso(value: Date | string): string {
  const date = typeof value === 'string' ? new Date(value) : value;
  if (Number.isNaN(date.getTime())) throw new Error(`Not a valid time: ${String(value)}`);
  return date.toISOString();
}

function unique(values: string[]): string[] {
  return Array.from(new Set(values));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isInstant(value: unknown): value is string {
  return typeof value === 'string' && !Number.isNaN(Date.parse(value));
}

function isPassSource(value: unknown): value is PassSource {
  if (!isRecord(value)) return false;
  return value.kind === 'updated' || (value.kind === 'person' && typeof value.personId === 'string');
}

function stringArray(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function safeJsonParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
