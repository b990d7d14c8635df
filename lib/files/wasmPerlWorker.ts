/**
 * The thread that runs zeroperl for WasmExifTool: a Perl call computes for a second or more, which on
 * n8n's main thread would stall every other workflow and the editor. It keeps one Perl instance with
 * ExifTool's files in its memory file system, runs one argument file per message and answers with
 * the output and the files ExifTool created. Any failure ends the thread (and the instance with it).
 */
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { parentPort } from 'worker_threads';

export interface PerlCall {
  argFile: string;
  argLines: Uint8Array;
  inputs: Array<[string, Uint8Array]>;
  outputs: string[];
}

export interface PerlAnswer {
  ok: boolean;
  error?: string;
  stdout: Uint8Array;
  stderr: Uint8Array;
  created: Array<[string, Uint8Array]>;
  memoryBytes: number;
}

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

export const GUEST_DIR = '/exiftool';

/** ExifTool's script and library files from exiftool-vendored.pl (about 21 MB). */
function addExifTool(fileSystem: MemoryFileSystem): void {
  const bin = path.join(path.dirname(require.resolve('exiftool-vendored.pl/package.json')), 'bin');
  const addTree = (dir: string, guest: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) addTree(full, `${guest}/${entry.name}`);
      else fileSystem.addFile(`${guest}/${entry.name}`, readFileSync(full));
    }
  };
  addTree(path.join(bin, 'lib'), `${GUEST_DIR}/lib`);
  // ExifTool installs SIGINT/SIGCONT handlers; signals do not exist in WASI and the handlers break the run.
  const script = readFileSync(path.join(bin, 'exiftool'), 'latin1')
    .replace(/^\$SIG\{INT\}\s*=\s*'SigInt';/m, '')
    .replace(/^\$SIG\{CONT\}\s*=\s*'SigCont';/m, '');
  fileSystem.addFile(`${GUEST_DIR}/exiftool`, Buffer.from(script, 'latin1'));
}

let instance: { perl: ZeroPerl; fileSystem: MemoryFileSystem; used: boolean } | null = null;
let stdout: Buffer[] = [];
let stderr: Buffer[] = [];

async function perlInstance(): Promise<{ perl: ZeroPerl; fileSystem: MemoryFileSystem; used: boolean }> {
  if (instance) {
    if (instance.used) await instance.perl.reset();
    return instance;
  }
  const zeroperl = await loadZeroPerl();
  const fileSystem = new zeroperl.MemoryFileSystem({ '/': '' });
  addExifTool(fileSystem);
  const perl = await zeroperl.ZeroPerl.create({
    fileSystem,
    env: { TZ: process.env.TZ ?? 'UTC', HOME: '/nonexistent' },
    stdout: (data) => stdout.push(Buffer.from(data)),
    stderr: (data) => stderr.push(Buffer.from(data)),
  });
  instance = { perl, fileSystem, used: false };
  return instance;
}

/** zeroperl keeps its WebAssembly exports on the instance; the memory's size is the instance's footprint. */
function memoryBytes(perl: ZeroPerl): number {
  const exportsOf = (perl as unknown as { exports?: { memory?: { buffer: ArrayBuffer } } }).exports;
  return exportsOf?.memory?.buffer.byteLength ?? 0;
}

async function runCall(call: PerlCall): Promise<PerlAnswer> {
  const current = await perlInstance();
  const { perl, fileSystem } = current;
  const placed: string[] = [];
  try {
    for (const [file, content] of call.inputs) {
      fileSystem.ensureDir(path.posix.dirname(file));
      fileSystem.addFile(file, content);
      placed.push(file);
    }
    for (const file of call.outputs) fileSystem.ensureDir(path.posix.dirname(file));
    fileSystem.ensureDir(path.posix.dirname(call.argFile));
    fileSystem.addFile(call.argFile, call.argLines);
    placed.push(call.argFile);
    stdout = [];
    stderr = [];
    current.used = true;
    const outcome = await perl.runFile(`${GUEST_DIR}/exiftool`, ['-@', call.argFile]);
    perl.flush();
    const created: Array<[string, Uint8Array]> = [];
    for (const file of call.outputs) {
      const node = fileSystem.lookup(file);
      if (!node || node.type !== 'file' || node.content === undefined) continue;
      placed.push(file);
      created.push([file, node.content instanceof Uint8Array ? node.content : new Uint8Array(await node.content.arrayBuffer())]);
    }
    return { ok: true, error: outcome.error, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), created, memoryBytes: memoryBytes(perl) };
  } finally {
    for (const file of placed) fileSystem.removeFile(file);
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (call: PerlCall) => {
    runCall(call).then(
      (answer) => port.postMessage(answer),
      (error: unknown) => {
        const answer: PerlAnswer = { ok: false, error: error instanceof Error ? error.message : String(error), stdout: new Uint8Array(), stderr: new Uint8Array(), created: [], memoryBytes: 0 };
        port.postMessage(answer);
        process.exit(1);
      },
    );
  });
}
