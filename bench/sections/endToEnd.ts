import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

import { DEFAULT_MODULES } from '../../lib/metadata/types';
import { makeTreeWritable, TemplateEnvironment, type TemplateRun } from '../../test/e2e/templateEnvironment';
import type { Figure } from '../figures';
import { mib, TreeRssSampler } from '../memory';
import { runPipeline } from '../pipeline';
import type { BenchScale } from '../scale';
import { simulatedLibrary, violationsOf, type SimulatedLibrary } from '../simulated';
import type { SectionOutcome } from './index';

interface RunFigures {
  assets: number;
  written: number;
  failed: number;
  seconds: number; // the whole `n8n execute`, n8n's start included
  workflowSeconds: number; // the nodes' own execution time
  treePeakBytes: number; // n8n, its task runner and the ExifTool processes together
  n8nPeakBytes: number; // the largest single process (n8n itself)
  storedBytes: number | null; // execution data n8n stored for this run
  outputBytes: number; // the run data n8n printed (what it holds for the run)
}

interface SqliteDatabase {
  prepare(sql: string): { all(): unknown[] };
  close(): void;
}

/** Size of the newest stored execution's data, read from n8n's SQLite database (node:sqlite). */
function newestExecutionBytes(userFolder: string, seenIds: Set<string>): number | null {
  const file = path.join(userFolder, '.n8n', 'database.sqlite');
  if (!fs.existsSync(file)) return null;
  // node:sqlite ships with Node 22.5+; the repo's @types/node (20) does not describe it yet
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DatabaseSync } = require('node:sqlite') as { DatabaseSync: new (file: string, options: { readOnly: boolean }) => SqliteDatabase };
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const rows = db.prepare('SELECT executionId AS id, length(data) + length(workflowData) AS bytes FROM execution_data').all() as Array<{ id: number | string; bytes: number }>;
    const fresh = rows.filter((r) => !seenIds.has(String(r.id)));
    fresh.forEach((r) => seenIds.add(String(r.id)));
    return fresh.length ? fresh.reduce((sum, r) => sum + Number(r.bytes), 0) : null;
  } finally {
    db.close();
  }
}

/** A port nobody listens on right now (n8n's fixed defaults clash with other n8n runs on a shared machine). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** n8n reads its ports from the environment, which the harness passes on to every n8n command. */
async function privateN8nPorts(): Promise<() => void> {
  const names = ['N8N_RUNNERS_BROKER_PORT', 'N8N_PORT'] as const;
  const saved = names.map((name) => process.env[name]);
  for (const name of names) process.env[name] = String(await freePort());
  return () => names.forEach((name, i) => (saved[i] === undefined ? delete process.env[name] : (process.env[name] = saved[i])));
}

function materialized(lib: SimulatedLibrary): void {
  lib.synthetic.materialize();
  makeTreeWritable(lib.photoDir);
}

/**
 * The bundled template in a real n8n (the template engineer's harness) over a synthetic library, one
 * `n8n execute` per batch of "max assets per run" until every asset was handled once. Baseline: our run
 * loop without n8n (the command line's path) on one batch of an identical library, in the same run.
 */
export async function endToEndSection(scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const n = scale.e2eAssets;
  const perRun = scale.e2eMaxPerRun;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-e2e-'));
  const runs: RunFigures[] = [];
  const problems: string[] = [];
  let baselineAssetsPerSecond = 0;
  const lib = await simulatedLibrary(n);
  const restorePorts = await privateN8nPorts();
  try {
    materialized(lib);
    const env = await TemplateEnvironment.create({
      workDir,
      immichUrl: lib.simulator.url,
      apiKey: lib.simulator.apiKey,
      libraryPath: lib.photoDir,
      settings: { dryRun: false, maxAssetsPerRun: perRun },
      progress: (message) => log(`  n8n: ${message}`),
    });
    const seenExecutions = new Set<string>();
    newestExecutionBytes(env.n8n.userFolder, seenExecutions);
    const maxRuns = Math.ceil(n / perRun) + 1;
    let handled = 0;
    for (let i = 0; i < maxRuns && handled < n; i++) {
      const sampler = new TreeRssSampler(process.pid, false, 100).start();
      let run: TemplateRun;
      try {
        run = await env.run();
      } finally {
        sampler.stop();
      }
      const summary = run.summary;
      const workflowMs = Object.values(run.report.nodes).reduce((sum, node) => sum + node.executionTimeMs, 0);
      const figures: RunFigures = {
        assets: run.batchSize,
        written: summary?.written ?? 0,
        failed: summary?.failed ?? 0,
        seconds: run.report.durationMs / 1000,
        workflowSeconds: workflowMs / 1000,
        treePeakBytes: sampler.stop(),
        n8nPeakBytes: sampler.largestProcessPeak(),
        storedBytes: newestExecutionBytes(env.n8n.userFolder, seenExecutions),
        outputBytes: Buffer.byteLength(run.report.raw.stdout),
      };
      if (figures.failed > 0) problems.push(`run ${i + 1}: ${figures.failed} failed (${summary?.failedAssets[0]?.reason ?? ''})`);
      runs.push(figures);
      handled += figures.assets;
      log(
        `  run ${i + 1}: ${figures.assets} assets (${figures.written} written) in ${figures.seconds.toFixed(1)} s (workflow ${figures.workflowSeconds.toFixed(1)} s), ` +
          `n8n peak ${mib(figures.n8nPeakBytes)} MiB, tree ${mib(figures.treePeakBytes)} MiB, stored ${figures.storedBytes ?? '?'} bytes`,
      );
      if (figures.assets === 0) break;
    }
    if (handled < n) problems.push(`only ${handled} of ${n} assets handled in ${runs.length} runs`);
    const violations = violationsOf(lib.simulator);
    if (violations) problems.push(`spec violations: ${violations}`);
  } finally {
    restorePorts();
    await lib.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }

  // Baseline: one batch through our run loop without n8n, same kind of library, same modules as the template.
  const twin = await simulatedLibrary(n);
  try {
    materialized(twin);
    const outcome = await runPipeline({
      apiUrl: twin.simulator.url,
      apiKey: twin.simulator.apiKey,
      libraryPath: twin.photoDir,
      modules: [...DEFAULT_MODULES, 'albums'],
      dryRun: false,
      maxAssets: scale.e2eBaselineAssets,
    });
    const s = outcome.summary;
    baselineAssetsPerSecond = (s.written + s.unchanged + s.skipped + s.failed) / outcome.seconds;
    log(`  baseline: run loop without n8n, ${scale.e2eBaselineAssets} assets: ${baselineAssetsPerSecond.toFixed(1)} assets/s`);
  } finally {
    await twin.close();
  }
  return { figures: endToEndFigures(n, perRun, runs, baselineAssetsPerSecond, problems), notDone: [] };
}

function endToEndFigures(n: number, perRun: number, runs: RunFigures[], baselineAssetsPerSecond: number, problems: string[]): Figure[] {
  const section = '4 n8n e2e';
  const assets = runs.reduce((sum, r) => sum + r.assets, 0);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  const workflowSeconds = runs.reduce((sum, r) => sum + r.workflowSeconds, 0);
  const full = runs.filter((r) => r.assets > 0);
  const first = full[0];
  const last = full[full.length - 1];
  const peak = Math.max(...runs.map((r) => r.n8nPeakBytes));
  const treePeak = Math.max(...runs.map((r) => r.treePeakBytes));
  const stored = runs.map((r) => r.storedBytes).filter((b): b is number => b !== null);
  const note = problems.length ? problems.join('; ') : undefined;
  return [
    {
      id: 'e2e.workflowRate', section, name: `template in n8n, ${n} assets in ${runs.length} runs of <= ${perRun}: inside the workflow`, value: assets / workflowSeconds, unit: 'assets/s',
      baselineName: 'run loop without n8n', baselineValue: baselineAssetsPerSecond, ratio: assets / workflowSeconds / baselineAssetsPerSecond, ratioLabel: 'of baseline',
      pass: problems.length === 0, target: `all ${n} handled, none failed`, note,
    },
    {
      id: 'e2e.executeRate', section, name: 'template in n8n, whole `n8n execute` (n8n start-up included)', value: assets / seconds, unit: 'assets/s',
      baselineName: 'run loop without n8n', baselineValue: baselineAssetsPerSecond, ratio: assets / seconds / baselineAssetsPerSecond, ratioLabel: 'of baseline',
      note: `${seconds.toFixed(0)} s for ${runs.length} executes`,
    },
    {
      id: 'e2e.peakRss', section, name: 'n8n peak RSS (largest run)', value: mib(peak), unit: 'MiB',
      baselineName: 'first run', baselineValue: mib(first.n8nPeakBytes), ratio: peak / first.n8nPeakBytes, ratioLabel: 'x first run',
      note: `with task runner and ExifTool: ${mib(treePeak)} MiB; per run: ${runs.map((r) => mib(r.n8nPeakBytes)).join(', ')} MiB`,
    },
    {
      id: 'e2e.peakRssGrowth', section, name: 'n8n peak RSS, last full run vs first (library progressing)', value: mib(last.n8nPeakBytes), unit: 'MiB',
      baselineName: 'first run', baselineValue: mib(first.n8nPeakBytes), ratio: last.n8nPeakBytes / first.n8nPeakBytes, ratioLabel: 'x',
      target: 'bounded by max assets per run: <= 1.2x', pass: last.n8nPeakBytes / first.n8nPeakBytes <= 1.2,
    },
    {
      id: 'e2e.storedData', section, name: 'stored execution data per run (largest)', value: stored.length ? Math.max(...stored) / 1024 : null, unit: 'KiB',
      baselineName: 'per asset', baselineValue: stored.length ? Math.max(...stored) / 1024 / perRun : null,
      note: stored.length ? `per run: ${stored.map((b) => Math.round(b / 1024)).join(', ')} KiB; printed run data largest ${Math.round(Math.max(...runs.map((r) => r.outputBytes)) / 1024)} KiB` : 'n8n stored no execution data for CLI runs',
    },
  ];
}
