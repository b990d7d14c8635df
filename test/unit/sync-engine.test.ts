/**
 * The sync engine's parts on their own: the listing walk against scripted servers (what the API
 * contract allows and what it rules out), the order of a run's steps, and the recorder. The property
 * suite (test/reliability/completeness.property.test.ts) drives them against the simulator.
 */
import { ServerContractError } from '../../lib/immich/errors';
import type { ImmichAssetSummary, ImmichSearchFilters, ImmichSearchPage } from '../../lib/immich/types';
import { addChangedAssets, emptyCheckpoint, planRun, recordResults, type ListingRequest, type SyncCheckpoint } from '../../lib/sync/checkpoint';
import { walkListing, type SearchPager } from '../../lib/sync/listing';
import { recordBatch, recordSteps, workBatch, parseWorkBatch, MISSING_RESULT_REASON } from '../../lib/sync/recorder';
import { planSteps, takeSteps, type AssetStep } from '../../lib/sync/workPlan';

const T0 = Date.parse('2024-01-01T00:00:00.000Z');
const at = (minute: number): string => new Date(T0 + minute * 60_000).toISOString();
const id = (n: number): string => `00000000-0000-4000-8000-${n.toString().padStart(12, '0')}`;

function asset(n: number, minute: number): ImmichAssetSummary {
  return { id: id(n), fileCreatedAt: at(minute), updatedAt: at(0) } as ImmichAssetSummary;
}

/** A server that keeps the contract: ascending by fileCreatedAt, takenAfter/takenBefore inclusive, offset pages of at most `cap`. */
function contractServer(assets: ImmichAssetSummary[], cap: number, extra: { emptyLastPage?: boolean } = {}) {
  const requests: Array<{ filters: ImmichSearchFilters; page: string | null; size: number }> = [];
  const pager: SearchPager = {
    async searchPage(filters, page, size = 250): Promise<ImmichSearchPage> {
      requests.push({ filters, page, size });
      const after = filters.takenAfter ? Date.parse(filters.takenAfter) : -Infinity;
      const before = filters.takenBefore ? Date.parse(filters.takenBefore) : Infinity;
      const all = assets.filter((a) => Date.parse(a.fileCreatedAt) >= after && Date.parse(a.fileCreatedAt) <= before).sort((a, b) => Date.parse(a.fileCreatedAt) - Date.parse(b.fileCreatedAt) || (a.id < b.id ? -1 : 1));
      const per = Math.min(size, cap);
      const start = ((page === null ? 1 : Number(page)) - 1) * per;
      const items = all.slice(start, start + per);
      const more = extra.emptyLastPage ? start + per <= all.length && items.length > 0 : start + per < all.length;
      return { items, next: more ? String((page === null ? 1 : Number(page)) + 1) : null };
    },
  };
  return { pager, requests };
}

const fullListing: ListingRequest = { source: { kind: 'updated' }, filters: { order: 'asc' }, skipIds: [] };

async function walk(pager: SearchPager, listing: ListingRequest = fullListing, pageSize = 250): Promise<string[]> {
  const ids: string[] = [];
  for await (const a of walkListing(pager, listing, pageSize)) ids.push(a.id);
  return ids;
}

describe('listing walk', () => {
  const library = Array.from({ length: 23 }, (_, n) => asset(n, Math.floor(n / 4))); // ties of 4 at each minute

  it.each([1, 2, 3, 5, 1000])('lists every asset once when the server caps pages at %i, whatever size asks', async (cap) => {
    const { pager } = contractServer(library, cap);
    const ids = await walk(pager, fullListing, 250);
    expect(ids).toHaveLength(library.length);
    expect(new Set(ids)).toEqual(new Set(library.map((a) => a.id)));
  });

  it('ends only on nextPage null, also after an empty last page', async () => {
    const { pager, requests } = contractServer(library.slice(0, 8), 4, { emptyLastPage: true });
    expect(await walk(pager)).toHaveLength(8);
    expect(requests.length).toBeGreaterThanOrEqual(2);
  });

  it('resumes at a cursor, skipping the ids handled at its instant', async () => {
    const { pager } = contractServer(library, 3);
    const listing: ListingRequest = { ...fullListing, filters: { order: 'asc', takenAfter: at(2) }, skipIds: [id(8), id(9)] };
    expect(await walk(pager, listing)).toEqual(library.slice(10).map((a) => a.id));
  });

  it('stops with a contract error when a page is out of order, or starts before takenAfter', async () => {
    const shuffled: SearchPager = { searchPage: async () => ({ items: [asset(1, 5), asset(2, 3)], next: null }) };
    await expect(walk(shuffled)).rejects.toThrow(ServerContractError);
    const ignoresFilter: SearchPager = { searchPage: async () => ({ items: [asset(1, 0)], next: null }) };
    await expect(walk(ignoresFilter, { ...fullListing, filters: { order: 'asc', takenAfter: at(1) } })).rejects.toThrow(/out of the requested order/);
  });

  it('stops when nextPage does not advance, or pages bring nothing new for ever, within a bounded number of requests', async () => {
    let calls = 0;
    const stuck: SearchPager = { searchPage: async () => (calls++, { items: [asset(1, 0), asset(2, 0)], next: '2' }) };
    await expect(walk(stuck)).rejects.toThrow(/does not advance/);
    expect(calls).toBeLessThan(10);
    calls = 0;
    const endless: SearchPager = { searchPage: async (_f, page) => (calls++, { items: [asset(1, 0), asset(2, 0)], next: String(Number(page ?? 1) + 1) }) };
    await expect(walk(endless)).rejects.toThrow(/does not advance/);
    expect(calls).toBeLessThan(10);
  });
});

describe('a run’s steps', () => {
  it('come in one order: retries, then changed assets by id, then the listing, then its end', async () => {
    let cp: SyncCheckpoint = recordResults(planRun(emptyCheckpoint(), { now: at(0), mode: 'full' }).checkpoint, [{ id: id(99), updatedAt: null, origin: 'retry', status: 'failed', reason: 'x' }], { now: at(0) });
    const plan = planRun(cp, { now: at(1), mode: 'resume' });
    cp = addChangedAssets(plan.checkpoint, { assetIds: [id(98), id(99)] });
    const { pager } = contractServer([asset(1, 0), asset(99, 1)], 10);
    const steps = await takeSteps(planSteps(pager, { plan, checkpoint: cp }, { pageSize: 10 }));
    expect(steps.map((s) => (s.kind === 'asset' ? `${s.origin}:${s.id.slice(-2)}${s.repeat ? ' (repeat)' : ''}` : s.kind))).toEqual([
      'retry:99',
      'pending:98',
      'pending:99 (repeat)',
      'listing:01',
      'listing:99 (repeat)',
      'source-end',
    ]);
  });

  it('stop at maxAssets; a listing end right behind the last asset is still included', async () => {
    const plan = planRun(emptyCheckpoint(), { now: at(0), mode: 'full' });
    const { pager } = contractServer([asset(1, 0), asset(2, 1), asset(3, 2)], 10);
    const two = await takeSteps(planSteps(pager, { plan, checkpoint: plan.checkpoint }, { pageSize: 10, maxAssets: 2 }));
    expect(two.map((s) => s.kind)).toEqual(['asset', 'asset']);
    const three = await takeSteps(planSteps(pager, { plan, checkpoint: plan.checkpoint }, { pageSize: 10, maxAssets: 3 }));
    expect(three.map((s) => s.kind)).toEqual(['asset', 'asset', 'asset', 'source-end']);
  });
});

describe('recorder', () => {
  const listed = (n: number, minute: number): AssetStep => ({ kind: 'asset', origin: 'listing', id: id(n), summary: null, fileCreatedAt: at(minute), updatedAt: at(0) });

  it('moves the cursor over recorded steps, finishes the listing at its end, and keeps retry entries of parked and repeated steps', () => {
    let cp = planRun(emptyCheckpoint(), { now: at(0), mode: 'full' }).checkpoint;
    cp = recordResults(cp, [{ id: id(5), updatedAt: at(0), origin: 'retry', status: 'failed', reason: 'x' }], { now: at(0), maxAttempts: 1 });
    expect(cp.retries[id(5)].parked).toBe(true);
    const next = recordSteps(
      cp,
      [
        { step: listed(1, 0), outcome: { status: 'written' } },
        { step: { ...listed(5, 1), parked: true }, outcome: null },
        { step: listed(6, 2), outcome: null },
        { step: { kind: 'source-end', source: { kind: 'updated' } }, outcome: null },
      ],
      { now: at(1) },
    );
    expect(next.pass).toBeNull(); // the only source ended: the pass is complete
    expect(next.retries[id(5)].parked).toBe(true);
    expect(next.retries[id(6)]).toMatchObject({ attempts: 1, lastError: MISSING_RESULT_REASON });
  });

  it('ignores a listing end that does not belong to the current source', () => {
    const cp = planRun(emptyCheckpoint(), { now: at(0), mode: 'full' }).checkpoint;
    const next = recordSteps(cp, [{ step: { kind: 'source-end', source: { kind: 'person', personId: 'p' } }, outcome: null }], { now: at(1) });
    expect(next.pass).not.toBeNull();
  });

  it('records a batch of another pass (after a reset) into the retry list only', () => {
    const first = planRun(emptyCheckpoint(), { now: at(0), mode: 'full' }).checkpoint;
    const batch = parseWorkBatch(JSON.parse(JSON.stringify(workBatch(first, [{ ...listed(1, 0), origin: 'retry' }, listed(2, 0), { kind: 'source-end', source: { kind: 'updated' } }], new Date(T0)))))!;
    const reset = planRun(emptyCheckpoint(), { now: at(5), mode: 'full' }).checkpoint;
    const next = recordBatch(reset, batch, [{ assetId: id(1), status: 'failed', reason: 'disk full' }, { assetId: id(2), status: 'written' }], { now: at(6) });
    expect(next.pass?.cursor).toBeNull();
    expect(next.retries[id(1)]).toMatchObject({ lastError: 'disk full' });
    expect(next.retries[id(2)]).toBeUndefined();
  });
});
