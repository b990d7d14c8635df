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
import type { ChildProcess } from 'node:child_process';
import { ExifTool } from 'exiftool-vendored';
import { createSampleLibrary, startSimulator, type SampleLibrary, type Simulator } from '../simulator';
import { ensureN8n, findRepoRoot, freePort, N8nInstance, packPackage } from './n8nHarness';
import { fillInTemplate, loadTemplate, makeTreeWritable, SEARCH_NODE } from './templateEnvironment';
import { isAlive, readTail, startPostgres, startRedis, stopProcess, type Postgres, type Service } from './queueServices';

// setup (npm install, n8n's PostgreSQL migrations) takes 1-3 minutes on a loaded machine, the passes about one more
jest.setTimeout(8 * 60_000);

const WORKFLOW_ID = 'immichQueueMode01';
const CREDENTIAL = { id: 'immichSimulator01', name: 'Immich' };
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
let redis: Service;
let postgres: Postgres;
let main: N8nInstance;
let workers: N8nInstance[] = [];
const started: Array<{ name: string; process: ChildProcess }> = [];
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

/** Executions the workers finished, per worker, from their own logs ("Worker finished execution N"). */
function finishedByWorker(): number[][] {
  return workers.map((worker) => {
    const text = fs.existsSync(worker.logFile) ? fs.readFileSync(worker.logFile, 'utf8') : '';
    return [...text.matchAll(/Worker finished execution (\d+)/g)].map((m) => Number(m[1]));
  });
}

async function executions(): Promise<Array<{ id: number; status: string; mode: string }>> {
  const rows = await postgres.query(`select id, status, mode from execution_entity where "workflowId" = '${WORKFLOW_ID}' order by id`);
  return rows.map(([id, status, mode]) => ({ id: Number(id), status, mode }));
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const tails = [main, ...workers].map((n) => `--- ${n.logFile} ---\n${readTail(n.logFile, 15)}`).join('\n');
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

  redis = await startRedis(path.join(workDir, 'redis'));
  started.push({ name: 'redis-server', process: redis.process });
  postgres = await startPostgres(path.join(workDir, 'postgres'));
  started.push({ name: 'postgres', process: postgres.process });
  log(`redis on ${redis.port} (pid ${redis.process.pid}), postgres on ${postgres.port} (pid ${postgres.process.pid})`);

  const repoRoot = findRepoRoot();
  const { n8nBin } = ensureN8n(repoRoot);
  const shared = {
    EXECUTIONS_MODE: 'queue',
    QUEUE_BULL_REDIS_HOST: '127.0.0.1',
    QUEUE_BULL_REDIS_PORT: String(redis.port),
    DB_TYPE: 'postgresdb',
    DB_POSTGRESDB_HOST: '127.0.0.1',
    DB_POSTGRESDB_PORT: String(postgres.port),
    DB_POSTGRESDB_DATABASE: postgres.database,
    DB_POSTGRESDB_USER: postgres.user,
    DB_POSTGRESDB_PASSWORD: postgres.password,
    N8N_ENCRYPTION_KEY: createHash('sha256').update(workDir).digest('hex').slice(0, 48),
    // n8n 2.x lets nodes touch only these folders: the shared state folder first (the sync index's default
    // home is the first one), then the library every process mounts
    N8N_RESTRICT_FILE_ACCESS_TO: `${path.join(workDir, 'sync-state')};${sample.photoDir}`,
  };
  main = new N8nInstance({ n8nBin, userFolder: path.join(workDir, 'n8n-main'), env: shared });
  workers = [1, 2].map((n) => new N8nInstance({ n8nBin, userFolder: path.join(workDir, `n8n-worker${n}`), env: shared }));

  const tgz = await packPackage(repoRoot, path.join(workDir, 'pack'));
  log('installing the package into the user folder of main, copying that install to both workers');
  await main.installPackage(tgz);
  // the same npm install three times over costs minutes on a loaded machine; a copy of the folder is the same install
  for (const worker of workers) fs.cpSync(path.join(main.userFolder, '.n8n', 'nodes'), path.join(worker.userFolder, '.n8n', 'nodes'), { recursive: true });

  const workflow = fillInTemplate(loadTemplate(repoRoot), sample.photoDir, { dryRun: false, maxAssetsPerRun: BATCH, albumCacheTtlHours: 0 });
  workflow.id = WORKFLOW_ID;
  const trigger = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.scheduleTrigger');
  if (!trigger) throw new Error('The template has no schedule trigger');
  trigger.parameters.rule = { interval: [{ field: 'seconds', secondsInterval: SCHEDULE_SECONDS }] };
  const search = workflow.nodes.find((n) => n.name === SEARCH_NODE)!;
  if ('stateFolder' in search.parameters) search.parameters.stateFolder = path.join(workDir, 'sync-state');
  workflow.settings = { ...workflow.settings, saveDataSuccessExecution: 'all', saveDataErrorExecution: 'all' };

  log('importing credential and workflow into PostgreSQL, publishing the workflow');
  await main.importCredentials([{ ...CREDENTIAL, type: 'immichApi', data: { url: simulator.url, apiKey: simulator.apiKey } }]);
  await main.importWorkflow(workflow);
  await main.n8n(['publish:workflow', `--id=${WORKFLOW_ID}`], 'n8n publish:workflow');

  for (const [index, worker] of workers.entries()) started.push({ name: `n8n worker ${index + 1}`, process: await worker.startWorker(1) });
  started.push({ name: 'n8n main', process: await main.startServer(await freePort()) });
  log(`n8n main pid ${started[started.length - 1].process.pid}, workers ${started.slice(2, 4).map((s) => s.process.pid).join(', ')}`);
}, 8 * 60_000);

afterAll(async () => {
  await exiftool.end();
  // n8n first (main stops firing, workers finish their job), then the queue and the database
  for (const service of [...started].reverse()) await stopProcess(service.process);
  await simulator?.close();
  const alive = started.filter((s) => isAlive(s.process.pid as number)).map((s) => `${s.name} (pid ${s.process.pid})`);
  log(`all ${started.length} processes stopped; suite took ${((Date.now() - suiteStarted) / 1000).toFixed(0)} s`);
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
  const byWorker = finishedByWorker();
  expect(byWorker.map((ids) => ids.length > 0)).toEqual([true, true]);
  expect(fs.readFileSync(main.logFile, 'utf8')).not.toMatch(/Worker (started|finished) execution/);

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
