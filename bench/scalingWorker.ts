/**
 * Runs our pipeline once in its own process so that its peak memory is its own (not the simulator's,
 * not an earlier section's). Input: one JSON argument (PipelineRun). Output: one JSON line on stdout.
 */
import { DEFAULT_MODULES } from '../lib/metadata/types';
import { runPipeline, type PipelineRun } from './pipeline';

export interface WorkerReport {
  seconds: number;
  handled: number;
  failed: number;
  firstProblem: string | null;
  rssAtStartBytes: number;
  maxRssBytes: number; // kernel high-water mark of this process (resourceUsage().maxRSS)
  peakHeapUsedBytes: number;
}

async function main(): Promise<void> {
  const run: PipelineRun = { modules: [...DEFAULT_MODULES], ...JSON.parse(process.argv[2] ?? '{}') };
  const rssAtStartBytes = process.memoryUsage().rss;
  let peakHeapUsedBytes = process.memoryUsage().heapUsed;
  const sampler = setInterval(() => {
    peakHeapUsedBytes = Math.max(peakHeapUsedBytes, process.memoryUsage().heapUsed);
  }, 50);
  const outcome = await runPipeline(run);
  clearInterval(sampler);
  const s = outcome.summary;
  const report: WorkerReport = {
    seconds: outcome.seconds,
    handled: s.written + s.unchanged + s.skipped + s.failed,
    failed: s.failed,
    firstProblem: outcome.firstProblem,
    rssAtStartBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    peakHeapUsedBytes: Math.max(peakHeapUsedBytes, process.memoryUsage().heapUsed),
  };
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
