/**
 * Runs our pipeline once in its own process so that its peak memory is its own (not the simulator's,
 * not an earlier section's). Input: one JSON argument (PipelineRun). Output: one JSON line on stdout.
 */
import { DEFAULT_MODULES } from '../lib/metadata/types';
import { runPipeline, type PipelineRun } from './pipeline';

export interface WorkerReport {
  seconds: number;
  cpuSeconds: number; // this process only (user + system): our work, not the simulator's
  handled: number;
  failed: number;
  firstProblem: string | null;
  rssAtStartBytes: number;
  maxRssBytes: number; // kernel high-water mark of this process (resourceUsage().maxRSS)
  peakHeapUsedBytes: number;
  /** Live heap (after a full GC) when a quarter, half, three quarters and all of the assets were handled. */
  liveHeapBytes: number[];
  liveHeapAtStartBytes: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function liveHeap(): number {
  if (!gc) throw new Error('the scaling worker needs node --expose-gc');
  gc();
  return process.memoryUsage().heapUsed;
}

async function main(): Promise<void> {
  const run: PipelineRun = { modules: [...DEFAULT_MODULES], ...JSON.parse(process.argv[2] ?? '{}') };
  const liveHeapAtStartBytes = liveHeap();
  const rssAtStartBytes = process.memoryUsage().rss;
  const expected = Number(process.argv[3] ?? 0);
  const checkpoints = new Set([1, 2, 3, 4].map((q) => Math.floor((expected * q) / 4)));
  const liveHeapBytes: number[] = [];
  let peakHeapUsedBytes = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeapUsedBytes = Math.max(peakHeapUsedBytes, process.memoryUsage().heapUsed);
  }, 50);
  const cpuBefore = process.cpuUsage();
  const outcome = await runPipeline(run, (count) => {
    if (checkpoints.has(count)) liveHeapBytes.push(liveHeap());
  });
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  const s = outcome.summary;
  const report: WorkerReport = {
    seconds: outcome.seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    handled: s.written + s.unchanged + s.skipped + s.failed,
    failed: s.failed,
    firstProblem: outcome.firstProblem,
    rssAtStartBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    peakHeapUsedBytes: Math.max(peakHeapUsedBytes, process.memoryUsage().heapUsed),
    liveHeapBytes,
    liveHeapAtStartBytes,
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
