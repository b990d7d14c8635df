import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { createExifTool } from '../lib/files/exiftoolPool';
import { ImmichClient } from '../lib/immich/client';
import { AxiosTransport } from '../cli/axiosTransport';
import type { ModuleName } from '../lib/metadata/types';
import { runSync, type RunSyncSettings, type RunSyncSummary } from '../lib/sync/runSync';
import { FileStateStore } from '../lib/sync/stateStore';

export interface PipelineRun {
  apiUrl: string;
  apiKey: string;
  libraryPath: string;
  modules: ModuleName[];
  dryRun: boolean;
  /** Fresh state (no checkpoint, no membership cache) unless a directory is given. */
  stateDir?: string;
  maxAssets?: number;
  pageSize?: number;
}

export interface PipelineOutcome {
  summary: RunSyncSummary;
  seconds: number;
  firstProblem: string | null;
}

/** Our run loop exactly as the command line drives it: client → runSync → syncAsset, one ExifTool pool of 2. */
export async function runPipeline(run: PipelineRun, onHandled?: (count: number) => void): Promise<PipelineOutcome> {
  const stateDir = run.stateDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'immich-bench-state-'));
  const client = new ImmichClient(new AxiosTransport({ url: run.apiUrl, apiKey: run.apiKey }));
  const exiftool = createExifTool({ maxProcs: 2 });
  const settings: RunSyncSettings = {
    mode: 'full',
    modules: run.modules,
    buildOptions: { modules: run.modules },
    libraryPath: run.libraryPath,
    mapping: { mode: 'lastSegments', segments: 3 },
    target: 'original',
    dryRun: run.dryRun,
    ...(run.maxAssets ? { maxAssets: run.maxAssets } : {}),
    ...(run.pageSize ? { pageSize: run.pageSize } : {}),
  };
  let firstProblem: string | null = null;
  let handled = 0;
  const start = process.hrtime.bigint();
  try {
    const summary = await runSync({
      client,
      exiftool,
      store: new FileStateStore(stateDir),
      settings,
      onResult: (result) => {
        if (result.status === 'failed' && !firstProblem) firstProblem = result.reason ?? 'failed';
        onHandled?.(++handled);
      },
    });
    return { summary, seconds: Number(process.hrtime.bigint() - start) / 1e9, firstProblem };
  } finally {
    await exiftool.end();
    if (!run.stateDir) fs.rmSync(stateDir, { recursive: true, force: true });
  }
}
