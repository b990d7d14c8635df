import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { DEFAULT_MODULES } from '../../lib/metadata/types';
import type { Figure } from '../figures';
import { mib } from '../memory';
import { repoRoot } from '../paths';
import type { BenchScale } from '../scale';
import type { WorkerReport } from '../scalingWorker';
import { simulatedLibrary, violationsOf } from '../simulated';
import { slope } from '../stats';
import type { SectionOutcome } from './index';

const PAGE_SIZE = 1000; // Immich's maximum; fewer searches for the simulator to answer

/** The compiled worker (child processes cannot run the TypeScript sources). */
function workerScript(): string {
  const script = path.join(repoRoot(), 'dist', 'bench', 'scalingWorker.js');
  if (!fs.existsSync(script)) throw new Error(`bench: ${script} is missing; run "npm run build" first`);
  return script;
}

function runWorker(config: object, expected: number): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', workerScript(), JSON.stringify(config), String(expected)], { maxBuffer: 1 << 20, timeout: 600_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`scaling worker failed: ${error.message} ${stderr.slice(-500)}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
      } catch {
        reject(new Error(`scaling worker printed no report: ${stdout.slice(-300)} ${stderr.slice(-300)}`));
      }
    });
  });
}

/**
 * Our run loop (listing, plan, path mapping, target checks, result recording) at growing library sizes,
 * each in a fresh process. Dry run with the files absent: ExifTool is not started, so what is measured is
 * our own per-asset cost (ExifTool's per-file cost is constant and measured in section 1).
 */
export async function scalingSection(scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const reports: Array<{ n: number; report: WorkerReport }> = [];
  const problems: string[] = [];
  for (const n of scale.scalingSizes) {
    const lib = await simulatedLibrary(n, { prebuilt: true });
    try {
      const report = await runWorker({ apiUrl: lib.simulator.url, apiKey: lib.simulator.apiKey, libraryPath: lib.photoDir, modules: [...DEFAULT_MODULES], dryRun: true, pageSize: PAGE_SIZE }, n);
      if (report.handled !== n) problems.push(`${n}: handled ${report.handled} of ${n}`);
      if (report.failed > 0) problems.push(`${n}: ${report.failed} failed (${report.firstProblem})`);
      const violations = violationsOf(lib.simulator);
      if (violations) problems.push(`${n}: spec violations: ${violations}`);
      reports.push({ n, report });
      log(`  ${n} assets: ${report.seconds.toFixed(1)} s (${((report.seconds / n) * 1e6).toFixed(0)} µs/asset wall, ${((report.cpuSeconds / n) * 1e6).toFixed(0)} µs/asset CPU), peak RSS ${mib(report.maxRssBytes)} MiB, live heap ${report.liveHeapBytes.map(mib).join(' → ')} MiB`);
    } finally {
      await lib.close();
    }
  }
  const ns = reports.map((r) => r.n);
  const perAssetUs = reports.map((r) => (r.report.cpuSeconds / r.n) * 1e6);
  const wallPerAssetUs = reports.map((r) => (r.report.seconds / r.n) * 1e6);
  const peakRss = reports.map((r) => r.report.maxRssBytes);
  const first = reports[0];
  const last = reports[reports.length - 1];
  const timeGrowth = perAssetUs[perAssetUs.length - 1] / perAssetUs[0];
  const rssSlope = slope(ns, peakRss); // bytes of peak RSS per extra asset
  const timeSlope = slope(ns, perAssetUs) * 1000; // µs per asset, per 1,000 extra assets
  const section = '5 scaling';
  const note = problems.length ? problems.join('; ') : 'dry run, files absent (ExifTool not involved); each size in a fresh process';
  const figures: Figure[] = reports.map(({ n, report }, i) => ({
    id: `scaling.perAsset.${i + 1}`,
    section,
    name: `run loop at ${n.toLocaleString('en-US')} assets: CPU time per asset (our process)`,
    value: perAssetUs[i],
    unit: 'µs/asset',
    baselineName: `at ${first.n.toLocaleString('en-US')}`,
    baselineValue: perAssetUs[0],
    ratio: perAssetUs[i] / perAssetUs[0],
    ratioLabel: 'x',
    note: `wall ${report.seconds.toFixed(1)} s (${wallPerAssetUs[i].toFixed(0)} µs/asset, simulator included); peak RSS ${mib(report.maxRssBytes)} MiB, peak heap ${mib(report.peakHeapUsedBytes)} MiB`,
  }));
  const liveHeapEnd = reports.map((r) => r.report.liveHeapBytes[r.report.liveHeapBytes.length - 1] ?? r.report.liveHeapAtStartBytes);
  const liveSlope = slope(ns, liveHeapEnd); // bytes still reachable per extra asset
  figures.push(
    {
      id: 'scaling.timeSlope', section, name: `CPU time per asset, slope over ${ns.map((n) => n.toLocaleString('en-US')).join('/')}`, value: timeSlope, unit: 'µs/asset per 1k assets',
      baselineName: `${first.n.toLocaleString('en-US')} → ${last.n.toLocaleString('en-US')}`, baselineValue: perAssetUs[0], ratio: timeGrowth, ratioLabel: 'x per-asset time',
      target: 'flat: per-asset time at largest <= 1.5x smallest', pass: timeGrowth <= 1.5 && problems.length === 0,
      note: `${note}; wall time per asset ${wallPerAssetUs.map((w) => w.toFixed(0)).join(' / ')} µs (the simulator answers in the same machine)`,
    },
    {
      id: 'scaling.liveHeapSlope', section, name: 'live heap slope (memory kept per asset, after full GC)', value: liveSlope, unit: 'bytes/asset',
      baselineName: `live heap at ${first.n.toLocaleString('en-US')}`, baselineValue: mib(liveHeapEnd[0]), ratio: liveHeapEnd[liveHeapEnd.length - 1] / liveHeapEnd[0], ratioLabel: `x at ${last.n.toLocaleString('en-US')}`,
      target: 'flat: < 200 bytes/asset', pass: liveSlope < 200,
      note: `live heap (MiB) at 1/4, 1/2, 3/4, end of each run: ${reports.map((r) => `${r.n}: ${r.report.liveHeapBytes.map(mib).join('→')}`).join('; ')}`,
    },
    {
      id: 'scaling.peakRss', section, name: `peak RSS at ${last.n.toLocaleString('en-US')} assets`, value: mib(last.report.maxRssBytes), unit: 'MiB',
      baselineName: `at ${first.n.toLocaleString('en-US')}`, baselineValue: mib(first.report.maxRssBytes), ratio: last.report.maxRssBytes / first.report.maxRssBytes, ratioLabel: 'x',
      note: `peak RSS slope ${Math.round(rssSlope)} bytes/asset (includes garbage V8 has not collected yet); per size: ${reports.map((r) => `${r.n}: ${mib(r.report.maxRssBytes)} MiB`).join(', ')}`,
    },
  );
  return { figures, notDone: [] };
}
