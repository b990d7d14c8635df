/**
 * The run loop against the Immich simulator (spec-validated) and real ExifTool on copies of the
 * sample photos: passes, incremental discovery of changes Immich does not stamp on the asset,
 * retries, interruption and resume, and how many requests each run costs.
 */
import type { ExifTool } from 'exiftool-vendored';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import type { AssetWriteResult } from '../../lib/files/types';
import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../cli/axiosTransport';
import type { ModuleName } from '../../lib/metadata/types';
import { runSync, RunSyncSettings, SyncRunError } from '../../lib/sync/runSync';
import { FileStateStore } from '../../lib/sync/stateStore';
import { createSampleLibrary, createSyntheticLibrary, SAMPLE_PEOPLE, startSimulator, type SampleLibrary, type Simulator, type SyntheticLibrary } from '../simulator';

jest.setTimeout(180_000);

let exiftool: ExifTool;
const temps: string[] = [];

beforeAll(() => {
  exiftool = createExifTool({ maxProcs: 2 });
});
afterAll(async () => {
  await exiftool.end();
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

/** Copies of shared/ keep its read-only mode; a user's library is writable. */
function makeWritable(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(full);
    else chmodSync(full, statSync(full).mode | 0o200);
  }
}

interface Setup {
  sim: Simulator;
  client: ImmichClient;
  store: FileStateStore;
  photoDir: string;
}

async function setup(library: SampleLibrary['library'], photoDir: string): Promise<Setup> {
  makeWritable(photoDir);
  const sim = await startSimulator({ library });
  const client = new ImmichClient(new AxiosTransport({ url: sim.url, apiKey: sim.apiKey, retry: { maxRetries: 1, baseDelayMs: 10 } }));
  return { sim, client, store: new FileStateStore(tempDir('sync-state-')), photoDir };
}

function settings(photoDir: string, modules: ModuleName[], extra: Partial<RunSyncSettings> = {}): RunSyncSettings {
  return {
    mode: 'incremental',
    modules,
    buildOptions: { modules },
    libraryPath: photoDir,
    mapping: { mode: 'lastSegments', segments: 3 },
    target: 'original',
    dryRun: false,
    concurrency: 3,
    clockSkewMarginMs: 0,
    albumCacheTtlMs: 0, // refetch membership every run, so album changes are seen at once
    ...extra,
  };
}

async function run(s: Setup, runSettings: RunSyncSettings, signal?: AbortSignal) {
  const results: AssetWriteResult[] = [];
  const summary = await runSync({ client: s.client, exiftool, store: s.store, settings: runSettings, onResult: (r) => results.push(r), signal, onEvent: (m) => process.env.SYNC_DEBUG && console.log(m) });
  return { summary, results, ids: results.map((r) => r.assetId).sort() };
}

/** Results other than "unchanged": an asset changed in the same millisecond a pass starts is listed once more, harmlessly. */
function changed(results: AssetWriteResult[]): AssetWriteResult[] {
  return results.filter((r) => r.status !== 'unchanged');
}

describe('runSync on the sample library', () => {
  let sample: SampleLibrary;
  let s: Setup;

  beforeAll(async () => {
    const photoDir = tempDir('sync-run-photos-');
    sample = createSampleLibrary({ photoDir });
    s = await setup(sample.library, photoDir);
  });
  afterAll(async () => {
    expect(s.sim.violations()).toEqual([]);
    await s.sim.close();
  });

  const modules: ModuleName[] = ['people', 'rating', 'caption', 'albums'];

  it('a first run is a full pass; a second incremental run lists nothing and fetches no asset', async () => {
    const first = await run(s, settings(s.photoDir, modules));
    expect(first.summary.passKind).toBe('full');
    expect(first.summary.passCompleted).toBe(true);
    expect(first.summary.failed).toBe(0);
    expect(first.summary.written).toBeGreaterThan(5);
    // Everything came from the listing and the membership maps: no per-asset request.
    expect(s.sim.requestCount('GET /assets/{id}')).toBe(0);
    const handledFirst = first.results.length;
    // From v3.2 on a face may come back without its person (shared face clusters), so the people module reads
    // each asset's faces once; before, the listing's people are enough.
    expect(s.sim.requestCount('GET /faces')).toBe(s.sim.api === '3.2' ? handledFirst : 0);
    expect(first.summary.written + first.summary.unchanged + first.summary.skipped).toBe(handledFirst);

    s.sim.resetRequests();
    const second = await run(s, settings(s.photoDir, modules));
    expect(second.summary.passKind).toBe('incremental');
    expect(second.results).toEqual([]);
    expect(s.sim.requestCount('GET /assets/{id}')).toBe(0);
  });

  it('an incremental run finds a renamed person, an album change and a new rating, though only the rating moves updatedAt', async () => {
    const portrait = sample.entry('portrait.jpg');
    const orientation6 = sample.entry('portrait-orientation-6.jpg');
    const solvay = sample.entry('solvay.jpg');
    const picasa = sample.entry('picasa.jpg');
    const cyclamen = sample.entry('cyclamen_persicum.jpg');
    const before = sample.library.asset(portrait.assetId)!.updatedAt;
    sample.library.renamePerson(SAMPLE_PEOPLE.marie.id, 'Maria Skłodowska-Curie');
    expect(sample.library.asset(portrait.assetId)!.updatedAt).toBe(before);
    sample.library.addAssetToAlbum(sample.library.albumByName('Nature')!.id, picasa.assetId);
    sample.library.setRating(cyclamen.assetId, 4);

    const inc = await run(s, settings(s.photoDir, modules));
    expect(inc.summary.passKind).toBe('incremental');
    expect(inc.summary.failed).toBe(0);
    const written = inc.results.filter((r) => r.status === 'written').map((r) => r.assetId).sort();
    expect(written).toEqual([portrait.assetId, orientation6.assetId, solvay.assetId, picasa.assetId, cyclamen.assetId].sort());
    const portraitResult = inc.results.find((r) => r.assetId === portrait.assetId)!;
    expect(JSON.stringify(portraitResult.changes)).toContain('Maria Skłodowska-Curie');
    const picasaResult = inc.results.find((r) => r.assetId === picasa.assetId)!;
    expect(JSON.stringify(picasaResult.changes)).toContain('Nature');

    // The next incremental pass starts a little before the last one did (clock skew between us and Immich
    // may only cost a re-check), so on a slow machine the changes just made (the rating, the renamed
    // person's assets) can be listed once more: only those, and then they are left unchanged.
    const quiet = await run(s, settings(s.photoDir, modules));
    expect(quiet.results.filter((r) => r.status !== 'unchanged')).toEqual([]);
    const recheckable = new Set([portrait.assetId, orientation6.assetId, solvay.assetId, cyclamen.assetId]);
    expect(quiet.results.map((r) => r.assetId).filter((id) => !recheckable.has(id))).toEqual([]);
  });

  it('a dry run reports changes but moves neither files nor the checkpoint', async () => {
    const cyclamen = sample.entry('cyclamen_persicum.jpg');
    sample.library.setRating(cyclamen.assetId, 1);
    const checkpointBefore = JSON.stringify(await s.store.loadCheckpoint());
    const mtime = statSync(cyclamen.localPath).mtimeMs;
    const dry = await run(s, settings(s.photoDir, modules, { dryRun: true }));
    expect(changed(dry.results).map((r) => [r.assetId, r.status, r.dryRun])).toEqual([[cyclamen.assetId, 'written', true]]);
    expect(statSync(cyclamen.localPath).mtimeMs).toBe(mtime);
    expect(JSON.stringify(await s.store.loadCheckpoint())).toBe(checkpointBefore);
    // The real run afterwards still sees the change.
    const real = await run(s, settings(s.photoDir, modules));
    expect(changed(real.results).map((r) => [r.assetId, r.status])).toEqual([[cyclamen.assetId, 'written']]);
  });

  it('a failed asset is retried on the next run and leaves the retry list once it succeeds', async () => {
    const thompson = sample.entry('thompson-springs.jpg');
    sample.library.setRating(thompson.assetId, 1);
    chmodSync(thompson.localPath, 0o444);
    const failing = await run(s, settings(s.photoDir, modules));
    expect(changed(failing.results).map((r) => [r.assetId, r.status])).toEqual([[thompson.assetId, 'failed']]);
    expect(failing.summary.passCompleted).toBe(true);
    const checkpoint = await s.store.loadCheckpoint();
    expect(checkpoint.retries[thompson.assetId]).toMatchObject({ attempts: 1, parked: false });

    chmodSync(thompson.localPath, 0o644);
    s.sim.resetRequests();
    const retried = await run(s, settings(s.photoDir, modules));
    expect(changed(retried.results).map((r) => [r.assetId, r.status])).toEqual([[thompson.assetId, 'written']]);
    // A retry is fetched by id.
    expect(s.sim.requestCount('GET /assets/{id}')).toBe(1);
    expect((await s.store.loadCheckpoint()).retries).toEqual({});
  });

  it('a failed asset that was trashed meanwhile is skipped on retry and leaves the retry list', async () => {
    const denali = sample.entry('denali.webp');
    sample.library.setRating(denali.assetId, 3);
    chmodSync(denali.localPath, 0o444);
    const failing = await run(s, settings(s.photoDir, modules));
    expect(changed(failing.results).map((r) => [r.assetId, r.status])).toEqual([[denali.assetId, 'failed']]);
    sample.library.trashAsset(denali.assetId);
    const retried = await run(s, settings(s.photoDir, modules));
    const result = retried.results.find((r) => r.assetId === denali.assetId)!;
    expect(result.status).toBe('skipped');
    expect(result.reason).toMatch(/trash/);
    expect((await s.store.loadCheckpoint()).retries).toEqual({});
    chmodSync(denali.localPath, 0o644);
  });

  it('face regions need one GET /faces per asset on v3 (the listing carries the rest); other modules need none', async () => {
    s.sim.resetRequests();
    const full = await run(s, settings(s.photoDir, ['faces'], { mode: 'full' }));
    expect(full.summary.failed).toBe(0);
    expect(s.sim.requestCount('GET /assets/{id}')).toBe(0);
    expect(s.sim.requestCount('GET /faces')).toBe(full.results.length);
    const solvay = full.results.find((r) => r.assetId === sample.entry('solvay.jpg').assetId)!;
    expect(solvay.status).toBe('written');
  });

  it('stops the run when Immich rejects the key, keeping what was done', async () => {
    sample.library.setRating(sample.entry('picasa.jpg').assetId, 2);
    s.sim.inject({ route: 'GET /faces', kind: 'status', status: 401, times: 5 });
    const attempt = runSync({ client: s.client, exiftool, store: s.store, settings: settings(s.photoDir, ['faces', 'rating']) });
    await expect(attempt).rejects.toBeInstanceOf(SyncRunError);
    await expect(attempt).rejects.toThrow(/API key/);
    // Nothing was recorded as failed for the asset: the run stopped instead.
    expect((await s.store.loadCheckpoint()).retries).toEqual({});
    s.sim.clearFaults();
    const after = await run(s, settings(s.photoDir, ['faces', 'rating'], { mode: 'resume' }));
    expect(after.results.filter((r) => r.status === 'written').map((r) => r.assetId)).toContain(sample.entry('picasa.jpg').assetId);
  });

  it('a face reassignment changes no timestamp: incremental runs miss it, the periodic full reconcile catches it', async () => {
    // The stored progress was made for other modules (faces, rating): back to this block's modules
    // is a full pass, since those assets never had their albums or captions checked under that scope.
    const settle = await run(s, settings(s.photoDir, modules));
    expect(settle.summary.passKind).toBe('full');
    expect(settle.summary.failed).toBe(0);
    const portrait = sample.entry('portrait.jpg');
    const ml = sample.library.asset(portrait.assetId)!.faces.find((f) => f.sourceType === 'machine-learning')!;
    sample.library.assignFace(ml.id, SAMPLE_PEOPLE.einstein.id);
    await new Promise((resolve) => setTimeout(resolve, 5)); // let the simulator's clock fall behind ours again
    const inc = await run(s, settings(s.photoDir, modules, { fullReconcileEveryDays: 7 }));
    expect(inc.summary.passKind).toBe('incremental');
    expect(changed(inc.results)).toEqual([]);
    // Eight days later (last in this block: the pass start now lies in the future) the same incremental run becomes a full pass.
    const later = (): Date => new Date(Date.now() + 8 * 24 * 3600 * 1000);
    const reconcile = await run(s, settings(s.photoDir, modules, { fullReconcileEveryDays: 7, now: later }));
    expect(reconcile.summary).toMatchObject({ passKind: 'full', reconcileDue: true, passCompleted: true, failed: 0 });
    const portraitResult = reconcile.results.find((r) => r.assetId === portrait.assetId)!;
    expect(portraitResult.status).toBe('written');
    expect(JSON.stringify(portraitResult.changes)).toContain('Albert Einstein');
    // The reconcile re-listed everything, yet only the changed file was rewritten.
    expect(changed(reconcile.results).map((r) => r.assetId)).toEqual([portrait.assetId]);
  });
});

describe('runSync on a synthetic library: bounded runs, interruption, resume', () => {
  const N = 120;
  let syn: SyntheticLibrary;
  let s: Setup;

  beforeAll(async () => {
    const photoDir = tempDir('sync-syn-photos-');
    syn = createSyntheticLibrary(N, { photoDir, copyFiles: true });
    s = await setup(syn.library, photoDir);
  });
  afterAll(async () => {
    expect(s.sim.violations()).toEqual([]);
    await s.sim.close();
  });

  it('runs bounded by maxAssets, with small pages and an abort, together handle every asset exactly once', async () => {
    const seen: string[] = [];
    const base = settings(s.photoDir, ['rating', 'caption'], { mode: 'resume', pageSize: 7, maxAssets: 25 });
    let result = await run(s, { ...base, mode: 'full' });
    seen.push(...result.ids);
    expect(result.ids).toHaveLength(25);
    expect(result.summary.passCompleted).toBe(false);

    // Abort in the middle of a run: assets in flight finish and are recorded, nothing after them.
    const controller = new AbortController();
    const aborted: string[] = [];
    const summary = await runSync({
      client: s.client,
      exiftool,
      store: s.store,
      settings: { ...base, maxAssets: undefined },
      signal: controller.signal,
      onResult: (r) => {
        aborted.push(r.assetId);
        if (aborted.length === 10) controller.abort();
      },
    });
    expect(summary.interrupted).toBe(true);
    expect(aborted.length).toBeGreaterThanOrEqual(10);
    expect(aborted.length).toBeLessThan(10 + 3 + 1);
    seen.push(...aborted);

    for (let i = 0; i < 10; i++) {
      result = await run(s, base);
      seen.push(...result.ids);
      if (result.summary.passCompleted) break;
    }
    expect(result.summary.passCompleted).toBe(true);
    expect(new Set(seen).size).toBe(N);
    expect(seen).toHaveLength(N);
  });

  it('an asset changed after the pass went past it is caught by the next incremental pass', async () => {
    const target = 'a5e70000-0000-4000-8000-000000000003';
    syn.library.setDescription(target, 'changed later');
    const inc = await run(s, settings(s.photoDir, ['rating', 'caption']));
    expect(changed(inc.results).map((r) => [r.assetId, r.status])).toEqual([[target, 'written']]);
  });
});

describe('runSync notices album changes before the album cache expires', () => {
  let sample: SampleLibrary;
  let s: Setup;

  beforeAll(async () => {
    const photoDir = tempDir('sync-run-albums-');
    sample = createSampleLibrary({ photoDir });
    s = await setup(sample.library, photoDir);
  });
  afterAll(async () => {
    expect(s.sim.violations()).toEqual([]);
    await s.sim.close();
  });

  it('an asset added to or removed from an album is written by the next incremental run with a 24 h TTL', async () => {
    const modules: ModuleName[] = ['albums'];
    const runSettings = settings(s.photoDir, modules, { albumCacheTtlMs: 24 * 3600 * 1000 });
    const first = await run(s, runSettings);
    expect(first.summary.passKind).toBe('full');
    expect(first.summary.failed).toBe(0);
    const fetchedAt = (await s.store.loadMembershipCache('albums'))!.fetchedAt;

    const nature = sample.library.albumByName('Nature')!;
    const picasa = sample.entry('picasa.jpg');
    expect(nature.assetIds.has(picasa.assetId)).toBe(false);
    sample.library.addAssetToAlbum(nature.id, picasa.assetId);
    s.sim.resetRequests();
    const added = await run(s, runSettings);
    expect(added.summary.passKind).toBe('incremental');
    expect(changed(added.results).map((r) => [r.assetId, r.status])).toEqual([[picasa.assetId, 'written']]);
    expect(JSON.stringify(added.results.find((r) => r.assetId === picasa.assetId)!.changes)).toContain('Nature');
    expect((await s.store.loadMembershipCache('albums'))!.fetchedAt).not.toBe(fetchedAt);
    // The change check's album listing also serves the refresh: one GET /albums in the run.
    expect(s.sim.requestCount('GET /albums')).toBe(1);

    sample.library.removeAssetFromAlbum(nature.id, picasa.assetId);
    const removed = await run(s, runSettings);
    expect(changed(removed.results).map((r) => [r.assetId, r.status])).toEqual([[picasa.assetId, 'written']]);
    expect((await s.store.loadMembershipCache('albums'))!.membership[picasa.assetId]).toBeUndefined();

    // The simulator's clock may run a few ms ahead of the run that just started, so one more run lets
    // the cache settle; after it nothing changed: the cache is kept and the check costs one GET /albums.
    expect(changed((await run(s, runSettings)).results)).toEqual([]);
    const cachedAt = (await s.store.loadMembershipCache('albums'))!.fetchedAt;
    s.sim.resetRequests();
    const quiet = await run(s, runSettings);
    expect(changed(quiet.results)).toEqual([]);
    expect(s.sim.requestCount('GET /albums')).toBe(1);
    expect(s.sim.requestCount('GET /assets/{id}')).toBe(0);
    expect((await s.store.loadMembershipCache('albums'))!.fetchedAt).toBe(cachedAt);
  });
});

describe('runSync face regions: one request per asset on v3, the same regions as full details', () => {
  const regionTags = (tags: Record<string, unknown>): Record<string, unknown> =>
    Object.fromEntries(Object.entries(tags).filter(([key]) => /^(Region|PersonInImage)/.test(key)));

  async function facesRun(mode: 'v2' | 'v3', library: SampleLibrary['library'] | SyntheticLibrary['library'], photoDir: string) {
    makeWritable(photoDir);
    const sim = await startSimulator({ library, mode });
    try {
      const client = new ImmichClient(new AxiosTransport({ url: sim.url, apiKey: sim.apiKey, retry: { maxRetries: 1, baseDelayMs: 10 } }));
      const s: Setup = { sim, client, store: new FileStateStore(tempDir('sync-faces-state-')), photoDir };
      const outcome = await run(s, settings(photoDir, ['faces'], { mode: 'full' }));
      expect(sim.violations()).toEqual([]);
      return { ...outcome, requests: sim.requestCounts(), total: sim.requestCount() };
    } finally {
      await sim.close();
    }
  }

  it('a v3 run with face regions costs at most 1.05 requests per asset (GET /faces only, no GET /assets/{id})', async () => {
    const N = 120;
    const syn = createSyntheticLibrary(N, { photoDir: tempDir('sync-faces-syn-'), copyFiles: true });
    const v3 = await facesRun('v3', syn.library, syn.photoDir);
    expect(v3.summary.failed).toBe(0);
    expect(v3.results.length).toBe(N);
    expect(v3.summary.written).toBeGreaterThan(0);
    expect(v3.requests['GET /assets/{id}'] ?? 0).toBe(0);
    expect(v3.requests['GET /faces']).toBe(N);
    const perAsset = v3.total / N;
    if (process.env.SYNC_DEBUG) console.log(`faces on v3: ${v3.total} requests for ${N} assets = ${perAsset.toFixed(3)}/asset`, v3.requests);
    expect(perAsset).toBeLessThanOrEqual(1.05);
  });

  it('the regions written from the search item + GET /faces (v3) equal those from full details (v2)', async () => {
    const viaFaces = createSampleLibrary({ photoDir: tempDir('sync-faces-v3-') });
    const viaDetails = createSampleLibrary({ photoDir: tempDir('sync-faces-v2-') });
    const v3 = await facesRun('v3', viaFaces.library, viaFaces.photoDir);
    const v2 = await facesRun('v2', viaDetails.library, viaDetails.photoDir);
    expect(v3.summary.failed).toBe(0);
    expect(v2.summary.failed).toBe(0);
    expect(v2.requests['GET /assets/{id}']).toBe(v2.results.length);
    // Only assets edited in Immich take the full details on v3: their edits map the face boxes back.
    const edited = v3.results.filter((r) => viaFaces.library.asset(r.assetId)?.isEdited).length;
    expect(edited).toBeGreaterThan(0);
    expect(v3.requests['GET /assets/{id}'] ?? 0).toBe(edited);
    expect(v3.requests['GET /assets/{id}/edits'] ?? 0).toBe(edited);
    // Immich 2.x searches only the timeline without `visibility`; v3 also lists archived and hidden assets
    const v2Ids = new Set(v2.results.map((x) => x.assetId));
    const v3Only = v3.results.filter((x) => !v2Ids.has(x.assetId)).map((x) => viaFaces.library.asset(x.assetId)!.visibility);
    expect(v3Only.sort()).toEqual(['archive', 'hidden']);
    const statuses = (r: typeof v3) => Object.fromEntries(r.results.filter((x) => v2Ids.has(x.assetId)).map((x) => [x.assetId, x.status]));
    expect(statuses(v3)).toEqual(statuses(v2));
    let withRegions = 0;
    for (const entry of viaFaces.entries) {
      const other = viaDetails.entry(entry.sample);
      if (!/\.(jpe?g)$/i.test(entry.localPath)) continue;
      const a = regionTags((await exiftool.read(entry.localPath)) as unknown as Record<string, unknown>);
      const b = regionTags((await exiftool.read(other.localPath)) as unknown as Record<string, unknown>);
      expect({ file: entry.sample, regions: a }).toEqual({ file: entry.sample, regions: b });
      if (a.RegionInfo) withRegions++;
    }
    // Faces were really written, so the comparison compared something.
    expect(withRegions).toBeGreaterThan(0);
  });
});
