import { describePartition, inPartition, partitionOfAsset } from '../../lib/sync/partition';
import { emptyCheckpoint, planRun } from '../../lib/sync/checkpoint';
import { recordSteps } from '../../lib/sync/recorder';
import { needsWork, planSteps, takeSteps, type AssetStep } from '../../lib/sync/workPlan';
import type { ImmichAssetSummary, ImmichSearchPage } from '../../lib/immich/types';

const ids = Array.from({ length: 2000 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);

test('an asset\'s partition is fixed by its id (the same on every host and version)', () => {
  // pinned values: a change of the hash would move assets between partitions with existing checkpoints
  expect([0, 1, 2, 3, 4, 5].map((i) => partitionOfAsset(ids[i], 2))).toEqual([1, 1, 2, 1, 2, 2]);
  expect(partitionOfAsset(ids[7], 1)).toBe(1);
  for (const id of ids.slice(0, 50)) expect(partitionOfAsset(id, 3)).toBe(partitionOfAsset(id, 3));
});

test.each([2, 3, 5])('with N = %i every asset is in exactly one partition, and the parts are about equal', (count) => {
  const sizes = new Array<number>(count).fill(0);
  for (const id of ids) {
    const owners = Array.from({ length: count }, (_, k) => k + 1).filter((index) => inPartition(id, { index, count }));
    expect(owners).toHaveLength(1);
    sizes[owners[0] - 1] += 1;
  }
  for (const size of sizes) expect(Math.abs(size - ids.length / count)).toBeLessThan(ids.length / count / 5);
});

test('one partition is the whole library', () => {
  expect(ids.every((id) => inPartition(id))).toBe(true);
  expect(describePartition({ index: 1, count: 1 })).toBe('the whole library');
  expect(describePartition({ index: 2, count: 3 })).toBe('partition 2 of 3');
});

/** A listing of the given ids at distinct instants, in one page. */
function pager(list: string[]) {
  const items = list.map((id, i) => ({ id, fileCreatedAt: new Date(Date.UTC(2020, 0, 1) + i * 1000).toISOString(), updatedAt: '2024-01-01T00:00:00.000Z' }) as ImmichAssetSummary);
  return { searchPage: async (): Promise<ImmichSearchPage> => ({ items, next: null }) } as never;
}

test('a partition works on its own assets only, while its cursor passes the others\' and its budget counts only its own', async () => {
  const list = ids.slice(0, 40);
  const partition = { index: 2, count: 2 };
  const plan = planRun(emptyCheckpoint(), { now: '2026-01-01T00:00:00Z', mode: 'full' });
  const start = { plan, checkpoint: plan.checkpoint };
  const steps = await takeSteps(planSteps(pager(list), start, { pageSize: 100, maxAssets: 5, partition }));
  const worked = steps.filter(needsWork).map((s) => s.id);
  expect(worked).toEqual(list.filter((id) => inPartition(id, partition)).slice(0, 5));
  const passed = steps.filter((s): s is AssetStep => s.kind === 'asset' && !!s.otherPartition).map((s) => s.id);
  expect(passed.every((id) => !inPartition(id, partition))).toBe(true);
  // recorded, the cursor stands on the last own asset handed out, behind every other asset before it
  const recorded = recordSteps(start.checkpoint, steps.map((step) => ({ step, outcome: needsWork(step) ? { status: 'unchanged' as const } : null })), { now: '2026-01-01T00:00:00Z' });
  expect(recorded.pass!.cursor!.idsAtCursor).toEqual([worked[4]]);
  expect(recorded.retries).toEqual({});
});
