/**
 * One full reconcile pass of our run loop in its own process, for bench section 7 (the simulator answers
 * from the parent). Input: one JSON argument; output: one JSON line (PassReport) on stdout. ExifTool calls
 * are counted on the pool the run uses.
 */
import type { ExifTool } from 'exiftool-vendored';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { createExifTool } from '../lib/files/exiftoolPool';
import { ImmichClient } from '../lib/immich/client';
import { AxiosTransport } from '../cli/axiosTransport';
import { DEFAULT_MODULES } from '../lib/metadata/types';
import { runSync } from '../lib/sync/runSync';
import { FileStateStore } from '../lib/sync/stateStore';
import { openLibraryIndex, type SyncIndex } from '../lib/sync/syncIndex';

/** check: today's path (no index) or through the index; prime: record what a slow pass would, ExifTool not asked. */
export type PassKind = 'check' | 'prime';

export interface PassReport {
  seconds: number;
  cpuSeconds: number;
  exiftoolCalls: number;
  written: number;
  unchanged: number;
  failed: number;
  firstProblem: string | null;
}

interface PassConfig {
  apiUrl: string;
  apiKey: string;
  libraryPath: string;
  /** null: no sync index (today's no-change pass). */
  indexRoot: string | null;
  kind: PassKind;
  pageSize: number;
}

const MODULES = [...DEFAULT_MODULES];

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

/**
 * An index whose lookups record instead of answer: every file is taken as holding its plan, as a slow pass
 * that found it unchanged would record it (the signature seen now, after the racy window since the file was made).
 */
function primingIndex(real: SyncIndex): SyncIndex {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === 'isUnchanged') {
        return (key: string, plan: string, current: { signature: string; changedAtMs: number } | null) => {
          if (current) target.record(key, { plan, signature: current.signature, seenAt: Date.now() });
          return current !== null;
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as PassConfig;
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-reconcile-state-'));
  const client = new ImmichClient(new AxiosTransport({ url: config.apiUrl, apiKey: config.apiKey }));
  const { exiftool, calls } = countingExifTool();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let firstProblem: string | null = null;
  try {
    // Opening (loading) the index is part of the pass, as in a real run.
    const index = config.indexRoot ? await openLibraryIndex(config.indexRoot, config.libraryPath) : null;
    const summary = await runSync({
      client,
      exiftool,
      store: new FileStateStore(stateDir), // a fresh checkpoint: a full reconcile lists everything
      index: index && config.kind === 'prime' ? primingIndex(index) : index,
      settings: {
        mode: 'full',
        modules: MODULES,
        buildOptions: { modules: MODULES },
        libraryPath: config.libraryPath,
        mapping: { mode: 'lastSegments', segments: 3 },
        target: 'original',
        dryRun: false,
        pageSize: config.pageSize,
        concurrency: 16,
      },
      onResult: (result) => {
        if (result.status === 'failed' && !firstProblem) firstProblem = result.reason ?? 'failed';
      },
    });
    await index?.close();
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    const used = process.cpuUsage(cpu);
    const report: PassReport = {
      seconds,
      cpuSeconds: (used.user + used.system) / 1e6,
      exiftoolCalls: calls(),
      written: summary.written,
      unchanged: summary.unchanged,
      failed: summary.failed,
      firstProblem,
    };
    process.stdout.write(JSON.stringify(report) + '\n');
  } finally {
    await exiftool.end();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
