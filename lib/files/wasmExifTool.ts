/**
 * ExifTool without a system Perl: the very script and library that exiftool-vendored ships, run by
 * zeroperl (Perl 5 compiled to WebAssembly). It is presented as an `ExifTool` whose tasks never reach
 * a child process: each task's command (the same argument lines the Perl pool gets on stdin) goes
 * into an argument file, queued commands run together in one Perl call (`-@ file`, `-execute`
 * between them), and each task is handed back its own share of stdout and stderr, so readTags,
 * integrity and the writer parse exactly what they parse on the Perl path.
 *
 * zeroperl has no real file system: the files a command names are copied into its memory file
 * system first, and a file ExifTool creates there (the writer's `-o` temporary copy, a new sidecar)
 * is copied out to the same path on disk. ExifTool never renames or deletes anything here; the
 * writer's temp file, fsync and rename stay as they are. Perl runs on a worker thread
 * (wasmPerlWorker), so n8n's main thread stays free while it computes.
 */
import { ExifTool, type ExifToolOptions, type ExifToolTask } from 'exiftool-vendored';
import { randomBytes } from 'crypto';
import { existsSync, promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Worker } from 'worker_threads';

import type { PerlAnswer, PerlCall } from './wasmPerlWorker';

/**
 * Linear memory of one Perl instance above which it is replaced. Measured (ExifTool 13.59, zeroperl
 * 1.0.10): about 30 MB after the first call, then about 9 MB more per call (ExifTool is compiled
 * anew each time and zeroperl keeps part of it), and calls slow down as it grows (1.1 s on average
 * over the first 10 calls, 1.6 s over 60). WebAssembly memory never shrinks, and the process RSS
 * runs about 220 MB above it, so an instance is dropped after about 25 calls: RSS stays near 500 MB.
 */
export const WASM_MEMORY_BOUND_BYTES = 256 * 1024 * 1024;

/** Commands per Perl call: enough to amortise the ~1 s start, few enough that one failure costs little. */
export const MAX_COMMANDS_PER_CALL = 64;

/**
 * The largest file the built-in ExifTool takes. Every file of a call is held in memory (JS copy in,
 * written copy out, ExifTool's own buffers inside the instance): about three times its size beside a
 * Perl instance of up to WASM_MEMORY_BOUND_BYTES. A quarter of the memory free at start, capped at
 * 1 GiB (a WebAssembly instance addresses 4 GiB in all), and at least 64 MiB.
 */
export function defaultSizeLimitBytes(freeMemory: number = os.freemem()): number {
  return Math.max(64 * 1024 * 1024, Math.min(1024 * 1024 * 1024, Math.floor(freeMemory / 4)));
}

export class FileTooLargeError extends Error {
  constructor(file: string, size: number, limit: number) {
    const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
    super(`${file} is too large for the built-in ExifTool (${mb(size)}, limit ${mb(limit)}); install Perl to handle it`);
    this.name = 'FileTooLargeError';
  }
}

/** The size limit of a built-in ExifTool, or null for the Perl pool (which streams files and has none). */
export function fileSizeLimitOf(exiftool: ExifTool): number | null {
  return exiftool instanceof WasmExifTool ? exiftool.sizeLimitBytes : null;
}

export interface WasmEngineOptions {
  /** Files larger than this are refused before anything is read (default: defaultSizeLimitBytes()). */
  sizeLimitBytes?: number;
  /** Linear memory at which the Perl instance is replaced (default WASM_MEMORY_BOUND_BYTES). */
  memoryBoundBytes?: number;
}

interface Queued {
  task: ExifToolTask<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

/** One command ready to run: its argument lines and the host files it reads and may create. */
interface Prepared extends Queued {
  lines: string[];
  inputs: string[];
  outputs: string[];
  bytes: number;
}

type TaskOptions = Parameters<ExifToolTask<unknown>['onStart']>[0];
const silentLogger = { trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** What batch-cluster gives a task when it starts; the output below arrives whole, so nothing waits for a flush. */
const TASK_OPTIONS = {
  passRE: /\{ready\}/,
  failRE: /\{ready\}/,
  streamFlushMillis: 0,
  logger: () => silentLogger,
} as unknown as TaskOptions;

/**
 * The compiled thread script beside this module; from the TypeScript sources (ts-jest) the build's
 * copy, since a worker thread runs JavaScript only.
 */
function workerScript(): string {
  const candidates = [path.join(__dirname, 'wasmPerlWorker.js'), path.join(__dirname, '..', '..', 'dist', 'lib', 'files', 'wasmPerlWorker.js')];
  const found = candidates.find((file) => existsSync(file));
  if (!found) throw new Error(`the built-in ExifTool's thread script is missing (${candidates[0]}); run npm run build`);
  return found;
}

/** Runs queued ExifTool commands in batches, on one Perl thread (wasmPerlWorker) at a time. */
class WasmPerlRunner {
  private readonly queue: Queued[] = [];
  private draining = false;
  private worker: Worker | null = null;
  private ended = false;
  private readonly marker = `{wasm-exiftool-${randomBytes(6).toString('hex')}`;
  /** Perl instances started so far (tests and the bench read it). */
  instancesStarted = 0;
  peakMemoryBytes = 0;

  constructor(
    readonly sizeLimitBytes: number,
    private readonly memoryBoundBytes: number,
  ) {}

  submit<T>(task: ExifToolTask<T>): Promise<T> {
    if (this.ended) return Promise.reject(new Error('the built-in ExifTool has ended'));
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ task: task as ExifToolTask<unknown>, resolve: resolve as (v: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        // Let the callers that run in parallel queue their commands first: they share the call.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.ended) {
        const batch: Prepared[] = [];
        let bytes = 0;
        while (this.queue.length > 0 && batch.length < MAX_COMMANDS_PER_CALL) {
          const next = this.queue[0];
          const prepared = await this.prepare(next).catch((error: Error) => {
            next.reject(error);
            return null;
          });
          if (prepared && batch.length > 0 && bytes + prepared.bytes > this.sizeLimitBytes) break; // it starts the next call
          this.queue.shift();
          if (!prepared) continue;
          batch.push(prepared);
          bytes += prepared.bytes;
        }
        if (batch.length > 0) await this.run(batch);
      }
    } finally {
      this.draining = false;
      if (this.queue.length > 0 && !this.ended) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  private async prepare(queued: Queued): Promise<Prepared> {
    const lines = queued.task.command.split('\n');
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines[lines.length - 1] !== '-execute') throw new Error(`unexpected ExifTool command: ${queued.task.toString()}`);
    lines.pop();
    const inputs: string[] = [];
    const outputs: string[] = [];
    let bytes = 0;
    for (const line of new Set(lines.filter((l) => path.isAbsolute(l)))) {
      let stat;
      try {
        stat = await fs.stat(line);
      } catch {
        outputs.push(line); // ExifTool may create it (`-o` copy, new sidecar); else it reports it missing
        continue;
      }
      if (!stat.isFile()) continue;
      if (stat.size > this.sizeLimitBytes) throw new FileTooLargeError(line, stat.size, this.sizeLimitBytes);
      inputs.push(line);
      bytes += stat.size;
    }
    return { ...queued, lines, inputs, outputs, bytes };
  }

  private call(message: PerlCall): Promise<PerlAnswer> {
    if (!this.worker) {
      this.worker = new Worker(workerScript());
      this.instancesStarted++;
    }
    const worker = this.worker;
    return new Promise<PerlAnswer>((resolve, reject) => {
      const done = (): void => {
        worker.unref(); // an idle Perl thread must not keep the process alive
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (answer: PerlAnswer): void => {
        done();
        resolve(answer);
      };
      const onError = (error: Error): void => {
        done();
        reject(error);
      };
      const onExit = (code: number): void => {
        done();
        reject(new Error(`the Perl thread ended (exit code ${code})`));
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.ref();
      worker.postMessage(message);
    });
  }

  private async run(batch: Prepared[]): Promise<void> {
    try {
      const inputs: Array<[string, Uint8Array]> = [];
      for (const file of new Set(batch.flatMap((b) => b.inputs))) inputs.push([file, await fs.readFile(file)]);
      const argLines = batch.flatMap((b, i) => [...b.lines, '-echo3', this.markerOf(i), '-echo4', this.markerOf(i), `-execute${i + 1}`]);
      const answer = await this.call({
        argFile: `/tmp/args-${randomBytes(4).toString('hex')}`,
        argLines: Buffer.from(argLines.join('\n') + '\n', 'utf8'),
        inputs,
        outputs: [...new Set(batch.flatMap((b) => b.outputs))],
      });
      if (!answer.ok) throw new Error(answer.error ?? 'unknown error');
      const stdout = this.split(Buffer.from(answer.stdout).toString('utf8'), batch.length);
      const stderr = this.split(Buffer.from(answer.stderr).toString('utf8'), batch.length);
      // Files ExifTool created in memory go to the same path on disk, never over an existing file.
      for (const [file, content] of answer.created) await fs.writeFile(file, content, { flag: 'wx' });
      batch.forEach((command, i) => {
        if (stdout[i] === undefined || stderr[i] === undefined) {
          command.reject(new Error(`the built-in ExifTool stopped before this command finished${answer.error ? `: ${answer.error.trim()}` : ''}`));
          return;
        }
        this.settle(command, stdout[i], stderr[i]);
      });
      this.peakMemoryBytes = Math.max(this.peakMemoryBytes, answer.memoryBytes);
      if (stdout.length < batch.length || answer.memoryBytes > this.memoryBoundBytes) this.drop();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const command of batch) command.reject(new Error(`the built-in ExifTool failed: ${failure.message}`));
      this.drop();
    }
  }

  private markerOf(index: number): string {
    return `${this.marker}-${index}}`;
  }

  /** Each command's share of one stream, cut at the markers ExifTool echoed after it. */
  private split(text: string, commands: number): string[] {
    const parts: string[] = [];
    let rest = text;
    for (let i = 0; i < commands; i++) {
      const marker = `${this.markerOf(i)}\n`;
      const at = rest.indexOf(marker);
      if (at < 0) break;
      parts.push(rest.slice(0, at));
      rest = rest.slice(at + marker.length);
    }
    return parts;
  }

  private settle(command: Prepared, stdout: string, stderr: string): void {
    const task = command.task;
    task.onStart(TASK_OPTIONS);
    task.promise.then(command.resolve, command.reject);
    try {
      if (stderr.length > 0) task.onStderr(Buffer.from(stderr));
      task.onStdout(Buffer.from(`${stdout}{ready}\n`));
    } catch (error) {
      task.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Ends the Perl thread: its WebAssembly memory goes with it. */
  drop(): void {
    const worker = this.worker;
    this.worker = null;
    void worker?.terminate().catch(() => undefined);
  }

  end(): void {
    this.ended = true;
    for (const queued of this.queue.splice(0)) queued.reject(new Error('the built-in ExifTool has ended'));
    this.drop();
  }
}

/**
 * exiftool-vendored's ExifTool with its tasks run by WebAssembly Perl: read, readRaw, write and
 * custom tasks (enqueueTask) behave as on the Perl pool, and no child process is ever spawned.
 */
export class WasmExifTool extends ExifTool {
  readonly engine = 'wasm' as const;
  private readonly runner: WasmPerlRunner;

  constructor(options: Partial<ExifToolOptions> & WasmEngineOptions = {}) {
    const { sizeLimitBytes, memoryBoundBytes, ...exiftoolOptions } = options;
    super({
      ...exiftoolOptions,
      maxProcs: 1,
      checkPerl: false,
      processFactory: () => {
        throw new Error('the built-in ExifTool starts no process');
      },
    });
    this.runner = new WasmPerlRunner(sizeLimitBytes ?? defaultSizeLimitBytes(), memoryBoundBytes ?? WASM_MEMORY_BOUND_BYTES);
  }

  get sizeLimitBytes(): number {
    return this.runner.sizeLimitBytes;
  }

  /** Perl instances started so far and the largest instance seen, for tests and the bench. */
  get stats(): { instancesStarted: number; peakMemoryBytes: number } {
    return { instancesStarted: this.runner.instancesStarted, peakMemoryBytes: this.runner.peakMemoryBytes };
  }

  override enqueueTask<T>(task: () => ExifToolTask<T>): Promise<T> {
    let created: ExifToolTask<T>;
    try {
      created = task();
    } catch (error) {
      return Promise.reject(error);
    }
    return this.runner.submit(created);
  }

  override async end(gracefully = true): Promise<void> {
    this.runner.end();
    await super.end(gracefully);
  }
}
