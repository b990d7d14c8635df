/**
 * Section 7: a full reconcile of an unchanged library through the sync index, against today's no-change
 * pass (every file read with ExifTool) and against the listing ceiling (only paging through the simulator's
 * listing, the least any reconcile must do).
 *
 * Real files: a small set of sample copies goes the whole way (written, checked by ExifTool with and without
 * the index, then the shortcut). At 1,000 / 10,000 / 100,000 assets the files are tiny JPEG copies and the
 * index is primed by a pass through the same run loop whose lookups record what a slow pass would have
 * recorded (plan hash, signature) instead of asking ExifTool whether the file holds the plan: a slow pass over
 * 10,000 files would take minutes and prove nothing more about the shortcut's speed.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../cli/axiosTransport';
import { walkListing } from '../../lib/sync/listing';
import { DEFAULT_RACY_WINDOW_MS } from '../../lib/sync/syncIndex';
import { samplesDir } from '../../test/simulator/paths';
import type { Figure } from '../figures';
import { repoRoot } from '../paths';
import type { PassKind, PassReport } from '../reconcileWorker';
import type { BenchScale } from '../scale';
import { simulatedLibrary, type SimulatedLibrary } from '../simulated';
import type { SectionOutcome } from './index';

const PAGE_SIZE = 1000;
const TINY_JPEG = 'metadata/dates/time-created.jpg';

/** One pass in its own process (as the scaling section does): the simulator's work stays in this one. */
function pass(lib: SimulatedLibrary, indexRoot: string | null, kind: PassKind = 'check'): Promise<PassReport> {
  const script = path.join(repoRoot(), 'dist', 'bench', 'reconcileWorker.js');
  if (!fs.existsSync(script)) throw new Error(`bench: ${script} is missing; run "npm run build" first`);
  const config = { apiUrl: lib.simulator.url, apiKey: lib.simulator.apiKey, libraryPath: lib.photoDir, indexRoot, kind, pageSize: PAGE_SIZE };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [script, JSON.stringify(config)], { maxBuffer: 1 << 20, timeout: 1_200_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`reconcile worker failed: ${error.message} ${stderr.slice(-500)}`));
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? ''));
      } catch {
        reject(new Error(`reconcile worker printed no report: ${stdout.slice(-300)} ${stderr.slice(-300)}`));
      }
    });
  });
}

/** Only the listing the run loop walks (same request, same page size): the ceiling of any full reconcile. */
async function listingSeconds(lib: SimulatedLibrary): Promise<{ seconds: number; assets: number }> {
  const client = new ImmichClient(new AxiosTransport({ url: lib.simulator.url, apiKey: lib.simulator.apiKey }));
  const start = process.hrtime.bigint();
  let assets = 0;
  for await (const asset of walkListing(client, { source: { kind: 'updated' }, filters: { order: 'asc' }, skipIds: [] }, PAGE_SIZE)) if (asset.id) assets++;
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, assets };
}

function tinyFiles(lib: SimulatedLibrary, n: number): void {
  const bytes = fs.readFileSync(path.join(samplesDir(), TINY_JPEG));
  for (let i = 0; i < n; i++) {
    const file = lib.synthetic.localPath(i);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, bytes);
  }
}

function sampleCopies(lib: SimulatedLibrary, n: number): void {
  lib.synthetic.materialize();
  for (let i = 0; i < n; i++) fs.chmodSync(lib.synthetic.localPath(i), 0o644);
}

const rate = (report: PassReport): number => report.unchanged / report.seconds;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function reconcileSection(scale: BenchScale, log: (line: string) => void): Promise<SectionOutcome> {
  const section = '7 reconcile';
  const figures: Figure[] = [];
  const notDone: string[] = [];
  const indexRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-index-'));
  try {
    // ---- real sample copies, the whole way: today's no-change pass and the shortcut on the same files ----
    const small = await simulatedLibrary(scale.reconcileRealFiles, { prebuilt: true });
    let todayRate = 0;
    try {
      sampleCopies(small, scale.reconcileRealFiles);
      const first = await pass(small, null);
      const today = await pass(small, null);
      todayRate = rate(today);
      await sleep(DEFAULT_RACY_WINDOW_MS + 100);
      const building = await pass(small, indexRoot);
      const fast = await pass(small, indexRoot);
      log(`  ${scale.reconcileRealFiles} sample copies: first pass wrote ${first.written}; today's no-change pass ${todayRate.toFixed(1)} assets/s (${today.exiftoolCalls} ExifTool calls); index-building pass ${rate(building).toFixed(1)}/s; with the index ${rate(fast).toFixed(0)}/s (${fast.exiftoolCalls} ExifTool calls)`);
      const ok = today.written === 0 && fast.unchanged === scale.reconcileRealFiles && fast.exiftoolCalls === 0;
      figures.push({
        id: 'reconcile.realFiles',
        section,
        name: `unchanged full reconcile, ${scale.reconcileRealFiles} real sample files written and checked by ExifTool first`,
        value: rate(fast),
        unit: 'assets/s',
        baselineName: "today's no-change pass (ExifTool reads every file)",
        baselineValue: todayRate,
        ratio: rate(fast) / todayRate,
        ratioLabel: 'x today',
        target: '0 ExifTool calls, all unchanged',
        pass: ok,
        note: `ExifTool calls: ${fast.exiftoolCalls} with the index, ${today.exiftoolCalls} today; index-building pass ${rate(building).toFixed(1)} assets/s`,
      });
    } finally {
      await small.close();
    }

    // ---- 1,000 / 10,000 / 100,000 tiny files, primed index ----
    for (const n of scale.reconcileSizes) {
      const lib = await simulatedLibrary(n, { prebuilt: true });
      try {
        tinyFiles(lib, n);
        await sleep(DEFAULT_RACY_WINDOW_MS + 100);
        const primed = await pass(lib, indexRoot, 'prime');
        const fast = await pass(lib, indexRoot); // a fresh process: the index is loaded from disk as the next run would
        if (primed.unchanged !== n) throw new Error(`priming recorded ${primed.unchanged} of ${n} assets (${primed.firstProblem ?? 'no failure reported'})`);
        const ceiling = await listingSeconds(lib);
        const ceilingRate = ceiling.assets / ceiling.seconds;
        const fastRate = rate(fast);
        const cpuPerAsset = (fast.cpuSeconds / n) * 1e6;
        log(`  ${n} assets: ${fastRate.toFixed(0)} assets/s with the index (${fast.exiftoolCalls} ExifTool calls, ${fast.unchanged} unchanged, CPU ${cpuPerAsset.toFixed(0)} µs/asset), listing alone ${ceilingRate.toFixed(0)} assets/s, priming pass ${(primed.unchanged / primed.seconds).toFixed(0)}/s`);
        const target = Math.min(2000, ceilingRate);
        figures.push({
          id: `reconcile.indexed.${n}`,
          section,
          name: `unchanged full reconcile with the sync index, ${n.toLocaleString('en-US')} assets (tiny files on disk)`,
          value: fastRate,
          unit: 'assets/s',
          baselineName: "today's no-change pass (real files, above)",
          baselineValue: todayRate,
          ratio: fastRate / todayRate,
          ratioLabel: 'x today',
          target: `>= ${target.toFixed(0)} assets/s (2,000 or the listing ceiling ${ceilingRate.toFixed(0)}), 0 ExifTool calls`,
          pass: fastRate >= target && fast.exiftoolCalls === 0 && fast.unchanged === n,
          note: `listing ceiling ${ceilingRate.toFixed(0)} assets/s (${ceiling.seconds.toFixed(2)} s, ${((100 * ceiling.seconds) / fast.seconds).toFixed(0)}% of the pass); our process CPU (simulator in another) ${cpuPerAsset.toFixed(0)} µs/asset, wall ${((fast.seconds / n) * 1e6).toFixed(0)} µs/asset; ExifTool calls ${fast.exiftoolCalls}; index loaded from disk with ${n} entries`,
        });
      } finally {
        await lib.close();
      }
    }
  } catch (error) {
    notDone.push(`reconcile: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    fs.rmSync(indexRoot, { recursive: true, force: true });
  }
  return { figures, notDone };
}
