/**
 * The checkpoint wiring between Search Assets (sync-batch mode) and Write Metadata, driven against the
 * spec-checking Immich simulator through the real client, with static data held the way n8n hands it
 * to nodes (one object per workflow). The full n8n round trip is in template.e2e.test.ts.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../cli/axiosTransport';
import type { IDataObject } from 'n8n-workflow';
import { parseAlbumCache } from '../../lib/sync/albumCache';
import { parseCheckpoint } from '../../lib/sync/checkpoint';
import { MISSING_RESULT_REASON, parseWorkBatch } from '../../lib/sync/recorder';
import { StaticDataStateStore, SYNC_STATE_KEY } from '../../nodes/shared/staticDataStore';
import { planSyncBatch, type SyncBatchSettings } from '../../nodes/ImmichSearchAssets/checkpointMode';
import { recordCheckpointResults, type ResultLike } from '../../nodes/ImmichWriteMetadata/checkpointRecord';
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

/** A workflow's static data and the two nodes' views of it. */
function workflow() {
  const staticData: IDataObject = {};
  const context = { getWorkflowStaticData: () => staticData };
  const settings: SyncBatchSettings = { maxAssetsPerRun: 500, fullReconcileEveryDays: 7, albumCacheTtlMs: 0, resetCheckpoint: false, clearAlbumCache: false };
  return {
    staticData,
    /** Search Assets' part of a run: plan, save, return the emitted ids. */
    async search(overrides: Partial<SyncBatchSettings> = {}, now = new Date()): Promise<string[]> {
      const planned = await planSyncBatch(client, new StaticDataStateStore(context), { ...settings, ...overrides }, now);
      return planned.items.map((item) => item.id);
    },
    /** Write Metadata's part: record one result per id. */
    record(results: ResultLike[]) {
      return recordCheckpointResults(context, results, null);
    },
    state: () => {
      const stored = (staticData[SYNC_STATE_KEY] ?? {}) as Record<string, unknown>;
      return { checkpoint: parseCheckpoint(stored.checkpoint), albumCache: parseAlbumCache(stored.albumCache), batch: parseWorkBatch(stored.batch) };
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
  const { checkpoint, batch } = wf.state();
  expect(checkpoint.pass).toBeNull();
  expect(checkpoint.lastFullPassStartedAt).not.toBeNull();
  expect(batch).toBeNull();
});

test('failed and missing results are retried first on the next run, then leave the retry list', async () => {
  const wf = workflow();
  const first = await wf.search({ maxAssetsPerRun: 10 });
  const [failing, missing, ...rest] = first;
  await wf.record([{ assetId: failing, status: 'failed', reason: 'disk full', dryRun: false }, ...unchanged(rest)]);
  const { checkpoint } = wf.state();
  expect(checkpoint.retries[failing]).toMatchObject({ attempts: 1, lastError: 'disk full', parked: false });
  expect(checkpoint.retries[missing]).toMatchObject({ attempts: 1, lastError: MISSING_RESULT_REASON });
  expect(checkpoint.pass!.cursor!.idsAtCursor).toEqual([first[9]]);

  const second = await wf.search({ maxAssetsPerRun: 10 });
  expect(second.slice(0, 2).sort()).toEqual([failing, missing].sort());
  expect(second[2]).toBe(syntheticAssetId(10));
  await wf.record(second.map((assetId) => ({ assetId, status: 'written', dryRun: false })));
  expect(wf.state().checkpoint.retries).toEqual({});
});

test('a dry run does not move the checkpoint', async () => {
  const wf = workflow();
  const first = await wf.search({ maxAssetsPerRun: 5 });
  const outcome = await wf.record(first.map((assetId) => ({ assetId, status: 'written', dryRun: true })));
  expect(outcome.recorded).toBe(false);
  expect(wf.state().checkpoint.pass!.cursor).toBeNull();
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
  expect(wf.state().checkpoint.pass).toMatchObject({ kind: 'incremental' });
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
  const albumsFetchedAt = wf.state().albumCache!.fetchedAt;

  const album = synthetic.library.albumByName('Album 2')!;
  const asset = syntheticAssetId(15); // 15 mod 10 = 5: in no album of the synthetic library
  synthetic.library.addAssetToAlbum(album.id, asset);
  const afterAdd = await wf.search(run);
  expect(afterAdd).toContain(asset);
  expect(wf.state().albumCache!.fetchedAt).not.toBe(albumsFetchedAt);
  expect(wf.state().albumCache!.membership[asset]).toEqual(['Album 2']);
  await wf.record(unchanged(afterAdd));

  synthetic.library.removeAssetFromAlbum(album.id, asset);
  const afterRemove = await wf.search(run);
  expect(afterRemove).toContain(asset);
  expect(wf.state().albumCache!.membership[asset]).toBeUndefined();
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
    expect(wf.state().albumCache!.membership[asset]).toEqual(['Album 3']);
    await wf.record(unchanged(ids));
  } finally {
    synthetic.library.removeAssetFromAlbum(album.id, asset);
  }
});
