/**
 * The template in n8n's queue mode with real parts, all started here on 127.0.0.1: Redis as the queue,
 * a throw-away PostgreSQL cluster as the shared database, one n8n main (EXECUTIONS_MODE=queue) that
 * only fires the schedule, and two `n8n worker` processes that run the executions. Each n8n process has
 * its own user folder with the package installed the manual community-node way. The template runs on a
 * short schedule with a small batch, so one pass over the sample library takes several executions,
 * spread over both workers: each of them must continue where the last one, on either worker, stopped.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExifTool } from 'exiftool-vendored';
import { createSampleLibrary, startSimulator, type SampleLibrary, type Simulator } from '../simulator';
import { findRepoRoot } from './n8nHarness';
import { QueueCluster } from './queueCluster';
import { readTail } from './queueServices';
import { fillInTemplate, loadTemplate, makeTreeWritable, SEARCH_NODE } from './templateEnvironment';

// setup (npm install, n8n's PostgreSQL migrations) takes 1-3 minutes on a loaded machine, the passes about one more
jest.setTimeout(8 * 60_000);

const WORKFLOW_ID = 'immichQueueMode01';
const BATCH = 4;
/**
 * Shorter than a batch takes: while one worker (one execution at a time) writes a batch, the next trigger goes to
 * the other, which backs off on the lease or takes the next batch. With a longer interval one worker may take all.
 */
const SCHEDULE_SECONDS = 1;
/** Cannot be written (slightly malformed): retried on later runs, so it is the one asset fetched more than once. */
const DAMAGED = 'future42603.mp4';

let workDir: string;
let sample: SampleLibrary;
let simulator: Simulator;
let cluster: QueueCluster | undefined;
const exiftool = new ExifTool({ taskTimeoutMillis: 30_000 });
const suiteStarted = Date.now();

const log = (message: string) => process.stderr.write(`[queue-e2e ${new Date().toISOString().slice(11, 19)}] ${message}\n`);

function fingerprint(): Map<string, string> {
  const prints = new Map<string, string>();
  for (const entry of sample.entries) {
    if (!fs.existsSync(entry.localPath)) continue;
    prints.set(entry.localPath, `${createHash('sha256').update(fs.readFileSync(entry.localPath)).digest('hex')}:${fs.statSync(entry.localPath).mtimeMs}`);
  }
  return prints;
}

/** How often each asset's details were fetched: once per asset the template handles. */
function detailFetches(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of simulator.requests()) {
    const match = request.method === 'GET' && /^\/assets\/([0-9a-f-]{36})$/.exec(request.path.replace(/^\/api/, ''));
    if (match) counts.set(match[1], (counts.get(match[1]) ?? 0) + 1);
  }
  return counts;
}

const executions = () => cluster!.executions(WORKFLOW_ID);

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const tails = [cluster!.main, ...cluster!.workers].map((n) => `--- ${n.logFile} ---\n${readTail(n.logFile, 15)}`).join('\n');
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.\nexecutions: ${JSON.stringify(await executions().catch(() => []))}\n${tails}`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function expectedAssetIds(): string[] {
  // the files Immich lists and has read: not the trashed one, nor the one whose metadata Immich has not extracted yet
  const ids = sample.entries
    .filter((e) => fs.existsSync(e.localPath) && !sample.library.asset(e.assetId)?.deletedAt && sample.library.asset(e.assetId)?.exif)
    .map((e) => e.assetId);
  return [...new Set(ids)].sort();
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-queue-e2e-'));
  fs.chmodSync(workDir, 0o755);
  sample = createSampleLibrary({ photoDir: path.join(workDir, 'library') });
  makeTreeWritable(sample.photoDir);
  simulator = await startSimulator({ library: sample.library, logLimit: 100_000 });

  const stateFolder = path.join(workDir, 'sync-state');
  cluster = await QueueCluster.create({ workDir, workers: 2, fileAccess: [stateFolder, sample.photoDir], log });

  const workflow = fillInTemplate(loadTemplate(findRepoRoot()), sample.photoDir, { dryRun: false, maxAssetsPerRun: BATCH, albumCacheTtlHours: 0, stateFolder });
  workflow.id = WORKFLOW_ID;
  const trigger = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.scheduleTrigger');
  if (!trigger) throw new Error('The template has no schedule trigger');
  trigger.parameters.rule = { interval: [{ field: 'seconds', secondsInterval: SCHEDULE_SECONDS }] };
  if (!('stateFolder' in workflow.nodes.find((n) => n.name === SEARCH_NODE)!.parameters)) throw new Error('The template has no State Folder on Search Assets');
  workflow.settings = { ...workflow.settings, saveDataSuccessExecution: 'all', saveDataErrorExecution: 'all' };

  log('importing credential and workflow into PostgreSQL, publishing the workflow');
  await cluster.importCredential(simulator.url, simulator.apiKey);
  await cluster.publish(workflow);
  await cluster.run();
  log(`n8n main pid ${cluster.mainPid}, workers ${cluster.workerPids.join(', ')}`);
}, 8 * 60_000);

afterAll(async () => {
  await exiftool.end();
  const alive = (await cluster?.stop()) ?? [];
  await simulator?.close();
  log(`all ${cluster?.processes.length ?? 0} processes stopped; suite took ${((Date.now() - suiteStarted) / 1000).toFixed(0)} s`);
  if (workDir && process.env.KEEP_E2E_DIR !== '1' && alive.length === 0) fs.rmSync(workDir, { recursive: true, force: true });
  if (alive.length > 0) throw new Error(`still running after afterAll: ${alive.join(', ')}`);
}, 2 * 60_000);

let afterFirstPass: Map<string, string>;

/** The shared state folder's checkpoint (the one every worker reads) says a full pass has completed. */
function firstPassCompleted(): boolean {
  const root = path.join(workDir, 'sync-state');
  const files = fs.existsSync(root) ? fs.readdirSync(root, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name === 'checkpoint.json') : [];
  return files.some((e) => JSON.parse(fs.readFileSync(path.join(e.parentPath, e.name), 'utf8')).lastFullPassStartedAt != null);
}

test('the schedule runs on the workers and one pass handles every asset exactly once', async () => {
  const expected = expectedAssetIds();
  const damagedId = sample.entry(DAMAGED).assetId;
  const before = fingerprint();
  // the pass is complete once every asset's details were fetched, or the fetches show a batch handed out twice
  const fetched = await waitFor(
    'one pass over the library',
    () => {
      const counts = detailFetches();
      const repeated = [...counts].filter(([id, n]) => id !== damagedId && n > 1);
      if (repeated.length > 0 || expected.every((id) => counts.has(id))) return counts;
      return undefined;
    },
    150_000,
  ).catch((error: Error) => {
    const counts = detailFetches();
    const missing = sample.entries.filter((e) => expected.includes(e.assetId) && !counts.has(e.assetId)).map((e) => e.sample);
    throw new Error(`never handled: ${missing.join(', ')}\n${error.message}`);
  });
  const repeated = [...fetched].filter(([id, n]) => id !== damagedId && n > 1).map(([id]) => sample.entries.find((e) => e.assetId === id)?.sample ?? id);
  expect(repeated).toEqual([]);
  expect([...fetched.keys()].sort()).toEqual(expected);

  // every asset was fetched; the pass is over once the last batch is written and recorded in the shared checkpoint
  await waitFor('the first full pass recorded as complete', () => (firstPassCompleted() ? true : undefined), 60_000);
  const runs = await executions();
  expect(runs.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / BATCH));
  expect(runs.every((r) => r.mode === 'trigger')).toBe(true);
  // both workers ran part of the pass, and the main ran none itself
  const byWorker = cluster!.finishedByWorker();
  expect(byWorker.map((ids) => ids.length > 0)).toEqual([true, true]);
  expect(fs.readFileSync(cluster!.main.logFile, 'utf8')).not.toMatch(/Worker (started|finished) execution/);

  // the photos read back right: people, albums and ratings as Immich has them
  afterFirstPass = fingerprint();
  const written = [...afterFirstPass.keys()].filter((file) => before.get(file) !== afterFirstPass.get(file));
  expect(written.length).toBeGreaterThan(5);
  const asList = (value: unknown): string[] => (value === undefined || value === null ? [] : Array.isArray(value) ? value.map(String) : [String(value)]);
  const portrait = await exiftool.read(sample.entry('portrait.jpg').localPath);
  expect(asList(portrait.PersonInImage)).toEqual(expect.arrayContaining(['Marie Curie', 'Pierre Curie']));
  for (const file of written) {
    const entry = sample.entries.find((e) => e.localPath === file)!;
    const tags = await exiftool.read(file);
    const albums = [...sample.library.albums.values()].filter((a) => a.assetIds.has(entry.assetId)).map((a) => `Albums|${a.albumName}`);
    expect(asList(tags.HierarchicalSubject)).toEqual(expect.arrayContaining(albums));
    const rating = sample.library.asset(entry.assetId)?.exif?.rating;
    if (typeof rating === 'number' && rating > 0) expect(tags.Rating).toBe(rating);
  }
  expect(simulator.violations()).toEqual([]);
});

test('the next pass writes nothing and fetches no asset again', async () => {
  const damagedId = sample.entry(DAMAGED).assetId;
  const fetchedBefore = detailFetches();
  const lastId = Math.max(0, ...(await executions()).map((r) => r.id));
  // three more finished executions: the rest of the first pass, then at least one run of the next
  await waitFor('three more executions', async () => ((await executions()).filter((r) => r.id > lastId && r.status !== 'running' && r.status !== 'new').length >= 3 ? true : undefined), 90_000);
  const again = [...detailFetches()].filter(([id, n]) => id !== damagedId && n > (fetchedBefore.get(id) ?? 0)).map(([id]) => id);
  expect(again).toEqual([]);
  const after = fingerprint();
  expect([...after.keys()].filter((file) => afterFirstPass.get(file) !== after.get(file))).toEqual([]);
  expect((await executions()).filter((r) => r.status === 'error' || r.status === 'crashed')).toEqual([]);
  expect(simulator.violations()).toEqual([]);
});
