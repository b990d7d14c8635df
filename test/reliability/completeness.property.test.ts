/**
 * Completeness as a property of the sync engine (lib/sync/workPlan.ts + recorder.ts), over server
 * behaviours the API contract allows, generated with fast-check and played by the simulator: page sizes
 * from 1 to 1000 whatever `size` asks, more assets at one fileCreatedAt than fit a page, ties in any order,
 * the boundary asset repeated on the next page, an empty last page, assets added, deleted, touched or
 * moved between pages, runs bounded by a batch size, and assets whose handling fails; each case against a v3.1
 * server (page numbers) or a v3.2 one (the filter/cursor search, paged by an opaque nextCursor).
 *
 * Every asset the server lists in a pass ends handled exactly once (or, failed, on the retry list), none
 * is dropped silently; a server that breaks the contract stops the run with a ServerContractError and
 * the checkpoint never moves past an asset that was not handled. File work is not the point here (the
 * outcome of each asset is chosen by the case); the command line and the template are checked on fixed
 * cases in cli-paging.test.ts and template-paging.e2e.test.ts.
 */
import fc from 'fast-check';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImmichClient } from '../../lib/immich/client';
import { ServerContractError } from '../../lib/immich/errors';
import { AxiosTransport } from '../../cli/axiosTransport';
import { compareInstants, emptyCheckpoint, type SyncCheckpoint } from '../../lib/sync/checkpoint';
import { recordSteps, type RecordedStep } from '../../lib/sync/recorder';
import type { SyncStateStore } from '../../lib/sync/stateStore';
import { needsWork, planSteps, startRun } from '../../lib/sync/workPlan';
import type { AlbumCache } from '../../lib/sync/albumCache';
import { createSyntheticLibrary, startSimulator, syntheticAssetId, type ApiVersion, type SearchBehaviour, type Simulator } from '../simulator';

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300);
const T0 = Date.parse('2020-06-01T10:00:00.000Z');
const instant = (slot: number): string => new Date(T0 + slot * 60_000).toISOString();

class MemoryStore implements SyncStateStore {
  checkpoint: SyncCheckpoint = emptyCheckpoint();
  async loadCheckpoint() {
    return this.checkpoint;
  }
  async saveCheckpoint(checkpoint: SyncCheckpoint) {
    this.checkpoint = JSON.parse(JSON.stringify(checkpoint));
  }
  async loadMembershipCache(): Promise<AlbumCache | null> {
    return null;
  }
  async saveMembershipCache() {}
}

type Mutation = { beforeRequest: number; op: 'add' | 'delete' | 'touch' | 'move'; target: number; slot: number };

interface Case {
  slots: number[];
  behaviour: Omit<SearchBehaviour, 'beforePage'>;
  pageSize: number;
  batch: number;
  failing: number[];
  mutations: Mutation[];
  /** The server's version: 3.2 pages by an opaque nextCursor (the walk must never read it as a page number). */
  api: ApiVersion;
}

const behaviourArb: fc.Arbitrary<Case['behaviour']> = fc.record(
  {
    pageCap: fc.integer({ min: 1, max: 7 }),
    pageSizes: fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 1, maxLength: 5 }),
    tieOrder: fc.oneof(fc.constant('id' as const), fc.constant('reverse-id' as const), fc.record({ shuffleSeed: fc.nat() })),
    repeatBoundaryItem: fc.boolean(),
    emptyLastPage: fc.boolean(),
  },
  { requiredKeys: [] },
);

const caseArb: fc.Arbitrary<Case> = fc.integer({ min: 0, max: 36 }).chain((n) =>
  fc.record({
    // few distinct instants, so ties beyond a page are common
    slots: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: n, maxLength: n }),
    behaviour: behaviourArb,
    pageSize: fc.oneof(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 1000 })),
    batch: fc.integer({ min: 1, max: Math.max(1, n + 2) }),
    failing: fc.uniqueArray(fc.integer({ min: 0, max: Math.max(0, n - 1) }), { maxLength: 3 }),
    mutations: fc.array(
      fc.record({
        beforeRequest: fc.integer({ min: 0, max: 25 }),
        op: fc.constantFrom('add' as const, 'delete' as const, 'touch' as const, 'move' as const),
        target: fc.integer({ min: 0, max: Math.max(0, n - 1) }),
        slot: fc.integer({ min: 0, max: 9 }),
      }),
      { maxLength: 4 },
    ),
    api: fc.constantFrom<ApiVersion>('3.1', '3.2'),
  }),
);

let simulator: Simulator;

interface Played {
  /** Listing handlings per asset id over the whole pass. */
  listedTimes: Map<string, number>;
  /** Ids handled again by id (a retry in a later run of the pass). */
  retried: Set<string>;
  /** Ids whose fileCreatedAt changed, or that were added or deleted while the pass ran. */
  unstable: Set<string>;
  present: string[];
  store: MemoryStore;
  runs: number;
  error: unknown;
}

async function play(c: Case, breakAt?: { request: number; kind: 'nextPage-stuck' | 'out-of-order' }): Promise<Played> {
  const synthetic = createSyntheticLibrary(c.slots.length, { photoDir: path.join(os.tmpdir(), 'unused-property-photos'), copyFiles: false, albumCount: 0, peopleCount: 0 });
  const library = synthetic.library;
  c.slots.forEach((slot, i) => library.setFileCreatedAt(syntheticAssetId(i), instant(slot)));
  const unstable = new Set<string>();
  const pending = [...c.mutations].sort((a, b) => a.beforeRequest - b.beforeRequest);
  const behaviour: SearchBehaviour = {
    ...c.behaviour,
    beforePage: ({ requestIndex }) => {
      while (pending.length && pending[0].beforeRequest <= requestIndex) {
        const m = pending.shift()!;
        const id = syntheticAssetId(m.target);
        if (m.op === 'add') {
          unstable.add(library.addAsset({ fileCreatedAt: instant(m.slot) }).id);
        } else if (!library.asset(id)) {
          continue;
        } else if (m.op === 'delete') {
          library.deleteAsset(id);
          unstable.add(id);
        } else if (m.op === 'touch') {
          library.touchAsset(id);
        } else {
          library.setFileCreatedAt(id, instant(m.slot));
          unstable.add(id);
        }
      }
      if (breakAt && requestIndex >= breakAt.request) simulator.setSearchBehaviour({ ...behaviour, breakContract: breakAt.kind });
    },
  };
  simulator = await startSimulator({ library, search: behaviour, api: c.api });
  const client = new ImmichClient(new AxiosTransport({ url: simulator.url, apiKey: simulator.apiKey, retry: { maxRetries: 0 } }));
  const store = new MemoryStore();
  const failOnce = new Set(c.failing.map(syntheticAssetId));
  const listedTimes = new Map<string, number>();
  const retried = new Set<string>();
  let runs = 0;
  let error: unknown = null;
  let now = T0 + 86_400_000;
  try {
    do {
      runs += 1;
      const start = await startRun(client, store, { mode: 'resume', discover: { albums: false, tags: false, people: false }, persist: true, now: new Date((now += 1000)) });
      const entries: RecordedStep[] = [];
      try {
        for await (const step of planSteps(client, start, { pageSize: c.pageSize, maxAssets: c.batch })) {
          if (!needsWork(step)) {
            entries.push({ step, outcome: null });
            continue;
          }
          if (step.origin === 'listing') listedTimes.set(step.id, (listedTimes.get(step.id) ?? 0) + 1);
          else retried.add(step.id);
          const failed = failOnce.delete(step.id);
          entries.push({ step, outcome: failed ? { status: 'failed', reason: 'generated failure' } : { status: 'unchanged' } });
        }
      } finally {
        // What was handled before a failed listing is still recorded (as the run loop does).
        await store.saveCheckpoint(recordSteps(start.checkpoint, entries, { now: new Date(now) }));
      }
    } while (store.checkpoint.pass !== null && runs < 500);
  } catch (caught) {
    error = caught;
  }
  const violations = simulator.violations();
  await simulator.close();
  expect(violations).toEqual([]);
  const present = c.slots.map((_, i) => syntheticAssetId(i)).filter((id) => !unstable.has(id));
  return { listedTimes, retried, unstable, present, store, runs, error };
}

test(`every listed asset is handled exactly once per pass, whatever paging the contract allows (${RUNS} generated cases)`, async () => {
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const played = await play(c);
      expect(played.error).toBeNull();
      expect(played.store.checkpoint.pass).toBeNull(); // the pass completed
      for (const id of played.present) expect([id, played.listedTimes.get(id) ?? 0]).toEqual([id, 1]);
      for (const id of played.unstable) expect(played.listedTimes.get(id) ?? 0).toBeLessThanOrEqual(2);
      // an asset that failed is retried by id in a later run, or still waits on the retry list
      for (const index of c.failing) {
        const id = syntheticAssetId(index);
        if (played.present.includes(id) && played.listedTimes.has(id)) expect(played.retried.has(id) || played.store.checkpoint.retries[id]?.attempts === 1).toBe(true);
      }
    }),
    { numRuns: RUNS, timeout: 10_000, endOnFailure: true },
  );
});

test('a server that breaks the contract stops the run with a clear error, and the checkpoint never passes an unhandled asset', async () => {
  await fc.assert(
    fc.asyncProperty(
      caseArb.filter((c) => c.slots.length >= 3),
      fc.integer({ min: 0, max: 6 }),
      fc.constantFrom('nextPage-stuck' as const, 'out-of-order' as const),
      async (c, request, kind) => {
        const played = await play({ ...c, mutations: [] }, { request, kind });
        if (played.error !== null) {
          expect(played.error).toBeInstanceOf(ServerContractError);
          expect((played.error as Error).message).toMatch(/order|does not advance|no new asset/);
        }
        const cursor = played.store.checkpoint.pass?.cursor;
        if (cursor) {
          // everything before the cursor's instant, and every id at it, was handled
          for (const id of played.present) {
            const slot = c.slots[Number.parseInt(id.slice(-12), 16)];
            const order = compareInstants(instant(slot), cursor.fileCreatedAt);
            if (order < 0 || (order === 0 && cursor.idsAtCursor.includes(id))) expect(played.listedTimes.get(id)).toBe(1);
          }
        }
      },
    ),
    { numRuns: Math.ceil(RUNS / 3), timeout: 10_000, endOnFailure: true },
  );
});
