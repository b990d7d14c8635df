/**
 * Memory per execution, for small hosts (NAS boxes with 2–8 GB): the peak resident memory of the n8n
 * process that runs one batch of the template, for batches of 100 / 500 / 2,000 assets, beside the same
 * n8n running the template with nothing to hand out (n8n, its task runner and this package loaded: the
 * idle baseline). `n8n execute` runs the workflow in one process, as a queue-mode worker does with one job.
 *
 * One n8n and one library for all sizes; each size is a fresh copy of the workflow (its own checkpoint),
 * run smallest first, so a later batch also meets files an earlier one wrote (compared, or vouched for by
 * the sync index). The items each node passes on are the same either way, and they are what grows.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { SEARCH_NODE } from '../../test/e2e/templateEnvironment';
import type { Figure } from '../figures';
import { mib, TreeRssSampler } from '../memory';
import type { BenchScale } from '../scale';
import { simulatedLibrary } from '../simulated';
import { privateN8nPorts, templateOnLibrary } from './endToEnd';
import type { SectionOutcome } from './index';

const SECTION = '8 n8n memory per batch';
const ONE_GIB = 1024 ** 3;

interface BatchPeak {
  assets: number;
  n8nPeakBytes: number; // the largest single process: n8n running the workflow
  treePeakBytes: number; // n8n, its task runner and the ExifTool processes together
}

export async function batchMemorySection(scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const sizes = [...scale.memoryBatchSizes].sort((a, b) => a - b);
  const largest = sizes[sizes.length - 1];
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-memory-'));
  const lib = await simulatedLibrary(largest);
  const restorePorts = await privateN8nPorts();
  const peaks: BatchPeak[] = [];
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
  } finally {
    restorePorts();
    await lib.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  return { figures: memoryFigures(peaks, idle!), notDone: [] };
}

function memoryFigures(peaks: BatchPeak[], idle: BatchPeak): Figure[] {
  const figures: Figure[] = peaks.map((peak) => ({
    id: `memory.batch.${peak.assets}`,
    section: SECTION,
    name: `n8n peak RSS, one batch of ${peak.assets} assets`,
    value: mib(peak.n8nPeakBytes),
    unit: 'MiB',
    baselineName: 'n8n idle (a workflow that only starts)',
    baselineValue: mib(idle.n8nPeakBytes),
    ratio: peak.n8nPeakBytes / idle.n8nPeakBytes,
    ratioLabel: 'x idle',
    note: `tree (n8n + task runner + ExifTool) ${mib(peak.treePeakBytes)} MiB; above idle ${Math.round((peak.n8nPeakBytes - idle.n8nPeakBytes) / 1024 / peak.assets)} KiB per asset`,
  }));
  const fitting = peaks.filter((peak) => peak.treePeakBytes < ONE_GIB).map((peak) => peak.assets);
  figures.push({
    id: 'memory.fitsOneGiB',
    section: SECTION,
    name: 'largest measured batch whose whole tree stays under 1 GiB',
    value: fitting.length > 0 ? Math.max(...fitting) : 0,
    unit: 'assets',
    note: 'README: the batch size (Max Assets Per Run) for a 1 GB host',
  });
  return figures;
}
