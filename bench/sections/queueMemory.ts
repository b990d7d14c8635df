/**
 * Memory per execution in n8n's queue mode, for small hosts: Redis, a throw-away PostgreSQL, one n8n main
 * and one `n8n worker` on 127.0.0.1 (test/e2e/queueCluster.ts), this package installed in both. The template
 * runs one batch of 100 / 500 / 2,000 assets per execution, triggered through a production webhook on the
 * main, executed by the worker. Sampled every 100 ms: the main's and the worker's own RSS and the worker's
 * whole tree (worker, task runner, ExifTool). Baseline, in the same run: both processes while the worker runs
 * a workflow that only starts (n8n with this package loaded and nothing to do).
 *
 * Then the same batches on a worker started inside a 1 GiB memory cgroup, as `docker run --memory=1g` or a
 * 1 GB NAS gives it: Node sizes its heap from that limit, and going over it ends in the OOM killer. A batch
 * size "fits 1 GB" when its execution succeeds there with every asset handed out and nobody killed.
 *
 * Every batch starts from fresh copies of the files (its own workflow copy and checkpoint, the library copied
 * again), so each one writes all of its assets.
 */
import { randomUUID } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { setTimeout as sleep } from 'timers/promises';

import { ensureN8n, findRepoRoot, type N8nNode, type N8nWorkflow } from '../../test/e2e/n8nHarness';
import { QueueCluster } from '../../test/e2e/queueCluster';
import { isAlive } from '../../test/e2e/queueServices';
import { fillInTemplate, loadTemplate, SEARCH_NODE, SUMMARY_NODE, type TemplateSummary } from '../../test/e2e/templateEnvironment';
import type { Figure } from '../figures';
import { mib, rssOf, TreeRssSampler } from '../memory';
import { limitedFigures, peakBesideIdle, type LimitedBatch } from '../memoryFigures';
import { AnonPeakSampler, createMemoryLimit, memoryLimitUnavailable, type MemoryLimit } from '../memoryLimit';
import type { BenchScale } from '../scale';
import { simulatedLibrary } from '../simulated';
import { firstOutput, materialized, storedRunData, type RunData } from './endToEnd';
import type { SectionOutcome } from './index';

const SECTION = '9 queue-mode memory';
const ONE_GIB = 1024 ** 3;
const IDLE_WORKFLOW = 'immichBenchQIdle';
const TRIGGER = 'Bench Webhook';

interface BatchMeasure {
  assets: number; // handed out by Search Assets
  status: string;
  seconds: number;
  mainPeakBytes: number;
  workerPeakBytes: number;
  workerTreePeakBytes: number;
  /** The worker's RSS a few seconds after the execution ended: what it keeps between executions. */
  workerAfterBytes: number;
  storedBytes: number;
  /** JSON bytes per asset of each node's output items, from the stored run data. */
  itemBytesPerAsset: Record<string, number>;
  summary: TemplateSummary | null;
}

interface LimitedMeasure extends BatchMeasure {
  size: number; // Max Assets Per Run of the batch (assets: what was handed out, 0 when the worker was killed)
  cgroupPeakBytes: number | null; // everything charged: every process's memory, each page once, and page cache
  anonPeakBytes: number; // what cannot be reclaimed: heaps and stacks of every process in the cgroup
  limitHits: number;
  oomKills: number;
}

/** The template with a webhook (path: the workflow id) in place of the hourly schedule: the bench decides when an execution starts. */
function webhookWorkflow(base: N8nWorkflow, id: string): N8nWorkflow {
  const workflow = structuredClone(base);
  workflow.id = id;
  workflow.name = `${workflow.name} (${id})`;
  const schedule = workflow.nodes.find((n) => n.type === 'n8n-nodes-base.scheduleTrigger');
  if (schedule) {
    workflow.nodes = workflow.nodes.filter((n) => n !== schedule);
    delete (workflow.connections as Record<string, unknown>)[schedule.name];
  }
  workflow.nodes.push(webhookNode(id, [-200, 200]));
  (workflow.connections as Record<string, unknown>)[TRIGGER] = { main: [[{ node: SEARCH_NODE, type: 'main', index: 0 }]] };
  workflow.settings = { ...workflow.settings, saveDataSuccessExecution: 'all', saveDataErrorExecution: 'all' };
  return workflow;
}

function webhookNode(hookPath: string, position: [number, number]): N8nNode {
  return {
    id: randomUUID(),
    name: TRIGGER,
    type: 'n8n-nodes-base.webhook',
    typeVersion: 2,
    position,
    webhookId: randomUUID(),
    parameters: { httpMethod: 'POST', path: hookPath, responseMode: 'onReceived', options: {} },
  };
}

class QueueBench {
  private readonly seen = new Set<number>();

  constructor(
    private readonly cluster: QueueCluster,
    private readonly n8nBin: string,
  ) {}

  /** POSTs to a production webhook of the main until it is registered (the main may still be starting). */
  private async trigger(hookPath: string, timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${this.cluster.mainUrl}/webhook/${hookPath}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
        if (response.ok) return;
        last = `HTTP ${response.status} ${(await response.text()).slice(0, 200)}`;
      } catch (error) {
        last = (error as Error).message;
      }
      await sleep(1000);
    }
    throw new Error(`the n8n main did not accept POST /webhook/${hookPath} within ${timeoutMs} ms (${last})`);
  }

  /**
   * Waits for the next execution of a workflow to end. A worker the OOM killer ended leaves its execution
   * "running" with nobody to finish it: that is an outcome too, not a wait until the timeout.
   */
  private async finished(workflowId: string, workerPid: number, timeoutMs: number): Promise<{ id: number | null; status: string }> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!isAlive(workerPid)) return { id: null, status: 'worker killed' };
      const done = (await this.cluster.executions(workflowId)).find((e) => !this.seen.has(e.id) && !['new', 'running', 'waiting'].includes(e.status));
      if (done) {
        this.seen.add(done.id);
        return done;
      }
      await sleep(500);
    }
    throw new Error(`no execution of ${workflowId} ended within ${timeoutMs} ms`);
  }

  /**
   * One execution of a workflow on the worker (its webhook path is the workflow id), with the main, the worker and
   * the worker's tree sampled throughout.
   */
  async measure(workflowId: string, workerPid: number): Promise<BatchMeasure> {
    const main = new TreeRssSampler(this.cluster.mainPid, true, 100).start();
    const worker = new TreeRssSampler(workerPid, true, 100).start();
    const started = Date.now();
    let execution;
    let workerTreePeakBytes = 0;
    try {
      await this.trigger(workflowId);
      execution = await this.finished(workflowId, workerPid, 30 * 60_000);
    } finally {
      main.stop();
      workerTreePeakBytes = worker.stop();
    }
    const seconds = (Date.now() - started) / 1000;
    await sleep(3000);
    const workerAfterBytes = rssOf(workerPid);
    const rows = execution.id === null ? [] : await this.cluster.postgres.query(`select length(data), data from execution_data where "executionId" = ${execution.id}`);
    const runData: RunData = rows.length > 0 ? storedRunData(this.n8nBin, rows[0][1]) : {};
    const assets = firstOutput({ runData }, SEARCH_NODE).length;
    const itemBytesPerAsset: Record<string, number> = {};
    for (const node of Object.keys(runData)) {
      const items = firstOutput({ runData }, node);
      if (assets > 0 && items.length > 0) itemBytesPerAsset[node] = Math.round(Buffer.byteLength(JSON.stringify(items.map((i) => i.json))) / assets);
    }
    return {
      assets,
      status: execution.status,
      seconds,
      mainPeakBytes: main.rootPeak(),
      workerPeakBytes: worker.rootPeak(),
      workerTreePeakBytes,
      workerAfterBytes,
      storedBytes: rows.length > 0 ? Number(rows[0][0]) : 0,
      itemBytesPerAsset,
      summary: (firstOutput({ runData }, SUMMARY_NODE)[0]?.json as unknown as TemplateSummary | undefined) ?? null,
    };
  }

  /**
   * Waits until n8n's start-up has passed: the RSS of every given process moved less than 2% over 10 s (at most
   * two minutes). The main peaks while it starts (migrations, loading every node type) and gives much of it back.
   */
  async settle(pids: number[]): Promise<void> {
    const deadline = Date.now() + 120_000;
    let before = pids.map(rssOf);
    while (Date.now() < deadline) {
      await sleep(10_000);
      const now = pids.map(rssOf);
      if (now.every((rss, i) => Math.abs(rss - before[i]) <= 0.02 * before[i])) return;
      before = now;
    }
  }

  /** Waits until the worker has taken a job: the idle workflow run once end to end. */
  async warmUp(workerPid: number): Promise<BatchMeasure> {
    return this.measure(IDLE_WORKFLOW, workerPid);
  }
}

export async function queueMemorySection(scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const sizes = [...scale.memoryBatchSizes].sort((a, b) => a - b);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-queue-'));
  fs.chmodSync(workDir, 0o755);
  const lib = await simulatedLibrary(sizes[sizes.length - 1]);
  const stateRoot = path.join(workDir, 'sync-state');
  const notDone: string[] = [];
  let cluster: QueueCluster | null = null;
  let limit: MemoryLimit | null = null;
  const free: BatchMeasure[] = [];
  const limited: LimitedMeasure[] = [];
  let idle: BatchMeasure;
  try {
    materialized(lib);
    cluster = await QueueCluster.create({ workDir, workers: 1, fileAccess: [stateRoot, lib.photoDir], log: (m) => log(`  ${m}`) });
    await cluster.importCredential(lib.simulator.url, lib.simulator.apiKey);
    const base = fillInTemplate(loadTemplate(findRepoRoot()), lib.photoDir, { dryRun: false, stateFolder: stateRoot });
    await cluster.publish({ id: IDLE_WORKFLOW, name: 'Idle baseline', nodes: [webhookNode(IDLE_WORKFLOW, [0, 0])], connections: {}, settings: { saveDataSuccessExecution: 'all' } });
    const search = base.nodes.find((n) => n.name === SEARCH_NODE)!;
    // one workflow (and checkpoint) per batch: F without a limit, L in the 1 GiB cgroup
    for (const pass of ['F', 'L']) {
      for (const size of sizes) {
        search.parameters.maxAssetsPerRun = size;
        await cluster.publish(webhookWorkflow(base, `immichBenchQ${pass}${size}`));
      }
    }
    await cluster.run();
    const bench = new QueueBench(cluster, ensureN8n().n8nBin);
    log(`  main pid ${cluster.mainPid}, worker pid ${cluster.workerPids[0]}`);

    await bench.warmUp(cluster.workerPids[0]);
    await bench.settle([cluster.mainPid, cluster.workerPids[0]]);
    idle = await bench.warmUp(cluster.workerPids[0]);
    log(`  idle: main ${mib(idle.mainPeakBytes)} MiB, worker ${mib(idle.workerPeakBytes)} MiB (tree ${mib(idle.workerTreePeakBytes)} MiB)`);
    for (const size of sizes) {
      materialized(lib);
      const measure = await bench.measure(`immichBenchQF${size}`, cluster.workerPids[0]);
      free.push(measure);
      log(
        `  batch of ${size} (${measure.assets} handed out, ${measure.summary?.written ?? 0} written, ${measure.status}) in ${measure.seconds.toFixed(0)} s: ` +
          `main ${mib(measure.mainPeakBytes)} MiB, worker ${mib(measure.workerPeakBytes)} MiB (tree ${mib(measure.workerTreePeakBytes)} MiB), worker after ${mib(measure.workerAfterBytes)} MiB`,
      );
      if (measure.assets !== size || measure.status !== 'success') throw new Error(`the batch of ${size} handed out ${measure.assets} assets and ended "${measure.status}"`);
    }

    const unavailable = memoryLimitUnavailable();
    if (unavailable) {
      notDone.push(`queue-mode memory: the 1 GiB worker was not run (${unavailable})`);
    } else {
      await cluster.stopWorkers();
      limit = createMemoryLimit(`immich-bench-worker-${process.pid}`, ONE_GIB);
      await cluster.startWorkers(limit.wrap);
      const workerPid = cluster.workerPids[0];
      log(`  worker restarted inside a 1 GiB memory cgroup (pid ${workerPid})`);
      await bench.warmUp(workerPid);
      if (!isAlive(workerPid)) notDone.push(`queue-mode memory: the worker did not survive its start in 1 GiB (${limit.oomKills()} OOM kills); no batch was run there`);
      for (const size of isAlive(workerPid) ? sizes : []) {
        materialized(lib);
        limit.resetPeak();
        const before = limit.oomKills();
        const anon = new AnonPeakSampler(limit);
        let anonPeakBytes = 0;
        const measure = await bench.measure(`immichBenchQL${size}`, workerPid).finally(() => (anonPeakBytes = anon.stop()));
        const result: LimitedMeasure = { ...measure, size, cgroupPeakBytes: limit.peakBytes(), anonPeakBytes, limitHits: limit.limitHits(), oomKills: limit.oomKills() - before };
        limited.push(result);
        log(
          `  1 GiB worker, batch of ${size}: ${result.status}, ${result.assets} handed out, ${result.oomKills} OOM kills, ${result.limitHits} limit hits, ` +
            `cgroup peak ${mib(result.cgroupPeakBytes ?? 0)} MiB (anonymous ${mib(result.anonPeakBytes)} MiB), ` +
            `worker ${mib(result.workerPeakBytes)} MiB (tree ${mib(result.workerTreePeakBytes)} MiB) in ${result.seconds.toFixed(0)} s`,
        );
        if (result.oomKills > 0 || result.status !== 'success') break; // a larger batch will not fit either
      }
    }
  } finally {
    const alive = (await cluster?.stop()) ?? [];
    await limit?.remove().catch((error: Error) => notDone.push(`queue-mode memory: ${error.message}`));
    await lib.close();
    if (alive.length > 0) notDone.push(`queue-mode memory: still running after the section: ${alive.join(', ')}`);
    else fs.rmSync(workDir, { recursive: true, force: true });
  }
  return { figures: queueFigures(free, idle!, limited), notDone };
}

function perAssetKiB(bytes: number, baseline: number, assets: number): number {
  return Math.round((bytes - baseline) / 1024 / Math.max(1, assets));
}

function queueFigures(free: BatchMeasure[], idle: BatchMeasure, limited: LimitedMeasure[]): Figure[] {
  const figures: Figure[] = [];
  for (const batch of free) {
    const items = Object.entries(batch.itemBytesPerAsset)
      .map(([node, bytes]) => `${node} ${bytes}`)
      .join(', ');
    figures.push(
      peakBesideIdle(
        SECTION,
        `queue.worker.${batch.assets}`,
        `worker peak RSS, one batch of ${batch.assets} assets`,
        batch.workerPeakBytes,
        'worker idle (a workflow that only starts)',
        idle.workerPeakBytes,
        `worker tree (worker + task runner + ExifTool) ${mib(batch.workerTreePeakBytes)} MiB; above idle ${perAssetKiB(batch.workerPeakBytes, idle.workerPeakBytes, batch.assets)} KiB per asset; ` +
          `worker RSS 3 s after the execution ${mib(batch.workerAfterBytes)} MiB; ${batch.seconds.toFixed(0)} s; stored execution data ${Math.round(batch.storedBytes / 1024)} KiB ` +
          `(${Math.round(batch.storedBytes / batch.assets)} bytes per asset); item JSON bytes per asset: ${items}`,
      ),
      peakBesideIdle(SECTION, `queue.main.${batch.assets}`, `main peak RSS while the worker runs a batch of ${batch.assets}`, batch.mainPeakBytes, 'main idle', idle.mainPeakBytes),
    );
  }
  const inOneGiB: LimitedBatch[] = limited.map((batch) => ({
    ...batch,
    assets: batch.size,
    fits: batch.status === 'success' && batch.oomKills === 0 && batch.assets === batch.size && batch.summary?.handedOut === batch.size,
    outcome: `${batch.status}, ${batch.summary?.written ?? 0} written of ${batch.size} in ${batch.seconds.toFixed(0)} s; worker RSS peak ${mib(batch.workerPeakBytes)} MiB`,
    unlimitedTreeBytes: free.find((f) => f.assets === batch.size)?.workerTreePeakBytes ?? null,
  }));
  figures.push(...limitedFigures(SECTION, 'queue.limited', 'a worker', '1 GiB', inOneGiB));
  return figures;
}
