import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import { createRequire } from 'module';
import * as path from 'path';

import { DEFAULT_MODULES } from '../../lib/metadata/types';
import { ensureN8n } from '../../test/e2e/n8nHarness';
import { makeTreeWritable, SEARCH_NODE, SUMMARY_NODE, TemplateEnvironment, type TemplateSettings, type TemplateSummary } from '../../test/e2e/templateEnvironment';
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
  workflowSeconds: number; // the stored execution's start to stop (no n8n start-up)
  treePeakBytes: number; // n8n, its task runner and the ExifTool processes together
  n8nPeakBytes: number; // the largest single process (n8n itself)
  storedBytes: number; // execution data n8n stored for this run
  outputBytes: number; // what `n8n execute` printed
}

/** A server that caps search pages (a fork or proxy): the template must still list every asset once. */
const PAGE_CAP = 50;

interface CappedRun {
  assets: number;
  seconds: number;
  workflowSeconds: number;
}

interface SqliteDatabase {
  prepare(sql: string): { all(...params: unknown[]): unknown[] };
  close(): void;
}

interface StoredExecution {
  id: string;
  status: string;
  seconds: number; // stoppedAt - startedAt: the workflow itself, without n8n's start-up
  storedBytes: number; // execution data + workflow snapshot as n8n stored them
  runData: Record<string, Array<{ executionTime?: number; data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> } }>>;
}

/**
 * The executions n8n stored since the last call, read from its SQLite database (node:sqlite). The run data
 * is parsed with the `flatted` module of the n8n install itself (n8n stores it in that format). Reading the
 * database rather than `--rawOutput` because n8n's printed run data of a 500-asset batch is cut short.
 */
function newExecutions(userFolder: string, n8nBin: string, seenIds: Set<string>): StoredExecution[] {
  const file = path.join(userFolder, '.n8n', 'database.sqlite');
  if (!fs.existsSync(file)) return [];
  // node:sqlite ships with Node 22.5+; the repo's @types/node (20) does not describe it yet
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DatabaseSync } = require('node:sqlite') as { DatabaseSync: new (file: string, options: { readOnly: boolean }) => SqliteDatabase };
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const rows = db
      .prepare(
        'SELECT e.id AS id, e.status AS status, e.startedAt AS startedAt, e.stoppedAt AS stoppedAt, d.data AS data, ' +
          'length(d.data) + length(d.workflowData) AS bytes FROM execution_entity e JOIN execution_data d ON d.executionId = e.id ORDER BY e.id',
      )
      .all() as Array<{ id: number | string; status: string; startedAt: string; stoppedAt: string; data: string; bytes: number }>;
    const fresh = rows.filter((r) => !seenIds.has(String(r.id)));
    fresh.forEach((r) => seenIds.add(String(r.id)));
    return fresh.map((r) => {
      return {
        id: String(r.id),
        status: r.status,
        seconds: (utcInstant(r.stoppedAt) - utcInstant(r.startedAt)) / 1000,
        storedBytes: Number(r.bytes),
        runData: storedRunData(n8nBin, r.data),
      };
    });
  } finally {
    db.close();
  }
}

export type RunData = StoredExecution['runData'];

/** The per-node run data of an execution as n8n stores it (`execution_data.data`), parsed with the `flatted` module of the n8n install itself. */
export function storedRunData(n8nBin: string, data: string): RunData {
  const flatted = createRequire(n8nBin)('flatted') as { parse(text: string): unknown };
  const parsed = flatted.parse(data) as { resultData?: { runData?: RunData } };
  return parsed.resultData?.runData ?? {};
}

/** SQLite keeps n8n's datetimes as "YYYY-MM-DD HH:MM:SS.SSS" in UTC, without a zone. */
function utcInstant(value: string): number {
  const iso = String(value).replace(' ', 'T');
  const time = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (Number.isNaN(time)) throw new Error(`n8n stored an unreadable execution time "${value}"`);
  return time;
}

export function firstOutput(execution: Pick<StoredExecution, 'runData'>, node: string): Array<{ json: Record<string, unknown> }> {
  const runs = execution.runData[node] ?? [];
  return runs[runs.length - 1]?.data?.main?.[0] ?? [];
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
export async function privateN8nPorts(): Promise<() => void> {
  const names = ['N8N_RUNNERS_BROKER_PORT', 'N8N_PORT'] as const;
  const saved = names.map((name) => process.env[name]);
  for (const name of names) process.env[name] = String(await freePort());
  return () => names.forEach((name, i) => (saved[i] === undefined ? delete process.env[name] : (process.env[name] = saved[i])));
}

/** Copies every asset's file into the library (again: over what an earlier run wrote), writable as a user's library is. */
export function materialized(lib: SimulatedLibrary): void {
  lib.synthetic.materialize();
  makeTreeWritable(lib.photoDir);
}

/** The bundled template in a real n8n over a simulated library written to disk: the n8n sections' set-up. */
export async function templateOnLibrary(lib: SimulatedLibrary, workDir: string, settings: TemplateSettings, log: (line: string) => void): Promise<TemplateEnvironment> {
  materialized(lib);
  return TemplateEnvironment.create({
    workDir,
    immichUrl: lib.simulator.url,
    apiKey: lib.simulator.apiKey,
    libraryPath: lib.photoDir,
    settings,
    progress: (message) => log(`  n8n: ${message}`),
  });
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
  const capped: CappedRun[] = [];
  const problems: string[] = [];
  let baselineAssetsPerSecond = 0;
  const lib = await simulatedLibrary(n);
  const restorePorts = await privateN8nPorts();
  try {
    const env = await templateOnLibrary(lib, workDir, { dryRun: false, maxAssetsPerRun: perRun }, log);
    const { n8nBin } = ensureN8n();
    const seenExecutions = new Set<string>();
    newExecutions(env.n8n.userFolder, n8nBin, seenExecutions);
    const maxRuns = Math.ceil(n / perRun) + 1;
    let handled = 0;
    for (let i = 0; i < maxRuns && handled < n; i++) {
      const sampler = new TreeRssSampler(process.pid, false, 100).start();
      let command;
      try {
        command = await env.n8n.n8n(['execute', `--id=${env.workflowId}`], 'n8n execute', 20 * 60_000);
      } finally {
        sampler.stop();
      }
      const executions = newExecutions(env.n8n.userFolder, n8nBin, seenExecutions);
      if (executions.length !== 1) throw new Error(`n8n stored ${executions.length} executions for one \`n8n execute\` (expected 1)`);
      const execution = executions[0];
      if (execution.status !== 'success') problems.push(`run ${i + 1}: n8n execution ${execution.id} ended "${execution.status}"`);
      const summary = firstOutput(execution, SUMMARY_NODE)[0]?.json as unknown as TemplateSummary | undefined;
      const figures: RunFigures = {
        assets: firstOutput(execution, SEARCH_NODE).length,
        written: summary?.written ?? 0,
        failed: summary?.failed ?? 0,
        seconds: command.durationMs / 1000,
        workflowSeconds: execution.seconds,
        treePeakBytes: sampler.stop(),
        n8nPeakBytes: sampler.largestProcessPeak(),
        storedBytes: execution.storedBytes,
        outputBytes: Buffer.byteLength(command.stdout),
      };
      if (figures.failed > 0) problems.push(`run ${i + 1}: ${figures.failed} failed (${summary?.failedAssets?.[0]?.reason ?? ''})`);
      runs.push(figures);
      handled += figures.assets;
      log(
        `  run ${i + 1}: ${figures.assets} assets (${figures.written} written) in ${figures.seconds.toFixed(1)} s (workflow ${figures.workflowSeconds.toFixed(1)} s), ` +
          `n8n peak ${mib(figures.n8nPeakBytes)} MiB, tree ${mib(figures.treePeakBytes)} MiB, stored ${Math.round(figures.storedBytes / 1024)} KiB`,
      );
      if (figures.assets === 0) break;
    }
    if (handled < n) problems.push(`only ${handled} of ${n} assets handled in ${runs.length} runs`);

    // The same library once more, from a fresh copy of the workflow (a full pass that finds every file
    // unchanged), against a server that caps search pages at PAGE_CAP assets whatever `size` asks.
    lib.simulator.setSearchBehaviour({ pageCap: PAGE_CAP });
    const copyId = await env.importCopy('immichBenchPageCapped', lib.photoDir, { dryRun: false, maxAssetsPerRun: perRun });
    const listedTimes = new Map<string, number>();
    for (let i = 0; i < maxRuns + 1; i++) {
      const command = await env.n8n.n8n(['execute', `--id=${copyId}`], 'n8n execute', 20 * 60_000);
      const execution = newExecutions(env.n8n.userFolder, n8nBin, seenExecutions)[0];
      const listed = execution ? firstOutput(execution, SEARCH_NODE).map((item) => item.json as { id: string; syncOrigin?: string }) : [];
      for (const item of listed) if (!item.syncOrigin) listedTimes.set(item.id, (listedTimes.get(item.id) ?? 0) + 1);
      capped.push({ assets: listed.length, seconds: command.durationMs / 1000, workflowSeconds: execution?.seconds ?? 0 });
      log(`  page-capped run ${i + 1}: ${listed.length} assets in ${(command.durationMs / 1000).toFixed(1)} s (workflow ${(execution?.seconds ?? 0).toFixed(1)} s)`);
      if (listed.length === 0) break;
    }
    const twice = [...listedTimes.values()].filter((times) => times > 1).length;
    if (listedTimes.size !== n || twice > 0) problems.push(`pages capped at ${PAGE_CAP}: ${listedTimes.size} of ${n} assets listed, ${twice} more than once`);
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
  return { figures: [...endToEndFigures(n, perRun, runs, baselineAssetsPerSecond, problems), ...cappedFigures(n, runs, capped)], notDone: [] };
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

function cappedFigures(n: number, runs: RunFigures[], capped: CappedRun[]): Figure[] {
  const section = '4 n8n e2e';
  const assets = capped.reduce((sum, r) => sum + r.assets, 0);
  const workflowSeconds = capped.reduce((sum, r) => sum + r.workflowSeconds, 0);
  const firstPass = runs.reduce((sum, r) => sum + r.assets, 0) / runs.reduce((sum, r) => sum + r.workflowSeconds, 0);
  return [
    {
      id: 'e2e.pageCappedRate', section, name: `template in n8n, full re-check of ${n} unchanged assets, pages capped at ${PAGE_CAP} by the server`, value: workflowSeconds > 0 ? assets / workflowSeconds : null, unit: 'assets/s',
      baselineName: 'first pass (uncapped pages, writing)', baselineValue: firstPass, ratio: workflowSeconds > 0 ? assets / workflowSeconds / firstPass : null, ratioLabel: 'of baseline',
      target: `all ${n} listed exactly once`, pass: assets === n, note: `${capped.length} executes, ${assets} assets handed out`,
    },
  ];
}
