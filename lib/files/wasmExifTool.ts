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
 * writer's temp file, fsync and rename stay as they are.
 */
import { ExifTool, type ExifToolOptions, type ExifToolTask } from 'exiftool-vendored';
import { randomBytes } from 'crypto';
import { promises as fs, readdirSync, readFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

/** The subset of zeroperl-ts this engine uses (its ESM build is loaded at run time, see loadZeroPerl). */
interface MemoryFileSystem {
  addFile(path: string, content: Uint8Array): void;
  removeFile(path: string): void;
  ensureDir(path: string): unknown;
  lookup(path: string): { type: string; content?: Uint8Array | Blob } | null;
}
interface ZeroPerl {
  runFile(scriptPath: string, args?: string[]): Promise<{ success: boolean; error?: string; exitCode: number }>;
  reset(): Promise<void>;
  flush(): void;
  dispose(): void;
}
interface ZeroPerlModule {
  ZeroPerl: { create(options: { fileSystem: MemoryFileSystem; env?: Record<string, string>; stdout: (d: string | Uint8Array) => void; stderr: (d: string | Uint8Array) => void }): Promise<ZeroPerl> };
  MemoryFileSystem: new (preopens: Record<string, string>) => MemoryFileSystem;
}

/**
 * zeroperl-ts's CommonJS build points at a path on its build machine; its ESM build works. TypeScript
 * compiles `import()` to `require()` under CommonJS, so the import is built at run time.
 */
// eslint-disable-next-line @n8n/community-nodes/no-dangerous-functions -- a fixed import(), its specifier is the package's own file
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

async function loadZeroPerl(): Promise<ZeroPerlModule> {
  // resolves to dist/cjs/index.cjs (not loaded); the ESM build sits beside it
  const commonJsEntry = require.resolve('@6over3/zeroperl-ts');
  const esm = path.join(path.dirname(commonJsEntry), '..', 'esm', 'index.js');
  return (await importEsm(`file://${esm}`)) as ZeroPerlModule;
}

/** Where exiftool-vendored.pl keeps the ExifTool script and its lib folder. */
function vendoredExifToolDir(): string {
  return path.join(path.dirname(require.resolve('exiftool-vendored.pl/package.json')), 'bin');
}

const GUEST_DIR = '/exiftool';

/** ExifTool's script and library files, read once per process (about 21 MB, shared by every instance). */
let exiftoolFiles: Map<string, Uint8Array> | null = null;

function exiftoolSources(): Map<string, Uint8Array> {
  if (exiftoolFiles) return exiftoolFiles;
  const bin = vendoredExifToolDir();
  const files = new Map<string, Uint8Array>();
  const addTree = (dir: string, guest: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) addTree(full, `${guest}/${entry.name}`);
      else files.set(`${guest}/${entry.name}`, readFileSync(full));
    }
  };
  addTree(path.join(bin, 'lib'), `${GUEST_DIR}/lib`);
  // ExifTool installs SIGINT/SIGCONT handlers; signals do not exist in WASI and the handlers break the run.
  const script = readFileSync(path.join(bin, 'exiftool'), 'latin1')
    .replace(/^\$SIG\{INT\}\s*=\s*'SigInt';/m, '')
    .replace(/^\$SIG\{CONT\}\s*=\s*'SigCont';/m, '');
  files.set(`${GUEST_DIR}/exiftool`, Buffer.from(script, 'latin1'));
  exiftoolFiles = files;
  return files;
}

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

/** Runs queued ExifTool commands in batches on one zeroperl instance at a time. */
class WasmPerlRunner {
  private readonly queue: Queued[] = [];
  private draining = false;
  private perl: ZeroPerl | null = null;
  private fileSystem: MemoryFileSystem | null = null;
  private stdout: Buffer[] = [];
  private stderr: Buffer[] = [];
  private usedOnce = false;
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

  private async instance(): Promise<{ perl: ZeroPerl; fileSystem: MemoryFileSystem }> {
    if (this.perl && this.fileSystem) {
      if (this.usedOnce) await this.perl.reset();
      return { perl: this.perl, fileSystem: this.fileSystem };
    }
    const zeroperl = await loadZeroPerl();
    const fileSystem = new zeroperl.MemoryFileSystem({ '/': '' });
    for (const [guest, content] of exiftoolSources()) fileSystem.addFile(guest, content);
    const perl = await zeroperl.ZeroPerl.create({
      fileSystem,
      env: { TZ: process.env.TZ ?? 'UTC', HOME: '/nonexistent' },
      stdout: (data) => this.stdout.push(Buffer.from(data)),
      stderr: (data) => this.stderr.push(Buffer.from(data)),
    });
    this.instancesStarted++;
    this.perl = perl;
    this.fileSystem = fileSystem;
    this.usedOnce = false;
    return { perl, fileSystem };
  }

  private async run(batch: Prepared[]): Promise<void> {
    const argFile = `/tmp/args-${randomBytes(4).toString('hex')}`;
    const placed: string[] = [];
    let fileSystem: MemoryFileSystem | null = null;
    try {
      const started = await this.instance();
      fileSystem = started.fileSystem;
      for (const file of new Set(batch.flatMap((b) => b.inputs))) {
        fileSystem.ensureDir(path.dirname(file));
        fileSystem.addFile(file, await fs.readFile(file));
        placed.push(file);
      }
      for (const file of new Set(batch.flatMap((b) => b.outputs))) fileSystem.ensureDir(path.dirname(file));
      const argLines = batch.flatMap((b, i) => [...b.lines, '-echo3', this.markerOf(i), '-echo4', this.markerOf(i), `-execute${i + 1}`]);
      fileSystem.ensureDir('/tmp');
      fileSystem.addFile(argFile, Buffer.from(argLines.join('\n') + '\n', 'utf8'));
      placed.push(argFile);
      this.stdout = [];
      this.stderr = [];
      this.usedOnce = true;
      const outcome = await started.perl.runFile(`${GUEST_DIR}/exiftool`, ['-@', argFile]);
      started.perl.flush();
      const stdout = this.split(Buffer.concat(this.stdout).toString('utf8'), batch.length);
      const stderr = this.split(Buffer.concat(this.stderr).toString('utf8'), batch.length);
      await this.copyOutputs(fileSystem, batch, placed);
      batch.forEach((command, i) => {
        if (stdout[i] === undefined || stderr[i] === undefined) {
          command.reject(new Error(`the built-in ExifTool stopped before this command finished${outcome.error ? `: ${outcome.error.trim()}` : ''}`));
          return;
        }
        this.settle(command, stdout[i], stderr[i]);
      });
      if (stdout.length < batch.length) this.drop();
      else this.recycleIfLarge();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const command of batch) command.reject(new Error(`the built-in ExifTool failed: ${failure.message}`));
      this.drop();
    } finally {
      if (fileSystem && this.fileSystem === fileSystem) for (const file of placed) fileSystem.removeFile(file);
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

  /** Files ExifTool created in memory go to the same path on disk, never over an existing file. */
  private async copyOutputs(fileSystem: MemoryFileSystem, batch: Prepared[], placed: string[]): Promise<void> {
    for (const file of new Set(batch.flatMap((b) => b.outputs))) {
      const node = fileSystem.lookup(file);
      if (!node || node.type !== 'file' || node.content === undefined) continue;
      placed.push(file);
      const content = node.content instanceof Uint8Array ? node.content : new Uint8Array(await node.content.arrayBuffer());
      await fs.writeFile(file, content, { flag: 'wx' });
    }
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

  private recycleIfLarge(): void {
    const bytes = this.memoryBytes();
    this.peakMemoryBytes = Math.max(this.peakMemoryBytes, bytes);
    if (bytes > this.memoryBoundBytes) this.drop();
  }

  /** zeroperl keeps its WebAssembly exports on the instance; the memory's size is the instance's footprint. */
  memoryBytes(): number {
    const exportsOf = (this.perl as unknown as { exports?: { memory?: { buffer: ArrayBuffer } } } | null)?.exports;
    return exportsOf?.memory?.buffer.byteLength ?? 0;
  }

  drop(): void {
    const perl = this.perl;
    this.perl = null;
    this.fileSystem = null;
    try {
      perl?.dispose();
    } catch {
      // a broken instance is discarded either way
    }
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
