/**
 * The checkpoint wiring between Search Assets (sync-batch mode) and Write Metadata, driven against the
 * spec-checking Immich simulator through the real client. Static data is held the way n8n hands it to
 * nodes (one object shared by the nodes of an execution); by default every execution starts with EMPTY
 * static data, as a queue-mode worker does (n8n-io/n8n#17321), so all progress must come from the state
 * folder. The full n8n round trip is in template.e2e.test.ts.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../lib/immich/transport';
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { emptyCheckpoint, planRun, recordResults } from '../../lib/sync/checkpoint';
import { MISSING_RESULT_REASON } from '../../lib/sync/recorder';
import { inPartition } from '../../lib/sync/partition';
import { resolveStateRoot, stateFolderFor, type Partition } from '../../lib/sync/stateFolder';
import { FileStateStore } from '../../lib/sync/stateStore';
import { StaticDataStateStore, SYNC_STATE_KEY } from '../../nodes/shared/staticDataStore';
import { executeSyncBatch, type SyncBatchSettings } from '../../nodes/ImmichSearchAssets/checkpointMode';
import { recordCheckpointResults, releaseBatchLease, type ResultLike } from '../../nodes/ImmichWriteMetadata/checkpointRecord';
import { createSyntheticLibrary, startSimulator, syntheticAssetId, type Simulator, type SyntheticLibrary } from '../simulator';

const ASSETS = 1200;
let simulator: Simulator;
let synthetic: SyntheticLibrary;
let client: ImmichClient;

beforeAll(async () => {
  synthetic = createSyntheticLibrary(ASSETS, { photoDir: path.join(os.tmpdir(), 'unused-photo-dir'), copyFiles: false });
  simulator = await startSimulator({ library: synthetic.library });
  client = new ImmichClient(new AxiosTransport({ url: simulator.url, apiKey: simulator.apiKey }), { pageSize: 250 });
});

afterAll(async () => {
  expect(simulator.violations()).toEqual([]);
  await simulator.close();
});

let workflows = 0;
let executions = 0;
const stateRoots: string[] = [];
afterAll(() => {
  for (const root of stateRoots) fs.rmSync(root, { recursive: true, force: true });
});

type SearchSettings = Omit<SyncBatchSettings, 'stateFolder' | 'partition'>;

/**
 * One workflow: its state folder, and executions that each get static data as n8n hands it to the nodes.
 * `keepStaticData` is regular mode (n8n saves static data at the end and loads it for the next
 * execution); without it every execution starts with empty static data, as in queue mode.
 */
function workflow(options: { keepStaticData?: boolean; workflowId?: string; stateRoot?: string; partition?: Partition } = {}) {
  const workflowId = options.workflowId ?? `wiring-${++workflows}`;
  const stateRoot = options.stateRoot ?? fs.mkdtempSync(path.join(os.tmpdir(), 'immich-wiring-state-'));
  stateRoots.push(stateRoot);
  const settings: SearchSettings = { maxAssetsPerRun: 500, fullReconcileEveryDays: 7, albumCacheTtlMs: 0, resetCheckpoint: false, clearAlbumCache: false };
  let staticData: IDataObject = {};
  const staticDataOf = { getWorkflowStaticData: () => staticData };
  const folder = stateFolderFor(resolveStateRoot(stateRoot), `workflow-${workflowId}`, options.partition);
  const partitionParameters = options.partition ? { partitionIndex: options.partition.index, partitionCount: options.partition.count } : {};
  return {
    folder,
    get staticData() {
      return staticData;
    },
    /** Search Assets' part of an execution: the real node adapter with these parameters; returns the emitted ids. */
    async search(overrides: Partial<SearchSettings> = {}): Promise<string[]> {
      return (await this.searchItems(overrides)).map((json) => String(json.id));
    },
    /** The same, returning the items; `execution` gives the execution its own static data (as two overlapping executions have). */
    async searchItems(overrides: Partial<SearchSettings> = {}, execution?: IDataObject): Promise<IDataObject[]> {
      staticData = execution ?? (options.keepStaticData ? staticData : {});
      const parameters: Record<string, unknown> = { ...settings, ...overrides, albumCacheTtlHours: (overrides.albumCacheTtlMs ?? settings.albumCacheTtlMs) / 3600_000, stateFolder: stateRoot, ...partitionParameters };
      const context = {
        ...staticDataOf,
        getNodeParameter: (name: string, _i: number, fallback: unknown) => parameters[name] ?? fallback,
        getWorkflow: () => ({ id: workflowId, name: 'wiring', active: true }),
        getExecutionId: () => `${++executions}`,
        getNode: () => ({ name: 'Next Batch from Immich' }),
        logger: { info: () => undefined },
      } as unknown as IExecuteFunctions;
      const [items] = await executeSyncBatch.call(context, client);
      return items.map((item) => item.json);
    },
    /** Switches to the static data of one execution (for overlapping executions). */
    useExecution(execution: IDataObject) {
      staticData = execution;
    },
    /** Write Metadata's part of the same execution: record one result per id. */
    record(results: ResultLike[]) {
      return recordCheckpointResults(staticDataOf, results, null);
    },
    state: async () => {
      const store = new FileStateStore(folder);
      return { checkpoint: await store.loadCheckpoint(), albumCache: await store.loadMembershipCache('albums'), batch: new StaticDataStateStore(staticDataOf).loadBatch() };
    },
  };
}

const unchanged = (ids: string[]): ResultLike[] => ids.map((assetId) => ({ assetId, status: 'unchanged', dryRun: false }));

test('a full pass is handed out in batches of Max Assets Per Run, resuming behind the last handled asset', async () => {
  const wf = workflow();
  const seen: string[] = [];
  const batchSizes: number[] = [];
  for (let run = 0; run < 5; run++) {
    const ids = await wf.search();
    batchSizes.push(ids.length);
    if (ids.length === 0) break;
    seen.push(...ids);
    expect((await wf.record(unchanged(ids))).recorded).toBe(true);
  }
  // listing order is fileCreatedAt ascending, which is index order in the synthetic library
  expect(batchSizes).toEqual([500, 500, 200, 0]);
  expect(seen).toEqual(Array.from({ length: ASSETS }, (_, i) => syntheticAssetId(i)));
  const { checkpoint, batch } = await wf.state();
  expect(checkpoint.pass).toBeNull();
  expect(checkpoint.lastFullPassStartedAt).not.toBeNull();
  expect(batch).toBeNull();
});

test('failed and missing results are retried first on the next run, then leave the retry list', async () => {
  const wf = workflow();
  const first = await wf.search({ maxAssetsPerRun: 10 });
  const [failing, missing, ...rest] = first;
  await wf.record([{ assetId: failing, status: 'failed', reason: 'disk full', dryRun: false }, ...unchanged(rest)]);
  const { checkpoint } = await wf.state();
  expect(checkpoint.retries[failing]).toMatchObject({ attempts: 1, lastError: 'disk full', parked: false });
  expect(checkpoint.retries[missing]).toMatchObject({ attempts: 1, lastError: MISSING_RESULT_REASON });
  expect(checkpoint.pass!.cursor!.idsAtCursor).toEqual([first[9]]);

  const second = await wf.search({ maxAssetsPerRun: 10 });
  expect(second.slice(0, 2).sort()).toEqual([failing, missing].sort());
  expect(second[2]).toBe(syntheticAssetId(10));
  await wf.record(second.map((assetId) => ({ assetId, status: 'written', dryRun: false })));
  expect((await wf.state()).checkpoint.retries).toEqual({});
});

test('a dry run does not move the checkpoint', async () => {
  const wf = workflow();
  const first = await wf.search({ maxAssetsPerRun: 5 });
  const outcome = await wf.record(first.map((assetId) => ({ assetId, status: 'written', dryRun: true })));
  expect(outcome.recorded).toBe(false);
  expect((await wf.state()).checkpoint.pass!.cursor).toBeNull();
  expect(await wf.search({ maxAssetsPerRun: 5 })).toEqual(first);
});

test('an incremental pass lists changed assets and every asset of a renamed person', async () => {
  const wf = workflow();
  const small = { maxAssetsPerRun: 5000 };
  await wf.record(unchanged(await wf.search(small)));
  expect(await wf.search(small)).toEqual([]); // nothing changed: the pass completes without a batch

  const person = [...synthetic.library.people.values()].find((p) => p.name === 'Person 1')!;
  synthetic.library.renamePerson(person.id, 'Person One');
  synthetic.library.setRating(syntheticAssetId(7), 5);
  const ids = await wf.search(small);
  const ofPerson = Array.from({ length: ASSETS }, (_, i) => i)
    .filter((i) => synthetic.library.asset(syntheticAssetId(i))!.faces.some((f) => f.personId === person.id))
    .map(syntheticAssetId);
  expect(ofPerson.length).toBeGreaterThan(0);
  expect(new Set(ids)).toEqual(new Set([syntheticAssetId(7), ...ofPerson]));
  expect((await wf.state()).checkpoint.pass).toMatchObject({ kind: 'incremental' });
});

test('Reset Checkpoint starts a new full pass', async () => {
  const wf = workflow();
  await wf.record(unchanged(await wf.search({ maxAssetsPerRun: 3 })));
  const again = await wf.search({ maxAssetsPerRun: 3, resetCheckpoint: true });
  expect(again).toEqual([0, 1, 2].map(syntheticAssetId));
});

const DAY_MS = 24 * 3600_000;

test('an album gaining or losing an asset is picked up by the next incremental run, well within the album cache TTL', async () => {
  const wf = workflow();
  const run = { maxAssetsPerRun: 5000, albumCacheTtlMs: DAY_MS };
  await wf.record(unchanged(await wf.search(run)));
  const albumsFetchedAt = (await wf.state()).albumCache!.fetchedAt;

  const album = synthetic.library.albumByName('Album 2')!;
  const asset = syntheticAssetId(15); // 15 mod 10 = 5: in no album of the synthetic library
  synthetic.library.addAssetToAlbum(album.id, asset);
  const afterAdd = await wf.search(run);
  expect(afterAdd).toContain(asset);
  expect((await wf.state()).albumCache!.fetchedAt).not.toBe(albumsFetchedAt);
  expect((await wf.state()).albumCache!.membership[asset]).toEqual(['Album 2']);
  await wf.record(unchanged(afterAdd));

  synthetic.library.removeAssetFromAlbum(album.id, asset);
  const afterRemove = await wf.search(run);
  expect(afterRemove).toContain(asset);
  expect((await wf.state()).albumCache!.membership[asset]).toBeUndefined();
  await wf.record(unchanged(afterRemove));
});

test('Clear Album Cache keeps the old membership as the baseline, so an album change made before is still found', async () => {
  const wf = workflow();
  const run = { maxAssetsPerRun: 5000, albumCacheTtlMs: DAY_MS };
  await wf.record(unchanged(await wf.search(run)));

  const album = synthetic.library.albumByName('Album 3')!;
  const asset = syntheticAssetId(26); // 26 mod 10 = 6: in no album
  synthetic.library.addAssetToAlbum(album.id, asset);
  try {
    const ids = await wf.search({ ...run, clearAlbumCache: true });
    expect(ids).toContain(asset);
    expect((await wf.state()).albumCache!.membership[asset]).toEqual(['Album 3']);
    await wf.record(unchanged(ids));
  } finally {
    synthetic.library.removeAssetFromAlbum(album.id, asset);
  }
});

test('regular mode (static data kept between executions) resumes the same way, with the checkpoint in the state folder only', async () => {
  const wf = workflow({ keepStaticData: true });
  const first = await wf.search({ maxAssetsPerRun: 10 });
  await wf.record(unchanged(first));
  const second = await wf.search({ maxAssetsPerRun: 10 });
  expect(second).toEqual(Array.from({ length: 10 }, (_, i) => syntheticAssetId(10 + i)));
  expect(fs.readdirSync(wf.folder)).toContain('checkpoint.json');
  // static data holds the batch in flight and where it came from, never the checkpoint
  const stored = wf.staticData[SYNC_STATE_KEY] as Record<string, unknown>;
  expect(stored.checkpoint ?? null).toBeNull();
  expect(stored.batchHome).toMatchObject({ stateFolder: wf.folder, lease: { owner: { pid: process.pid } } });
  await wf.record(unchanged(second));
  expect((await wf.state()).batch).toBeNull();
});

test('a checkpoint kept in static data by an earlier version is taken over once by the state folder', async () => {
  const wf = workflow({ keepStaticData: true });
  // progress of an earlier version: the first 25 assets handled, stored in static data
  let legacy = planRun(emptyCheckpoint(), { now: new Date(), mode: 'full' }).checkpoint;
  legacy = recordResults(
    legacy,
    Array.from({ length: 25 }, (_, i) => {
      const asset = synthetic.library.asset(syntheticAssetId(i))!;
      return { id: asset.id, fileCreatedAt: asset.fileCreatedAt, updatedAt: asset.updatedAt, origin: 'listing' as const, status: 'unchanged' as const };
    }),
    { now: new Date() },
  );
  await new StaticDataStateStore({ getWorkflowStaticData: () => wf.staticData }).saveCheckpoint(legacy);

  expect(await wf.search({ maxAssetsPerRun: 5 })).toEqual([25, 26, 27, 28, 29].map(syntheticAssetId));
  expect((wf.staticData[SYNC_STATE_KEY] as Record<string, unknown>).checkpoint).toBeNull();
  expect((await wf.state()).checkpoint.pass!.handled).toBe(25);
});

test('two workflows on one state root keep separate checkpoints', async () => {
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-wiring-state-'));
  const a = workflow({ stateRoot });
  const b = workflow({ stateRoot });
  expect(a.folder).not.toBe(b.folder);
  await a.record(unchanged(await a.search({ maxAssetsPerRun: 7 })));
  expect(await b.search({ maxAssetsPerRun: 3 })).toEqual([0, 1, 2].map(syntheticAssetId));
  expect(await a.search({ maxAssetsPerRun: 3 })).toEqual([7, 8, 9].map(syntheticAssetId));
});

test('two overlapping executions: the second backs off with one clear item while the first holds the lease; the next run continues behind the first', async () => {
  const wf = workflow();
  const first: IDataObject = {};
  const second: IDataObject = {};
  const a = await wf.searchItems({ maxAssetsPerRun: 10 }, first);
  expect(a).toHaveLength(10);
  const b = await wf.searchItems({ maxAssetsPerRun: 10 }, second);
  expect(b).toEqual([
    {
      syncBackedOff: true,
      message: expect.stringMatching(/^another run holds the library since \S+ \(host .+, pid \d+, n8n execution \d+; until \S+ unless renewed\); this run backs off$/),
      stateFolder: wf.folder,
      holder: expect.objectContaining({ owner: expect.objectContaining({ run: expect.stringMatching(/^n8n execution/) }) }),
    },
  ]);
  // the execution that backed off has no batch, so its Write Metadata would record nothing
  wf.useExecution(second);
  expect((await wf.record([])).hadBatch).toBe(false);
  wf.useExecution(first);
  expect((await wf.record(unchanged(a.map((json) => String(json.id))))).recorded).toBe(true);
  expect(fs.existsSync(path.join(wf.folder, 'lease.json'))).toBe(false);
  expect(await wf.search({ maxAssetsPerRun: 10 })).toEqual(Array.from({ length: 10 }, (_, i) => syntheticAssetId(10 + i)));
});

test('a batch with nothing to hand out releases the lease at once; so does a Write Metadata that fails before recording', async () => {
  // a library of its own that no other test changes, so that an incremental pass finds nothing
  const quiet = await startSimulator({ library: createSyntheticLibrary(20, { photoDir: path.join(os.tmpdir(), 'unused-photo-dir'), copyFiles: false }).library });
  const shared = client;
  client = new ImmichClient(new AxiosTransport({ url: quiet.url, apiKey: quiet.apiKey }), { pageSize: 250 });
  try {
    const wf = workflow();
    await wf.record(unchanged(await wf.search({ maxAssetsPerRun: 5000 })));
    expect(await wf.search({ maxAssetsPerRun: 5000 })).toEqual([]);
    expect(fs.existsSync(path.join(wf.folder, 'lease.json'))).toBe(false);

    expect(await wf.search({ maxAssetsPerRun: 5000, resetCheckpoint: true })).toHaveLength(20);
    expect(fs.existsSync(path.join(wf.folder, 'lease.json'))).toBe(true);
    await releaseBatchLease({ getWorkflowStaticData: () => wf.staticData });
    expect(fs.existsSync(path.join(wf.folder, 'lease.json'))).toBe(false);
    expect(quiet.violations()).toEqual([]);
  } finally {
    client = shared;
    await quiet.close();
  }
});

test('partitions 1 and 2 of 2, one workflow each: together they hand out every asset exactly once (union = all, intersection = none), each with its own checkpoint', async () => {
  const stateRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-wiring-state-'));
  const parts = [1, 2].map((index) => ({ index, wf: workflow({ stateRoot, workflowId: `partitioned-${index}`, partition: { index, count: 2 } }), seen: [] as string[] }));
  // interleaved runs, as two schedules would make them, each until its first (full) pass completes
  for (let run = 0; run < 6; run++) {
    for (const part of parts) {
      if ((await part.wf.state()).checkpoint.lastFullPassStartedAt) continue;
      const ids = await part.wf.search({ maxAssetsPerRun: 250 });
      part.seen.push(...ids);
      if (ids.length > 0) await part.wf.record(unchanged(ids));
    }
  }
  const [one, two] = parts.map((part) => part.seen);
  const all = Array.from({ length: ASSETS }, (_, i) => syntheticAssetId(i));
  expect(new Set([...one, ...two])).toEqual(new Set(all));
  expect(one.filter((id) => two.includes(id))).toEqual([]);
  expect(one.length + two.length).toBe(ASSETS);
  expect(one.every((id) => inPartition(id, { index: 1, count: 2 }))).toBe(true);
  // about half each, in listing order
  expect(Math.abs(one.length - ASSETS / 2)).toBeLessThan(ASSETS / 10);
  expect(one).toEqual(all.filter((id) => one.includes(id)));
  for (const part of parts) {
    const { checkpoint } = await part.wf.state();
    expect(checkpoint.pass).toBeNull();
    expect(checkpoint.lastFullPassStartedAt).not.toBeNull();
    expect(part.wf.folder).toMatch(new RegExp(`partition-${part.index}-of-2$`));
  }

  // an album change goes to the partition of the asset only; both passes still complete
  const asset = syntheticAssetId(35); // 35 mod 10 = 5: in no album of the synthetic library
  const album = synthetic.library.albumByName('Album 4')!;
  synthetic.library.addAssetToAlbum(album.id, asset);
  try {
    const next = await Promise.all(parts.map((part) => part.wf.search({ maxAssetsPerRun: 5000 })));
    const owner = inPartition(asset, { index: 1, count: 2 }) ? 0 : 1;
    expect(next[owner]).toContain(asset);
    expect(next[1 - owner]).not.toContain(asset);
    for (const [i, part] of parts.entries()) await part.wf.record(unchanged(next[i]));
    for (const part of parts) expect((await part.wf.state()).checkpoint.pass).toBeNull();
  } finally {
    synthetic.library.removeAssetFromAlbum(album.id, asset);
  }
});

test('a partition setting that cannot work stops with a clear error', async () => {
  const wf = workflow({ partition: { index: 3, count: 2 } });
  await expect(wf.search()).rejects.toThrow('Partition: partition must be between 1 and 2 (got 3)');
});
