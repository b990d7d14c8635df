/**
 * Runs the BUILT command line (dist/cli) as a child process with the repo's Node 24, against a
 * simulator living in the test process, on writable copies of the sample photos.
 */
import { spawn, spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { repoRoot } from '../simulator';

export const ROOT = repoRoot();
export const NODE = path.join(ROOT, 'node_modules', '.bin', 'node');
export const CLI = path.join(ROOT, 'dist', 'cli', 'immich-metadata-sync.js');
/** A key with a shape no message would produce by accident, to look for leaks. */
export const SECRET_KEY = 'cli-test-secret-key-7Q2xZp9LmN4vB8';

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds dist/ with tsc when the command line or the library changed since the last build. */
export function ensureBuilt(): void {
  const sources = Math.max(newestSource(path.join(ROOT, 'cli')), newestSource(path.join(ROOT, 'lib')));
  const fresh = (): boolean => existsSync(CLI) && statSync(CLI).mtimeMs >= sources && statSync(path.join(ROOT, 'dist', 'lib', 'sync', 'runSync.js')).mtimeMs >= sources;
  if (fresh()) return;
  // tsc emits even when someone else's half-finished file has a type error; ours must be fresh after it.
  spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore', env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` } });
  if (!fresh()) throw new Error('dist/cli is not fresh after tsc: run `npm run build` and look at the errors');
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
  lastLine: string;
}

export interface CliOptions {
  env: Record<string, string | undefined>;
  /** Called for each stdout line as it arrives (e.g. to kill the process mid-run). */
  onLine?: (line: string, child: ReturnType<typeof spawn>) => void;
}

export function runCli(args: string[], options: CliOptions): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string> = { PATH: `${path.dirname(NODE)}:${process.env.PATH ?? ''}` };
    for (const [k, v] of Object.entries(options.env)) if (v !== undefined) env[k] = v;
    const child = spawn(NODE, [CLI, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) options.onLine?.(line, child);
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const lines = stdout.split('\n').filter((l) => l.length > 0);
      resolve({ code, signal, stdout, stderr, lines, lastLine: lines[lines.length - 1] ?? '' });
    });
  });
}

export interface Counts {
  written: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

export function parseSummary(line: string): Counts {
  const m = /^written (\d+), unchanged (\d+), skipped (\d+), failed (\d+)$/.exec(line);
  if (!m) throw new Error(`not a summary line: "${line}"`);
  return { written: Number(m[1]), unchanged: Number(m[2]), skipped: Number(m[3]), failed: Number(m[4]) };
}

/** The run's "listed N, by id M, handled K" line. */
export function parseCoverage(lines: readonly string[]): { listed: number; byId: number; handled: number } {
  const line = lines.find((l) => /^listed \d+, by id \d+, handled \d+$/.test(l));
  if (!line) throw new Error(`no coverage line in the output:\n${lines.slice(-5).join('\n')}`);
  const [listed, byId, handled] = (line.match(/\d+/g) ?? []).map(Number);
  return { listed, byId, handled };
}

const temps: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

export function removeTemps(): void {
  for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function makeWritable(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) makeWritable(full);
    else chmodSync(full, statSync(full).mode | 0o200);
  }
}

/** sha256 of every file under dir, by relative path. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out[path.relative(dir, full)] = createHash('sha256').update(readFileSync(full)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** Asserts that no output of a run (nor the log) carries the key. */
export function expectNoSecret(texts: string[], secret: string = SECRET_KEY): void {
  for (const text of texts) expect(text.includes(secret)).toBe(false);
}
