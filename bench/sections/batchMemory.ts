/**
 * Memory per execution, for small hosts (NAS boxes with 2–8 GB): the peak resident memory of the n8n
 * process that runs one batch of the template, for batches of 100 / 500 / 2,000 assets, beside the same
 * n8n running the template with nothing to hand out (n8n, its task runner and this package loaded: the
 * idle baseline). `n8n execute` runs the workflow in one process and prints the whole run data at the end, so
 * its peak is an upper bound for a running single-process n8n (section 9 measures a queue-mode worker).
 *
 * One n8n and one library for all sizes; each size is a fresh copy of the workflow (its own checkpoint), run
 * smallest first on fresh copies of the files, so every batch writes all of its assets.
 *
 * Then the same batches with `n8n execute` inside a 1 GiB memory cgroup (bench/memoryLimit.ts), as on a 1 GB
 * host: Node sizes its heap from the limit, and going over it ends in the OOM killer. A batch size fits 1 GB
 * when its run succeeds there with every asset handed out.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { SEARCH_NODE } from '../../test/e2e/templateEnvironment';
import type { Figure } from '../figures';
import { mib, TreeRssSampler } from '../memory';
import { limitedFigures, peakBesideIdle, type LimitedBatch } from '../memoryFigures';
import { AnonPeakSampler, createMemoryLimit, memoryLimitUnavailable, type MemoryLimit } from '../memoryLimit';
import type { BenchScale } from '../scale';
import { simulatedLibrary } from '../simulated';
import { materialized, privateN8nPorts, templateOnLibrary } from './endToEnd';
import type { SectionOutcome } from './index';

const SECTION = '8 n8n memory per batch';
const ONE_GIB = 1024 ** 3;

interface BatchPeak {
  assets: number;
  n8nPeakBytes: number; // the largest single process: n8n running the workflow
  treePeakBytes: number; // n8n, its task runner and the ExifTool processes together
}

interface LimitedRun {
  assets: number;
  handedOut: number;
  error: string | null;
  cgroupPeakBytes: number | null; // n8n's start-up included: every process of the run, each page once, page cache too
  anonPeakBytes: number; // what cannot be reclaimed: heaps and stacks of every process of the run
  limitHits: number;
  oomKills: number;
}

export async function batchMemorySection(scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const sizes = [...scale.memoryBatchSizes].sort((a, b) => a - b);
  const largest = sizes[sizes.length - 1];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-memory-'));
  const lib = await simulatedLibrary(largest);
  const restorePorts = await privateN8nPorts();
  const peaks: BatchPeak[] = [];
  const limited: LimitedRun[] = [];
  const notDone: string[] = [];
  let limit: MemoryLimit | null = null;
  let idle: BatchPeak | null = null;
  try {
    const env = await templateOnLibrary(lib, workDir, { dryRun: false, maxAssetsPerRun: sizes[0] }, log);
    const runOnce = async (workflowId: string): Promise<BatchPeak> => {
      const sampler = new TreeRssSampler(process.pid, false, 100).start();
      let report;
      try {
        report = await env.n8n.execute(workflowId);
      } finally {
        sampler.stop();
      }
      if (report.error) throw new Error(`n8n execute of ${workflowId} failed: ${report.error}`);
      return { assets: report.nodes[SEARCH_NODE]?.items.length ?? 0, n8nPeakBytes: sampler.largestProcessPeak(), treePeakBytes: sampler.stop() };
    };
    for (const [i, size] of sizes.entries()) {
      const id = i === 0 ? env.workflowId : await env.importCopy(`immichBenchMem${size}`, lib.photoDir, { dryRun: false, maxAssetsPerRun: size });
      if (i > 0) materialized(lib);
      const peak = await runOnce(id);
      peaks.push({ ...peak, assets: size });
      log(`  batch of ${size} (${peak.assets} handed out): n8n peak ${mib(peak.n8nPeakBytes)} MiB, tree ${mib(peak.treePeakBytes)} MiB`);
      if (peak.assets !== size) throw new Error(`a batch of ${size} handed out ${peak.assets} assets`);
    }
    // n8n's idle baseline: the same n8n (this package installed and loaded at start) running a workflow
    // that does nothing but start.
    await env.n8n.importWorkflow({
      id: 'immichBenchMemIdle',
      name: 'Idle baseline',
      nodes: [{ id: 'trigger', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} }],
      connections: {},
    });
    idle = await runOnce('immichBenchMemIdle');
    log(`  idle (a workflow that only starts): n8n peak ${mib(idle.n8nPeakBytes)} MiB, tree ${mib(idle.treePeakBytes)} MiB`);

    const unavailable = memoryLimitUnavailable();
    if (unavailable) notDone.push(`n8n memory: the runs in 1 GiB were not made (${unavailable})`);
    else {
      limit = createMemoryLimit(`immich-bench-execute-${process.pid}`, ONE_GIB);
      for (const size of sizes) {
        const id = await env.importCopy(`immichBenchMemL${size}`, lib.photoDir, { dryRun: false, maxAssetsPerRun: size });
        materialized(lib);
        limit.resetPeak();
        const before = limit.oomKills();
        const anon = new AnonPeakSampler(limit);
        const report = await env.n8n.execute(id, { wrap: limit.wrap }).catch((error: Error) => ({ error: error.message, nodes: {} as Record<string, { items: unknown[] }> }));
        const anonPeakBytes = anon.stop();
        const run: LimitedRun = {
          assets: size,
          handedOut: report.nodes[SEARCH_NODE]?.items.length ?? 0,
          error: report.error,
          cgroupPeakBytes: limit.peakBytes(),
          anonPeakBytes,
          limitHits: limit.limitHits(),
          oomKills: limit.oomKills() - before,
        };
        limited.push(run);
        log(`  in 1 GiB, batch of ${size}: ${run.error ? `failed (${run.error.slice(0, 200)})` : 'succeeded'}, ${run.handedOut} handed out, ${run.oomKills} OOM kills, ${run.limitHits} limit hits, cgroup peak ${mib(run.cgroupPeakBytes ?? 0)} MiB (anonymous ${mib(run.anonPeakBytes)} MiB)`);
        if (run.error || run.oomKills > 0) break; // a larger batch will not fit either
      }
    }
  } finally {
    await limit?.remove().catch((error: Error) => notDone.push(`n8n memory: ${error.message}`));
    restorePorts();
    await lib.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  const inOneGiB: LimitedBatch[] = limited.map((run) => ({
    ...run,
    fits: !run.error && run.oomKills === 0 && run.handedOut === run.assets,
    outcome: `${run.error ? `failed: ${run.error.slice(0, 160)}` : 'succeeded'}, ${run.handedOut} handed out (n8n's start-up included)`,
    unlimitedTreeBytes: peaks.find((p) => p.assets === run.assets)?.treePeakBytes ?? null,
  }));
  return { figures: [...memoryFigures(peaks, idle!), ...limitedFigures(SECTION, 'memory.limited', '`n8n execute`', '1 GiB', inOneGiB)], notDone };
}

function memoryFigures(peaks: BatchPeak[], idle: BatchPeak): Figure[] {
  return peaks.map((peak) =>
    peakBesideIdle(
      SECTION,
      `memory.batch.${peak.assets}`,
      `n8n peak RSS, one batch of ${peak.assets} assets`,
      peak.n8nPeakBytes,
      'n8n idle (a workflow that only starts)',
      idle.n8nPeakBytes,
      `tree (n8n + task runner + ExifTool) ${mib(peak.treePeakBytes)} MiB; above idle ${Math.round((peak.n8nPeakBytes - idle.n8nPeakBytes) / 1024 / peak.assets)} KiB per asset`,
    ),
  );
}
