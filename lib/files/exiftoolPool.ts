/**
 * One long-lived ExifTool (a small pool of `-stay_open` processes) per run, configured so that
 * nothing is written silently wrong: minor errors are errors, no `_original` backups are left
 * behind, and image data hashes are available for verification.
 */
import { ExifTool } from 'exiftool-vendored';
import { accessSync, constants as fsConstants } from 'fs';
import * as path from 'path';

import { READ_OPTIONS } from '../metadata/readOptions';

export const DEFAULT_EXIFTOOL_PROCESSES = 2;

export interface ExifToolPoolOptions {
  /** ExifTool processes to run in parallel (default 2). */
  maxProcs?: number;
  /** Per-task timeout; large videos on slow disks need more. */
  taskTimeoutMillis?: number;
  /** Only to point at a different ExifTool script (tests use it to simulate a broken install). */
  exiftoolPath?: string;
}

/** ExifTool could not start: a setup problem, not an asset's problem. */
export class ExifToolUnavailableError extends Error {
  constructor(cause: string) {
    super(
      `ExifTool could not start (${cause}). ExifTool needs Perl: install perl (Debian/Ubuntu: apt-get install perl). ` +
        'The official n8n Docker image has no Perl, and since n8n 2.1 it has no apk package manager either, so it cannot be added at runtime: ' +
        'build your n8n image from the Dockerfile in this package\'s README (it adds Perl), then restart n8n.',
    );
    this.name = 'ExifToolUnavailableError';
  }
}

/**
 * Where Perl is, or null. ExifTool's script starts with `#!/usr/bin/perl`; exiftool-vendored falls
 * back to the first `perl` on PATH when that is missing.
 */
export function findPerl(searchPath: string | undefined = process.env.PATH, fixedLocations: readonly string[] = ['/usr/bin/perl']): string | null {
  const candidates = [...fixedLocations, ...(searchPath ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'perl'))];
  return candidates.find(isExecutable) ?? null;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Checked before any process is spawned: a spawn that fails with ENOENT surfaces as an unhandled
 * 'error' event inside the process pool and would take the whole n8n process down.
 */
export function assertExifToolCanStart(options: ExifToolPoolOptions = {}): void {
  if (process.platform === 'win32') return; // the Windows build bundles its own Perl
  if (findPerl() === null) throw new ExifToolUnavailableError('perl was not found in /usr/bin or on PATH');
  if (options.exiftoolPath && !isExecutable(options.exiftoolPath)) {
    throw new ExifToolUnavailableError(`${options.exiftoolPath} does not exist or is not executable`);
  }
}

export function createExifTool(options: ExifToolPoolOptions = {}): ExifTool {
  assertExifToolCanStart(options);
  const maxProcs = options.maxProcs ?? DEFAULT_EXIFTOOL_PROCESSES;
  if (!Number.isInteger(maxProcs) || maxProcs < 1 || maxProcs > 16) {
    throw new RangeError(`ExifTool processes must be a whole number from 1 to 16 (got ${maxProcs}).`);
  }
  return new ExifTool({
    ...READ_OPTIONS,
    maxProcs,
    // A warning-level problem while writing (e.g. a malformed video box) must fail, not be "fixed"
    // by ExifTool dropping data.
    ignoreMinorErrors: false,
    // The writer writes to a temporary copy and renames it itself; ExifTool must not leave
    // `photo.jpg_original` files next to every photo.
    writeArgs: ['-overwrite_original'],
    imageHashType: 'MD5',
    ...(options.taskTimeoutMillis ? { taskTimeoutMillis: options.taskTimeoutMillis } : {}),
    ...(options.exiftoolPath ? { exiftoolPath: options.exiftoolPath } : {}),
  });
}

/** Starts ExifTool once and turns any start failure into the Perl/Dockerfile advice. */
export async function assertExifToolRuns(exiftool: ExifTool): Promise<string> {
  try {
    const version = await exiftool.version();
    if (!/^\d+\.\d+/.test(version)) throw new Error(`unexpected version answer "${version}"`);
    return version;
  } catch (error) {
    throw new ExifToolUnavailableError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Runs `work` with a started ExifTool and always ends it, so no Perl process outlives the run.
 */
export async function withExifTool<T>(options: ExifToolPoolOptions, work: (exiftool: ExifTool) => Promise<T>): Promise<T> {
  const exiftool = createExifTool(options);
  try {
    await assertExifToolRuns(exiftool);
    return await work(exiftool);
  } finally {
    await exiftool.end();
  }
}
