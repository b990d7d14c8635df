import fc from 'fast-check';
import {
  addChangedAssets,
  clearCheckpoint,
  compareInstants,
  currentListing,
  emptyCheckpoint,
  HandledAsset,
  isParked,
  parseCheckpoint,
  pendingAssetIds,
  planRun,
  recordResults,
  RunMode,
  SyncCheckpoint,
} from '../../lib/sync/checkpoint';

/** A library row as the checkpoint sees it. */
interface Row {
  id: string;
  fileCreatedAt: string;
  updatedAt: string;
  personIds?: string[];
}

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();

/**
 * Immich's search semantics for the filters a pass uses: updatedAfter and takenAfter compare >=,
 * personIds keeps assets with that person, results ordered by fileCreatedAt ascending. Ties come out in
 * an arbitrary (here: shuffled by `tieSeed`) order, since Immich does not promise one.
 */
function search(rows: Row[], filters: { updatedAfter?: string; takenAfter?: string; personIds?: string[] }, tieSeed: number): Row[] {
  return rows
    .filter((r) => !filters.updatedAfter || Date.parse(r.updatedAt) >= Date.parse(filters.updatedAfter))
    .filter((r) => !filters.takenAfter || Date.parse(r.fileCreatedAt) >= Date.parse(filters.takenAfter))
    .filter((r) => !filters.personIds || filters.personIds.every((p) => r.personIds?.includes(p)))
    .map((r, i) => ({ r, k: (i * 7919 + tieSeed * 104729) % 1009 }))
    .sort((a, b) => Date.parse(a.r.fileCreatedAt) - Date.parse(b.r.fileCreatedAt) || a.k - b.k)
    .map(({ r }) => r);
}

interface RunOutcome {
  checkpoint: SyncCheckpoint;
  handledIds: string[];
}

/** One run the way the run loop drives it: plan, retries, then listings until the budget is used. */
function simulateRun(
  start: SyncCheckpoint,
  rows: Row[],
  options: { now: string; mode: RunMode; maxAssets: number; tieSeed?: number; fail?: (id: string) => boolean },
): RunOutcome {
  const plan = planRun(start, { now: options.now, mode: options.mode, clockSkewMarginMs: 0 });
  let checkpoint = plan.checkpoint;
  const handledIds: string[] = [];
  const outcome = (row: Row, origin: HandledAsset['origin']): HandledAsset => ({
    id: row.id,
    fileCreatedAt: row.fileCreatedAt,
    updatedAt: row.updatedAt,
    origin,
    status: options.fail?.(row.id) ? 'failed' : 'written',
    reason: options.fail?.(row.id) ? 'disk full' : undefined,
  });
  for (const id of plan.retryIds) {
    const row = rows.find((r) => r.id === id);
    if (!row) continue;
    handledIds.push(id);
    checkpoint = recordResults(checkpoint, [outcome(row, 'retry')], { now: options.now });
  }
  let budget = options.maxAssets;
  for (;;) {
    const listing = currentListing(checkpoint);
    if (!listing) break;
    const skip = new Set(listing.skipIds);
    const found = search(rows, listing.filters, options.tieSeed ?? 0).filter((r) => !skip.has(r.id));
    const batch = found.slice(0, budget);
    budget -= batch.length;
    handledIds.push(...batch.map((r) => r.id));
    checkpoint = recordResults(checkpoint, batch.map((r) => outcome(r, 'listing')), {
      now: options.now,
      listingExhausted: batch.length === found.length,
    });
    if (budget === 0) break;
  }
  for (const id of pendingAssetIds(checkpoint)) {
    if (budget === 0) break;
    const row = rows.find((r) => r.id === id);
    budget -= 1;
    handledIds.push(id);
    checkpoint = recordResults(
      checkpoint,
      [row ? outcome(row, 'pending') : { id, updatedAt: null, origin: 'pending', status: 'skipped', reason: 'gone' }],
      { now: options.now },
    );
  }
  // The stored form is JSON: every run must survive a round trip.
  return { checkpoint: parseCheckpoint(JSON.parse(JSON.stringify(checkpoint))), handledIds };
}

function library(count: number, opts: { tiesEvery?: number } = {}): Row[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `a${String(i).padStart(4, '0')}`,
    fileCreatedAt: at(opts.tiesEvery ? Math.floor(i / opts.tiesEvery) : i),
    updatedAt: at(-100),
  }));
}

describe('checkpoint: a full pass over several runs', () => {
  it('handles every asset exactly once when runs are bounded by maxAssets', () => {
    const rows = library(25);
    let cp = emptyCheckpoint();
    const seen: string[] = [];
    let runs = 0;
    do {
      const out = simulateRun(cp, rows, { now: at(1000 + runs), mode: 'resume', maxAssets: 7 });
      seen.push(...out.handledIds);
      cp = out.checkpoint;
      runs += 1;
    } while (cp.pass && runs < 20);
    expect(runs).toBe(4);
    expect(seen.sort()).toEqual(rows.map((r) => r.id).sort());
    expect(cp.pass).toBeNull();
    expect(cp.lastPassStartedAt).toBe(at(1000));
    expect(cp.lastFullPassStartedAt).toBe(at(1000));
  });

  it('keeps ties at one instant apart, whatever order Immich returns them in', () => {
    const rows = library(40, { tiesEvery: 10 });
    let cp = emptyCheckpoint();
    const seen: string[] = [];
    for (let run = 0; run < 20 && (run === 0 || cp.pass); run++) {
      const out = simulateRun(cp, rows, { now: at(2000), mode: 'resume', maxAssets: 3, tieSeed: run });
      seen.push(...out.handledIds);
      cp = out.checkpoint;
    }
    expect(new Set(seen).size).toBe(40);
    expect(seen).toHaveLength(40);
  });

  it('resumes at the cursor despite insertions and deletions before it', () => {
    const rows = library(20);
    const first = simulateRun(emptyCheckpoint(), rows, { now: at(3000), mode: 'full', maxAssets: 10 });
    expect(first.checkpoint.pass?.cursor?.fileCreatedAt).toBe(rows[9].fileCreatedAt);
    // Between runs: three early assets are deleted and two are inserted before the cursor; one after it.
    const changed = rows.filter((r) => !['a0001', 'a0002', 'a0003'].includes(r.id));
    changed.push({ id: 'early1', fileCreatedAt: at(0.5), updatedAt: at(3001) });
    changed.push({ id: 'early2', fileCreatedAt: rows[9].fileCreatedAt, updatedAt: at(3001) });
    changed.push({ id: 'late', fileCreatedAt: at(15.5), updatedAt: at(3001) });
    const second = simulateRun(first.checkpoint, changed, { now: at(3010), mode: 'resume', maxAssets: 100 });
    // An offset would skip three assets; the cursor continues right after a0009 (plus the tie inserted at its instant).
    expect(second.handledIds.sort()).toEqual(['a0010', 'a0011', 'a0012', 'a0013', 'a0014', 'a0015', 'a0016', 'a0017', 'a0018', 'a0019', 'early2', 'late'].sort());
    expect(second.checkpoint.pass).toBeNull();
    // The asset inserted before the cursor was changed after the pass started: the next incremental pass finds it.
    const third = simulateRun(second.checkpoint, changed, { now: at(3020), mode: 'incremental', maxAssets: 100 });
    expect(third.handledIds).toContain('early1');
    expect(third.checkpoint.pass).toBeNull();
  });

  it('mode full restarts even when a pass is unfinished; resume continues it', () => {
    const rows = library(10);
    const first = simulateRun(emptyCheckpoint(), rows, { now: at(0), mode: 'full', maxAssets: 4 });
    expect(first.checkpoint.pass?.handled).toBe(4);
    const resumed = simulateRun(first.checkpoint, rows, { now: at(1), mode: 'resume', maxAssets: 2 });
    expect(resumed.handledIds).toEqual(['a0004', 'a0005']);
    expect(resumed.checkpoint.pass?.startedAt).toBe(at(0));
    const restarted = simulateRun(first.checkpoint, rows, { now: at(2), mode: 'full', maxAssets: 2 });
    expect(restarted.handledIds).toEqual(['a0000', 'a0001']);
    expect(restarted.checkpoint.pass?.startedAt).toBe(at(2));
  });
});

describe('checkpoint: incremental passes', () => {
  it('lists only changes since the start of the last completed pass, including changes made during it', () => {
    const rows = library(6);
    const full = simulateRun(emptyCheckpoint(), rows, { now: at(100), mode: 'full', maxAssets: 100 });
    expect(full.checkpoint.lastPassStartedAt).toBe(at(100));
    // Changed while the full pass ran (after it started) and after it.
    rows[1].updatedAt = at(100.5);
    rows[4].updatedAt = at(150);
    const inc = simulateRun(full.checkpoint, rows, { now: at(200), mode: 'incremental', maxAssets: 100 });
    expect(inc.handledIds.sort()).toEqual(['a0001', 'a0004']);
    expect(inc.checkpoint.lastPassStartedAt).toBe(at(200));
    expect(inc.checkpoint.lastFullPassStartedAt).toBe(at(100));
    const quiet = simulateRun(inc.checkpoint, rows, { now: at(300), mode: 'incremental', maxAssets: 100 });
    expect(quiet.handledIds).toEqual([]);
  });

  it('starts a full pass when there is no completed pass yet, and when the reconcile interval has passed', () => {
    const first = planRun(emptyCheckpoint(), { now: at(0), mode: 'incremental' });
    expect(first.passKind).toBe('full');
    const done = recordResults(first.checkpoint, [], { now: at(0), listingExhausted: true });
    expect(done.lastFullPassStartedAt).toBe(at(0));
    const soon = planRun(done, { now: at(60 * 24 * 6), mode: 'incremental', fullReconcileEveryDays: 7 });
    expect(soon.passKind).toBe('incremental');
    expect(soon.reconcileDue).toBe(false);
    const later = planRun(done, { now: at(60 * 24 * 7), mode: 'incremental', fullReconcileEveryDays: 7 });
    expect(later.passKind).toBe('full');
    expect(later.reconcileDue).toBe(true);
    const never = planRun(done, { now: at(60 * 24 * 700), mode: 'incremental', fullReconcileEveryDays: 0 });
    expect(never.passKind).toBe('incremental');
  });

  it('starts the incremental listing earlier by the clock-skew margin', () => {
    const done = recordResults(planRun(emptyCheckpoint(), { now: at(100), mode: 'full' }).checkpoint, [], { now: at(100), listingExhausted: true });
    const plan = planRun(done, { now: at(200), mode: 'incremental', clockSkewMarginMs: 5 * 60_000 });
    expect(currentListing(plan.checkpoint)?.filters).toEqual({ order: 'asc', updatedAfter: at(95) });
    expect(plan.discoverChangesSince).toBe(at(95));
  });

  it('adds the assets of changed people and of changed album membership to the pass', () => {
    const rows: Row[] = [
      ...library(5),
      { id: 'p1', fileCreatedAt: at(1.5), updatedAt: at(-100), personIds: ['alice'] },
      { id: 'p2', fileCreatedAt: at(3.5), updatedAt: at(-100), personIds: ['alice', 'bob'] },
    ];
    const full = simulateRun(emptyCheckpoint(), rows, { now: at(100), mode: 'full', maxAssets: 100 });
    const plan = planRun(full.checkpoint, { now: at(200), mode: 'incremental', clockSkewMarginMs: 0 });
    expect(plan.discoverChangesSince).toBe(at(100));
    let cp = addChangedAssets(plan.checkpoint, { personIds: ['alice', 'alice'], assetIds: ['a0002', 'a0002'] });
    expect(cp.pass?.sources).toEqual([{ kind: 'updated' }, { kind: 'person', personId: 'alice' }]);
    expect(pendingAssetIds(cp)).toEqual(['a0002']);
    // Walk it with a budget of one asset per run so the person listing and the pending id span runs.
    const seen: string[] = [];
    for (let run = 0; run < 10 && cp.pass; run++) {
      const out = simulateRun(cp, rows, { now: at(201 + run), mode: 'incremental', maxAssets: 1 });
      seen.push(...out.handledIds);
      cp = out.checkpoint;
    }
    expect(seen).toEqual(['p1', 'p2', 'a0002']);
    expect(cp.pass).toBeNull();
    expect(cp.lastPassStartedAt).toBe(at(200));
    expect(() => addChangedAssets(cp, { personIds: ['x'] })).toThrow(/planRun/);
  });

  it('lists a person source without updatedAfter and resumes it at its own cursor', () => {
    const done = recordResults(planRun(emptyCheckpoint(), { now: at(0), mode: 'full' }).checkpoint, [], { now: at(0), listingExhausted: true });
    let cp = addChangedAssets(planRun(done, { now: at(10), mode: 'incremental', clockSkewMarginMs: 0 }).checkpoint, { personIds: ['bob'] });
    cp = recordResults(cp, [], { now: at(10), listingExhausted: true });
    expect(currentListing(cp)).toEqual({ source: { kind: 'person', personId: 'bob' }, filters: { order: 'asc', personIds: ['bob'] }, skipIds: [] });
    cp = recordResults(cp, [{ id: 'x', fileCreatedAt: at(5), updatedAt: at(1), origin: 'listing', status: 'unchanged' }], { now: at(10) });
    expect(currentListing(cp)?.filters).toEqual({ order: 'asc', personIds: ['bob'], takenAfter: at(5) });
    expect(currentListing(cp)?.skipIds).toEqual(['x']);
  });
});

describe('checkpoint: failures, retries and parking', () => {
  it('retries a failed asset on the next run, parks it after maxAttempts, and wakes it when it changes', () => {
    const rows = library(3);
    let failing = true;
    const fail = (id: string): boolean => failing && id === 'a0001';
    let out = simulateRun(emptyCheckpoint(), rows, { now: at(0), mode: 'full', maxAssets: 100, fail });
    // The failure does not hold the pass back: it is on the retry list instead.
    expect(out.checkpoint.pass).toBeNull();
    expect(out.checkpoint.retries.a0001).toMatchObject({ attempts: 1, parked: false, lastError: 'disk full', updatedAt: rows[1].updatedAt });
    out = simulateRun(out.checkpoint, rows, { now: at(10), mode: 'incremental', maxAssets: 100, fail });
    expect(out.handledIds).toEqual(['a0001']);
    expect(out.checkpoint.retries.a0001.attempts).toBe(2);
    out = simulateRun(out.checkpoint, rows, { now: at(20), mode: 'incremental', maxAssets: 100, fail });
    expect(out.checkpoint.retries.a0001).toMatchObject({ attempts: 3, parked: true });
    expect(isParked(out.checkpoint, rows[1])).toBe(true);
    // Parked: not retried any more.
    out = simulateRun(out.checkpoint, rows, { now: at(30), mode: 'incremental', maxAssets: 100, fail });
    expect(out.handledIds).toEqual([]);
    // A parked asset seen unchanged in a listing keeps its entry when skipped as parked.
    const kept = recordResults(out.checkpoint, [{ id: 'a0001', updatedAt: rows[1].updatedAt, origin: 'retry', status: 'skipped', parkedSkip: true }], { now: at(31) });
    expect(kept.retries.a0001.parked).toBe(true);
    // It changes in Immich: not parked any more for that version, and a failure starts counting afresh.
    rows[1].updatedAt = at(35);
    expect(isParked(out.checkpoint, rows[1])).toBe(false);
    out = simulateRun(out.checkpoint, rows, { now: at(40), mode: 'incremental', maxAssets: 100, fail });
    expect(out.handledIds).toEqual(['a0001']);
    expect(out.checkpoint.retries.a0001).toMatchObject({ attempts: 1, parked: false });
    failing = false;
    out = simulateRun(out.checkpoint, rows, { now: at(50), mode: 'incremental', maxAssets: 100, fail });
    expect(out.handledIds).toEqual(['a0001']);
    expect(out.checkpoint.retries).toEqual({});
  });

  it('honours a custom maxAttempts', () => {
    const cp = recordResults(emptyCheckpoint(), [{ id: 'x', updatedAt: null, origin: 'retry', status: 'failed', reason: 'boom' }], { now: at(0), maxAttempts: 1 });
    expect(cp.retries.x.parked).toBe(true);
    expect(planRun(cp, { now: at(1), mode: 'resume' }).retryIds).toEqual([]);
  });

  it('refuses to move the cursor backwards or past an asset without fileCreatedAt', () => {
    let cp = planRun(emptyCheckpoint(), { now: at(0), mode: 'full' }).checkpoint;
    cp = recordResults(cp, [{ id: 'b', fileCreatedAt: at(5), updatedAt: null, origin: 'listing', status: 'written' }], { now: at(0) });
    expect(() => recordResults(cp, [{ id: 'a', fileCreatedAt: at(4), updatedAt: null, origin: 'listing', status: 'written' }], { now: at(0) })).toThrow(/listing order/);
    expect(() => recordResults(cp, [{ id: 'c', updatedAt: null, origin: 'listing', status: 'written' }], { now: at(0) })).toThrow(/asset c/i);
  });
});

describe('checkpoint: scope', () => {
  it('drops progress made for another scope (e.g. other modules) and keeps it for the same one', () => {
    const rows = library(5);
    const ratings = planRun(emptyCheckpoint(), { now: at(0), mode: 'incremental', scope: 'rating' });
    expect(ratings.scopeChanged).toBe(false);
    let cp = recordResults(ratings.checkpoint, rows.map((r) => ({ ...r, origin: 'listing' as const, status: 'failed' as const })), { now: at(0), listingExhausted: true });
    expect(cp.scope).toBe('rating');
    expect(Object.keys(cp.retries)).toHaveLength(5);

    const same = planRun(parseCheckpoint(JSON.parse(JSON.stringify(cp))), { now: at(1), mode: 'incremental', scope: 'rating', clockSkewMarginMs: 0 });
    expect(same).toMatchObject({ scopeChanged: false, passKind: 'incremental' });
    expect(same.retryIds).toHaveLength(5);

    const other = planRun(cp, { now: at(1), mode: 'incremental', scope: 'albums' });
    expect(other).toMatchObject({ scopeChanged: true, passKind: 'full', retryIds: [] });
    expect(other.checkpoint.scope).toBe('albums');
    expect(other.checkpoint.lastPassStartedAt).toBeNull();

    // Without a scope (callers that do not use it) the checkpoint is taken as it is.
    expect(planRun(cp, { now: at(1), mode: 'incremental' }).scopeChanged).toBe(false);
    cp = planRun(cp, { now: at(1), mode: 'resume', scope: 'albums' }).checkpoint;
    expect(cp.pass?.kind).toBe('full');
  });
});

describe('checkpoint: storage', () => {
  it('round-trips through JSON and rejects garbage with an empty checkpoint', () => {
    let cp = planRun(emptyCheckpoint(), { now: at(0), mode: 'full' }).checkpoint;
    cp = recordResults(cp, [{ id: 'x', fileCreatedAt: at(3), updatedAt: at(1), origin: 'listing', status: 'failed', reason: 'r' }], { now: at(0) });
    expect(parseCheckpoint(JSON.stringify(cp))).toEqual(cp);
    expect(parseCheckpoint(JSON.parse(JSON.stringify(cp)))).toEqual(cp);
    expect(parseCheckpoint('{not json')).toEqual(emptyCheckpoint());
    expect(parseCheckpoint({ version: 99, pass: null })).toEqual(emptyCheckpoint());
    expect(parseCheckpoint(undefined)).toEqual(emptyCheckpoint());
    expect(clearCheckpoint()).toEqual(emptyCheckpoint());
  });

  it('orders instants by time, not by spelling', () => {
    expect(compareInstants('2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z')).toBe(0);
    expect(compareInstants('2026-01-01T01:00:00+01:00', '2026-01-01T00:00:00.000Z')).toBe(0);
    expect(compareInstants('2026-01-01T00:00:00.000100Z', '2026-01-01T00:00:00.000Z')).toBe(1);
    expect(compareInstants('2025-12-31T23:59:59.999Z', '2026-01-01T00:00:00.000Z')).toBe(-1);
  });
});

describe('checkpoint: property — bounded runs with a changing library', () => {
  it('every asset present for the whole pass is handled, none more than once per pass', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 40 }), // fileCreatedAt minutes (many ties)
        fc.integer({ min: 1, max: 9 }), // maxAssets per run
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 15 })), { maxLength: 10 }), // mutations between runs
        (minutes, maxAssets, mutations) => {
          let rows: Row[] = minutes.map((m, i) => ({ id: `r${i}`, fileCreatedAt: at(m), updatedAt: at(-1) }));
          const stable = new Set(rows.map((r) => r.id));
          let cp = emptyCheckpoint();
          const handled: string[] = [];
          let run = 0;
          do {
            const out = simulateRun(cp, rows, { now: at(1000), mode: 'resume', maxAssets, tieSeed: run });
            handled.push(...out.handledIds);
            cp = out.checkpoint;
            const mutation = mutations[run];
            if (mutation) {
              const [insert, minute] = mutation;
              if (insert) rows = [...rows, { id: `new${run}`, fileCreatedAt: at(minute), updatedAt: at(1000 + run) }];
              else {
                const victim = rows[minute % rows.length];
                rows = rows.filter((r) => r !== victim);
                if (victim) stable.delete(victim.id);
              }
            }
            run += 1;
          } while (cp.pass && run < 200);
          expect(cp.pass).toBeNull();
          for (const id of stable) expect(handled).toContain(id);
          expect(new Set(handled).size).toBe(handled.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
