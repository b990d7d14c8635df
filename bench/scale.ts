/** Sizes for one bench run: "full" is the real measurement, "quick" only proves every figure is produced. */
export interface BenchScale {
  name: 'full' | 'quick';
  rounds: number; // side-by-side rounds; figures are medians over these
  writeFiles: number; // copies our pipeline writes (and then passes over again unchanged)
  baselineFiles: number; // copies for the floor and write-step rates (files/s: 100–150 files give a steady rate and keep the run short)
  seedFiles: number; // the seed's one-process-per-file loop is slow: a subset, reported as files/s
  apiSizes: [number, number]; // library sizes for request counting (small, large)
  scalingSizes: number[];
  e2eAssets: number;
  e2eMaxPerRun: number;
  e2eBaselineAssets: number; // one batch of the run loop without n8n
  reconcileRealFiles: number; // sample copies written, then checked today's way and through the sync index
  reconcileSizes: number[]; // unchanged full reconciles through the sync index (tiny files on disk)
  memoryBatchSizes: number[]; // one template batch of each size in real n8n, peak RSS beside n8n idle
}

export const FULL: BenchScale = {
  name: 'full',
  rounds: 3,
  writeFiles: 500,
  baselineFiles: 120,
  seedFiles: 20,
  apiSizes: [1000, 10000],
  scalingSizes: [1000, 10000, 100000],
  e2eAssets: 2000,
  e2eMaxPerRun: 500,
  e2eBaselineAssets: 120,
  reconcileRealFiles: 300,
  reconcileSizes: [1000, 10000, 100000],
  memoryBatchSizes: [100, 500, 2000],
};

export const QUICK: BenchScale = {
  name: 'quick',
  rounds: 1,
  writeFiles: 6,
  baselineFiles: 4,
  seedFiles: 2,
  apiSizes: [100, 400],
  scalingSizes: [100, 300, 1000],
  e2eAssets: 30,
  e2eMaxPerRun: 10,
  e2eBaselineAssets: 10,
  reconcileRealFiles: 6,
  reconcileSizes: [50, 200],
  memoryBatchSizes: [5, 20],
};
