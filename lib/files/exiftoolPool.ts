/**
 * One long-lived ExifTool (a small pool of `-stay_open` processes) per run, configured so that
 * nothing is written silently wrong: minor errors are errors, no `_original` backups are left
 * behind, and image data hashes are available for verification.
 */
import { ExifTool } from 'exiftool-vendored';
import { accessSync, closeSync, constants as fsConstants, openSync, readSync } from 'fs';
import * as path from 'path';

import { READ_OPTIONS } from '../metadata/readOptions';
import { WasmExifTool } from './wasmExifTool';

export const DEFAULT_EXIFTOOL_PROCESSES = 2;

/** `auto`: system Perl when one runs, else the built-in WebAssembly ExifTool. */
export const EXIFTOOL_ENGINES = ['auto', 'perl', 'wasm'] as const;
export type ExifToolEngine = (typeof EXIFTOOL_ENGINES)[number];

/**
 * Measured by `npm run bench` (engines, Perl pool over built-in on the same files, 2026-12-02 14:18 UTC):
 * 6.2× for write+verify, 7.6× for unchanged files.
 */
export const WASM_SLOWDOWN_FACTOR = 8;

export interface ExifToolPoolOptions {
  /** ExifTool processes to run in parallel (default 2). */
  maxProcs?: number;
  /** Per-task timeout; large videos on slow disks need more. */
  taskTimeoutMillis?: number;
  /** Only to point at a different ExifTool script (tests use it to simulate a broken install). */
  exiftoolPath?: string;
  /** Which ExifTool runs: system Perl, the built-in WebAssembly one, or `auto` (default). */
  engine?: ExifToolEngine;
  /** The built-in engine's largest file (default: from free memory, see defaultSizeLimitBytes); tests lower it. */
  wasmSizeLimitBytes?: number;
}

/** ExifTool could not start: a setup problem, not an asset's problem. */
export class ExifToolUnavailableError extends Error {
  constructor(cause: string) {
    super(
      `ExifTool could not start (${cause}). ExifTool needs Perl: install perl (Debian/Ubuntu: apt-get install perl). ` +
        'The official n8n Docker image has no Perl, and since n8n 2.1 it has no apk package manager either, so it cannot be added at runtime: ' +
        'build your n8n image from the Dockerfile in this package\'s README (it adds Perl), then restart n8n; or set ExifTool Engine to "Automatic" or "Built-in" (--exiftool-engine auto or wasm), which runs without Perl.',
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

/**
 * Whether the Perl found is a program at all: an executable that is empty or neither a binary nor a
 * script (a placeholder, a file mounted over it) cannot run ExifTool. Nodes may not spawn a probe.
 */
export function systemPerlRuns(): boolean {
  const perl = findPerl();
  if (perl === null) return false;
  const head = Buffer.alloc(4);
  let fd: number | undefined;
  try {
    fd = openSync(perl, 'r');
    const read = readSync(fd, head, 0, 4, 0);
    return read === 4 && (head.toString('latin1') === '\x7fELF' || head.toString('latin1', 0, 2) === '#!');
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

let noPerlNoticeShown = false;

/** The engine `engine` stands for on this machine; `auto` without Perl says so once per process. */
export function chooseEngine(engine: ExifToolEngine = 'auto', log: (message: string) => void = (m) => process.stderr.write(`${m}\n`)): 'perl' | 'wasm' {
  if (!EXIFTOOL_ENGINES.includes(engine)) throw new RangeError(`ExifTool engine must be one of ${EXIFTOOL_ENGINES.join(', ')} (got ${String(engine)}).`);
  if (engine !== 'auto') return engine;
  if (process.platform === 'win32' || systemPerlRuns()) return 'perl'; // the Windows build bundles its own Perl
  if (!noPerlNoticeShown) {
    noPerlNoticeShown = true;
    log(`no Perl found: using the built-in WebAssembly ExifTool, about ${WASM_SLOWDOWN_FACTOR}× slower; install Perl for speed`);
  }
  return 'wasm';
}

/** The settings every ExifTool of a run shares, whichever engine runs it. */
const SAFE_WRITE_OPTIONS = {
  ...READ_OPTIONS,
  // A warning-level problem while writing (e.g. a malformed video box) must fail, not be "fixed"
  // by ExifTool dropping data.
  ignoreMinorErrors: false,
  // The writer writes to a temporary copy and renames it itself; ExifTool must not leave
  // `photo.jpg_original` files next to every photo.
  writeArgs: ['-overwrite_original'],
  imageHashType: 'MD5',
} as const;

export function createExifTool(options: ExifToolPoolOptions = {}): ExifTool {
  if (chooseEngine(options.engine) === 'wasm') {
    return new WasmExifTool({
      ...SAFE_WRITE_OPTIONS,
      writeArgs: [...SAFE_WRITE_OPTIONS.writeArgs],
      ...(options.wasmSizeLimitBytes ? { sizeLimitBytes: options.wasmSizeLimitBytes } : {}),
    });
  }
  assertExifToolCanStart(options);
  const maxProcs = options.maxProcs ?? DEFAULT_EXIFTOOL_PROCESSES;
  if (!Number.isInteger(maxProcs) || maxProcs < 1 || maxProcs > 16) {
    throw new RangeError(`ExifTool processes must be a whole number from 1 to 16 (got ${maxProcs}).`);
  }
  return new ExifTool({
    ...SAFE_WRITE_OPTIONS,
    writeArgs: [...SAFE_WRITE_OPTIONS.writeArgs],
    maxProcs,
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
