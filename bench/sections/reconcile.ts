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
import type { ExifTool } from 'exiftool-vendored';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../lib/immich/transport';
import { DEFAULT_MODULES } from '../../lib/metadata/types';
import { walkListing } from '../../lib/sync/listing';
import { runSync, type RunSyncSummary } from '../../lib/sync/runSync';
import { FileStateStore } from '../../lib/sync/stateStore';
import { DEFAULT_RACY_WINDOW_MS, openLibraryIndex, SyncIndex, type IndexEntry } from '../../lib/sync/syncIndex';
import { samplesDir } from '../../test/simulator/paths';
import type { Figure } from '../figures';
import type { BenchScale } from '../scale';
import { simulatedLibrary, type SimulatedLibrary } from '../simulated';
import type { SectionOutcome } from './index';

const PAGE_SIZE = 1000;
const MODULES = [...DEFAULT_MODULES];
const TINY_JPEG = 'metadata/dates/time-created.jpg';

interface Pass {
  summary: RunSyncSummary;
  seconds: number;
  exiftoolCalls: number;
  cpuSeconds: number;
}

/** ExifTool with every method call counted (what "0 ExifTool calls" is measured with). */
function countingExifTool(): { exiftool: ExifTool; calls: () => number } {
  const real = createExifTool({ maxProcs: 2 });
  let calls = 0;
  const exiftool = new Proxy(real, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (prop !== 'end') calls++;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { exiftool, calls: () => calls };
}

/** A full pass of our run loop, fresh checkpoint each time (a full reconcile lists everything). */
async function fullPass(lib: SimulatedLibrary, index: SyncIndex | null, dryRun = false): Promise<Pass> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-reconcile-state-'));
  const client = new ImmichClient(new AxiosTransport({ url: lib.simulator.url, apiKey: lib.simulator.apiKey }));
  const { exiftool, calls } = countingExifTool();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  try {
    const summary = await runSync({
      client,
      exiftool,
      store: new FileStateStore(stateDir),
      index,
      settings: { mode: 'full', modules: MODULES, buildOptions: { modules: MODULES }, libraryPath: lib.photoDir, mapping: { mode: 'lastSegments', segments: 3 }, target: 'original', dryRun, pageSize: PAGE_SIZE, concurrency: 16 },
    });
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    await index?.flush();
    return { summary, seconds, exiftoolCalls: calls(), cpuSeconds: (used.user + used.system) / 1e6 };
  } finally {
    await exiftool.end();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

/** Only the listing the run loop walks (same request, same page size): the ceiling of any full reconcile. */
async function listingSeconds(lib: SimulatedLibrary): Promise<{ seconds: number; assets: number }> {
  const client = new ImmichClient(new AxiosTransport({ url: lib.simulator.url, apiKey: lib.simulator.apiKey }));
  const start = process.hrtime.bigint();
  let assets = 0;
  for await (const asset of walkListing(client, { source: { kind: 'updated' }, filters: { order: 'asc' }, skipIds: [] }, PAGE_SIZE)) if (asset.id) assets++;
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, assets };
}

/**
 * An index whose lookups record instead of answer: every file is taken as holding its plan, as a slow pass
 * that found it unchanged would record it (the signature seen now, later than the racy window after the file
 * was made).
 */
function primingIndex(real: SyncIndex): SyncIndex {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'isUnchanged') {
        return (key: string, plan: string, current: { signature: string; changedAtMs: number } | null) => {
          if (current) target.record(key, { plan, signature: current.signature, seenAt: Date.now() } satisfies IndexEntry);
          return current !== null;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
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

const rate = (pass: Pass): number => pass.summary.unchanged / pass.seconds;
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
      const first = await fullPass(small, null);
      const today = await fullPass(small, null);
      todayRate = rate(today);
      await sleep(DEFAULT_RACY_WINDOW_MS + 100);
      const index = await openLibraryIndex(indexRoot, small.photoDir);
      const building = await fullPass(small, index);
      const fast = await fullPass(small, index);
      await index.close();
      log(`  ${scale.reconcileRealFiles} sample copies: first pass wrote ${first.summary.written}; today's no-change pass ${todayRate.toFixed(1)} assets/s (${today.exiftoolCalls} ExifTool calls); index-building pass ${rate(building).toFixed(1)}/s; with the index ${rate(fast).toFixed(0)}/s (${fast.exiftoolCalls} ExifTool calls)`);
      const ok = today.summary.written === 0 && fast.summary.unchanged === scale.reconcileRealFiles && fast.exiftoolCalls === 0;
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
        const index = await openLibraryIndex(indexRoot, lib.photoDir);
        const primed = await fullPass(lib, primingIndex(index));
        await index.close();
        const reopened = await openLibraryIndex(indexRoot, lib.photoDir); // as the next run would: loaded from disk
        const fast = await fullPass(lib, reopened);
        await reopened.close();
        const ceiling = await listingSeconds(lib);
        const ceilingRate = ceiling.assets / ceiling.seconds;
        const fastRate = rate(fast);
        const cpuPerAsset = (fast.cpuSeconds / n) * 1e6;
        log(`  ${n} assets: ${fastRate.toFixed(0)} assets/s with the index (${fast.exiftoolCalls} ExifTool calls, ${fast.summary.unchanged} unchanged, CPU ${cpuPerAsset.toFixed(0)} µs/asset), listing alone ${ceilingRate.toFixed(0)} assets/s, priming pass ${(primed.summary.unchanged / primed.seconds).toFixed(0)}/s`);
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
          pass: fastRate >= target && fast.exiftoolCalls === 0 && fast.summary.unchanged === n,
          note: `listing ceiling ${ceilingRate.toFixed(0)} assets/s (${ceiling.seconds.toFixed(2)} s, ${((100 * ceiling.seconds) / fast.seconds).toFixed(0)}% of the pass); our process (simulator included) CPU ${cpuPerAsset.toFixed(0)} µs/asset, wall ${((fast.seconds / n) * 1e6).toFixed(0)} µs/asset; ExifTool calls ${fast.exiftoolCalls}; index loaded from disk with ${n} entries`,
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
