#!/usr/bin/env node
/**
 * Drop-in for the seed script `immich-ultra-sync.py`: same environment, same flags, same log file
 * name, plus a state directory, path mapping, sidecars and concurrency. Exit codes: 0 = every asset
 * fine, 1 = some assets failed, 2 = could not run (with what to fix), 3 = another run holds the state
 * directory (nothing done).
 */
import { promises as fs } from 'fs';
import * as path from 'path';

import { assertExifToolRuns, createExifTool, ExifToolUnavailableError } from '../lib/files/exiftoolPool';
import { PathMappingConfigError, validateMapping } from '../lib/files/pathMapping';
import { ImmichClient } from '../lib/immich/client';
import { ImmichApiError, ServerContractError } from '../lib/immich/errors';
import { AxiosTransport } from '../lib/immich/transport';
import { clearAlbumCache } from '../lib/sync/albumCache';
import { clearCheckpoint, describeCheckpoint } from '../lib/sync/checkpoint';
import { acquireLease, describeBackOff, LeaseKeeper } from '../lib/sync/lease';
import { runSync, SyncRunError, type RunSyncSummary } from '../lib/sync/runSync';
import { FileStateStore } from '../lib/sync/stateStore';
import { CliConfig, describeStart, LOG_FILE_NAME, parseCli, UsageError, USAGE } from './args';
import { coverageLine, Reporter, resultLine, summaryLine } from './output';

export const EXIT_OK = 0;
export const EXIT_SOME_FAILED = 1;
export const EXIT_CANNOT_RUN = 2;
export const EXIT_BACKED_OFF = 3;

/** A problem with the setup, not with one asset: printed as is, exit code 2. */
class SetupError extends Error {}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let config: CliConfig;
  try {
    config = parseCli(argv, env);
  } catch (error) {
    process.stderr.write(`${messageOf(error)}\n`);
    return EXIT_CANNOT_RUN;
  }
  if (config.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }

  const reporter = new Reporter(config.apiKey, path.join(config.stateDir, LOG_FILE_NAME));
  try {
    return await run(config, argv, reporter);
  } catch (error) {
    reporter.error(cannotRunMessage(error));
    return EXIT_CANNOT_RUN;
  }
}

/**
 * The whole run holds the state directory's lease (lib/sync/lease.ts), the same one n8n's template
 * takes on its state folder: a second run at once (cron overlapping, another host) backs off instead
 * of doing the same work.
 */
async function run(config: CliConfig, argv: string[], reporter: Reporter): Promise<number> {
  reporter.log(describeStart(config, argv));
  const attempt = await acquireLease(config.stateDir, { run: 'command line' });
  if (!attempt.acquired) {
    reporter.line(describeBackOff(attempt.holder, `the state directory ${config.stateDir}`));
    return EXIT_BACKED_OFF;
  }
  const lease = new LeaseKeeper(config.stateDir, attempt.lease);
  try {
    return await runHoldingLease(config, reporter, lease);
  } finally {
    await lease.release();
  }
}

async function runHoldingLease(config: CliConfig, reporter: Reporter, lease: LeaseKeeper): Promise<number> {
  const store = new FileStateStore(config.stateDir);

  if (config.clearCheckpoint) {
    await store.saveCheckpoint(clearCheckpoint());
    reporter.line('checkpoint cleared: the next run starts from the beginning');
  }
  if (config.clearAlbumCache) {
    for (const kind of ['albums', 'tags'] as const) await store.saveMembershipCache(kind, clearAlbumCache(await store.loadMembershipCache(kind)));
    reporter.line('album cache cleared: album and tag membership is fetched again on the next run');
  }
  if (config.modules.length === 0) {
    if (config.clearCheckpoint || config.clearAlbumCache) return EXIT_OK;
    throw new SetupError('Choose what to sync: --all, or one or more of --people --gps --caption --time --rating --albums --face-coordinates --tags (see --help).');
  }
  if (!config.url) throw new SetupError('IMMICH_INSTANCE_URL is not set: export IMMICH_INSTANCE_URL=https://photos.example.com (with or without /api).');
  if (!config.apiKey) throw new SetupError('IMMICH_API_KEY is not set: create a key in Immich (Account Settings → API Keys) and export IMMICH_API_KEY=...');
  await checkPhotoDir(config.photoDir);
  validateMapping(config.photoDir, config.mapping);

  const transport = new AxiosTransport({
    url: config.url,
    apiKey: config.apiKey,
    retry: { maxRetries: config.retries },
    onRetry: (e) => reporter.log(`retrying ${e.route} in ${e.delayMs} ms (attempt ${e.attempt}: ${e.reason})`),
  });
  const client = new ImmichClient(transport);
  // One cheap authenticated request first, so a wrong URL or key is reported before any work.
  const version = await client.serverVersion();
  await client.searchAssets({}, 1).next();
  reporter.log(`Immich ${version.major}.${version.minor}.${version.patch} at ${await transport.apiRoot()}`);

  const exiftool = createExifTool({ maxProcs: Math.min(config.concurrency, 4), engine: config.exiftoolEngine });
  const controller = new AbortController();
  let signals = 0;
  let stoppedBy: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals += 1;
    stoppedBy ??= signal;
    if (signals === 1) {
      reporter.error(`${signal}: finishing the files in progress and saving the checkpoint (press again to stop at once)`);
      controller.abort();
      return;
    }
    // Files are replaced atomically by rename, so stopping now leaves none half-written; the
    // checkpoint on disk is the last one saved, and resuming redoes at most the assets in flight.
    reporter.error(`${signal}: stopping now`);
    process.exit(signalExitCode(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let summary: RunSyncSummary;
  let handled = 0;
  try {
    reporter.log(`ExifTool ${await assertExifToolRuns(exiftool)}`);
    reporter.log(`checkpoint before: ${describeCheckpoint(await store.loadCheckpoint())}`);
    try {
      summary = await runSync({
        client,
        exiftool,
        store,
        settings: {
          mode: config.mode,
          modules: config.modules,
          buildOptions: {
            modules: config.modules,
            favoriteAsFiveStars: config.favoriteAsFiveStars,
            albumsInUserComment: config.albumsInUserComment,
          },
          libraryPath: config.photoDir,
          mapping: config.mapping,
          target: config.target,
          dryRun: config.dryRun,
          concurrency: config.concurrency,
          pageSize: config.pageSize,
          maxAssets: config.maxAssets ?? undefined,
          fullReconcileEveryDays: config.fullReconcileEveryDays,
          albumCacheTtlMs: config.albumCacheTtlHours * 3600 * 1000,
        },
        signal: controller.signal,
        onEvent: (message) => reporter.log(message),
        onResult: (result, asset) => {
          handled += 1;
          lease.keepAlive().catch((error: unknown) => reporter.log(`could not renew the lease on ${config.stateDir}: ${messageOf(error)}`));
          const line = resultLine(result, asset.originalPath);
          if (line) reporter.line(line);
          else reporter.log(`unchanged ${result.file ?? asset.originalPath ?? result.assetId}`);
          reporter.progress(`${handled} assets handled`);
        },
      });
    } catch (error) {
      if (!(error instanceof SyncRunError)) throw error;
      reporter.line(coverageLine(error.summary));
      reporter.line(summaryLine(error.summary));
      const cause = error.cause instanceof ServerContractError ? `The Immich server at ${config.url} broke the API contract: ${messageOf(error.cause)}` : messageOf(error.cause);
      throw new SetupError(`${cause} What was finished is saved; run again with --resume to continue.`);
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await exiftool.end();
  }

  reporter.clearProgress();
  reporter.log(`checkpoint after: ${describeCheckpoint(summary.checkpoint)}`);
  if (summary.interrupted) reporter.line('interrupted: run again with --resume to continue where this run stopped');
  else if (!summary.passCompleted && !config.dryRun) reporter.line('stopped at --max-assets: run again with --resume to continue');
  if (config.dryRun) reporter.line('dry run: no file was changed');
  // The seed's closing line stays the last one.
  reporter.line(coverageLine(summary));
  reporter.line(summaryLine(summary));
  if (summary.interrupted && stoppedBy) return signalExitCode(stoppedBy);
  return summary.failed > 0 ? EXIT_SOME_FAILED : EXIT_OK;
}

/** The shell convention for a run ended by a signal (130 for Ctrl-C, 143 for SIGTERM). */
function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
}

async function checkPhotoDir(photoDir: string): Promise<void> {
  let stat;
  try {
    stat = await fs.stat(photoDir);
  } catch {
    throw new SetupError(`PHOTO_DIR "${photoDir}" does not exist: mount the library there or set PHOTO_DIR to where it is.`);
  }
  if (!stat.isDirectory()) throw new SetupError(`PHOTO_DIR "${photoDir}" is not a directory: set PHOTO_DIR to the library folder.`);
}

function cannotRunMessage(error: unknown): string {
  if (error instanceof SetupError || error instanceof UsageError || error instanceof PathMappingConfigError || error instanceof ExifToolUnavailableError) {
    return `cannot run: ${error.message}`;
  }
  if (error instanceof ImmichApiError) {
    if (error.kind === 'unauthorized') return 'cannot run: Immich rejected IMMICH_API_KEY (401): create a new key in Immich (Account Settings → API Keys) and export it.';
    if (error.kind === 'unreachable' || error.kind === 'network' || error.kind === 'timeout') {
      return `cannot run: Immich is not reachable: ${error.message} Check IMMICH_INSTANCE_URL.`;
    }
    return `cannot run: ${error.message}`;
  }
  return `cannot run: ${messageOf(error)}`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`cannot run: ${messageOf(error)}\n`);
      process.exitCode = EXIT_CANNOT_RUN;
    },
  );
}
