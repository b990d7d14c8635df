/**
 * Runs workflows in a real n8n through its command line, the way a user with a manual community-node
 * install would: the package is packed with `npm pack` and installed into `<N8N_USER_FOLDER>/.n8n/nodes`.
 * Shared by the template's e2e test and `npm run demo`.
 *
 * Every n8n command runs as an asynchronous child process: the Immich simulator usually lives in the
 * calling process, and a synchronous spawn would block it from answering n8n's requests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

import { withoutPerlCommand } from '../helpers/withoutPerl';

export interface CommandResult {
  command: string;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export interface N8nCredentialFile {
  id: string;
  name: string;
  type: string;
  data: Record<string, unknown>;
}

export interface N8nNode {
  id: string;
  name: string;
  type: string;
  typeVersion: number;
  position: [number, number];
  parameters: Record<string, unknown>;
  credentials?: Record<string, { id: string; name: string }>;
  disabled?: boolean;
  [key: string]: unknown;
}

export interface N8nWorkflow {
  id?: string;
  name: string;
  nodes: N8nNode[];
  connections: Record<string, unknown>;
  settings?: Record<string, unknown>;
  staticData?: Record<string, unknown> | null;
  [key: string]: unknown;
}

export interface NodeRun {
  /** How many times the node ran in this execution. */
  runs: number;
  items: Array<Record<string, unknown>>;
  /** Per output (the error output is the last one when On Error sends items there), the items' json. */
  outputs: Array<Array<Record<string, unknown>>>;
  error: string | null;
  executionTimeMs: number;
}

export interface ExecutionReport {
  durationMs: number;
  /** Per node name, the items of its first output of its (last) run; absent when the node did not run. */
  nodes: Record<string, NodeRun>;
  /** The workflow-level error, if n8n reported one. */
  error: string | null;
  raw: CommandResult;
}

/** The repository root: the folder with this package's package.json, from src (test/e2e) or dist (dist/test/e2e). */
export function findRepoRoot(start: string = __dirname): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'n8n-nodes-immich-metadata-sync') return dir;
    if (path.dirname(dir) === dir) throw new Error(`Cannot find the n8n-nodes-immich-metadata-sync package root above ${start}`);
  }
}

export const PACKAGE_NAME = 'n8n-nodes-immich-metadata-sync';

/** n8n 2.40's `npm install` for a community package (CommunityPackagesService.downloadPackage). */
export const COMMUNITY_NODES_INSTALL_ARGS = [
  'install',
  '--audit=false',
  '--fund=false',
  '--bin-links=false',
  '--install-strategy=shallow',
  '--ignore-scripts=true',
  '--package-lock=false',
] as const;

/** Runs a shell script (bash -euo pipefail), e.g. commands copied from the README. */
export async function runShell(script: string, options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<CommandResult> {
  return assertSuccess(await runCommand('bash', ['-euo', 'pipefail', '-c', script], { cwd: options.cwd, env: toolEnv(options.env), timeoutMs: options.timeoutMs }), 'the shell commands');
}

/** Node 24 first on PATH: npm and n8n must build and load native modules for the Node running us. */
function toolEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const nodeDir = path.dirname(process.execPath);
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${nodeDir}${path.delimiter}${process.env.PATH ?? ''}`, ...extra };
  // Under Jest NODE_ENV is "test", which silences n8n's logger and its --rawOutput print.
  delete env.NODE_ENV;
  delete env.JEST_WORKER_ID;
  return env;
}

export function runCommand(
  command: string,
  args: string[],
  options: {
    cwd: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    onLine?: (line: string) => void;
    /**
     * Send stdout to this file instead of a pipe. n8n prints a run's JSON and exits at once; on a pipe
     * the tail of a large print is lost at exit, while writes to a file are synchronous and complete.
     */
    stdoutFile?: string;
    /** Run as this user (e.g. PostgreSQL's server tools, which refuse root). */
    uid?: number;
    gid?: number;
  },
): Promise<CommandResult> {
  const started = Date.now();
  const display = `${path.basename(command)} ${args.join(' ')}`;
  return new Promise((resolve, reject) => {
    const stdoutFd = options.stdoutFile ? fs.openSync(options.stdoutFile, 'w') : null;
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? toolEnv(), stdio: ['ignore', stdoutFd ?? 'pipe', 'pipe'], uid: options.uid, gid: options.gid });
    if (stdoutFd !== null) fs.closeSync(stdoutFd); // the child holds its own copy
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`${display} did not finish within ${options.timeoutMs} ms (killed). Output so far:\n${tail(stdout + stderr)}`));
    }, options.timeoutMs ?? 10 * 60_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (options.onLine) chunk.toString().split('\n').filter(Boolean).forEach(options.onLine);
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (options.onLine) chunk.toString().split('\n').filter(Boolean).forEach(options.onLine);
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${display} could not start: ${error.message}`));
    });
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      if (options.stdoutFile) stdout = fs.readFileSync(options.stdoutFile, 'utf8');
      resolve({ command: display, exitCode, stdout, stderr, durationMs: Date.now() - started });
    });
  });
}

function tail(text: string, lines = 40): string {
  return text.split('\n').slice(-lines).join('\n');
}

function assertSuccess(result: CommandResult, what: string): CommandResult {
  if (result.exitCode !== 0) {
    throw new Error(`${what} failed (exit ${result.exitCode}): ${result.command}\n--- stdout ---\n${tail(result.stdout)}\n--- stderr ---\n${tail(result.stderr)}`);
  }
  return result;
}

interface EnsureN8nScript {
  ensureN8n: () => { n8nBin: string; version: string; cacheDir: string };
  isReady: () => boolean;
}

function ensureN8nScript(repoRoot: string): EnsureN8nScript {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(repoRoot, 'scripts', 'ensure-n8n.js')) as EnsureN8nScript;
}

/** Installs n8n into the cache folder, or reuses it (scripts/ensure-n8n.js). */
export function ensureN8n(repoRoot: string = findRepoRoot()): { n8nBin: string; version: string; cacheDir: string } {
  return ensureN8nScript(repoRoot).ensureN8n();
}

/** Whether a complete n8n install is already in the cache folder (nothing to install). */
export function n8nIsInstalled(repoRoot: string = findRepoRoot()): boolean {
  return ensureN8nScript(repoRoot).isReady();
}

/** `npm pack` of this package (its dist/ must be built) into destDir; returns the .tgz path. */
export async function packPackage(repoRoot: string, destDir: string): Promise<string> {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'nodes'))) throw new Error(`${repoRoot}/dist is missing: run "npm run build" first`);
  fs.mkdirSync(destDir, { recursive: true });
  const result = assertSuccess(await runCommand('npm', ['pack', '--json', '--pack-destination', destDir], { cwd: repoRoot }), 'npm pack');
  const packed = JSON.parse(result.stdout.slice(result.stdout.indexOf('['))) as Array<{ filename: string }>;
  return path.join(destDir, packed[0].filename);
}

export interface N8nInstanceOptions {
  n8nBin: string;
  /** Becomes N8N_USER_FOLDER (n8n keeps its database and installed nodes in <folder>/.n8n). */
  userFolder: string;
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
  /**
   * More environment for every n8n command: e.g. N8N_RESTRICT_FILE_ACCESS_TO, or settings that replace the
   * single-process defaults, such as queue mode on a shared PostgreSQL (EXECUTIONS_MODE, DB_TYPE,
   * DB_POSTGRESDB_*, QUEUE_BULL_REDIS_*) and the encryption key they share.
   */
  env?: NodeJS.ProcessEnv;
  /** Receives every line n8n prints (progress for the demo). */
  onLine?: (line: string) => void;
}

/** Starts a command through another one (e.g. into a namespace or a memory cgroup). */
export type CommandWrapper = (command: string, args: string[]) => { command: string; args: string[] };

export interface ExecuteOptions {
  /** Run the workflow with Perl hidden, as on the stock n8n image (test/helpers/withoutPerl; needs root). */
  withoutPerl?: boolean;
  /** Settings for this run only. */
  env?: NodeJS.ProcessEnv;
  /** Start `n8n execute` through another command (e.g. inside a memory cgroup). */
  wrap?: CommandWrapper;
}

/** One n8n "installation": a user folder with its own database, encryption key and installed nodes. */
export class N8nInstance {
  readonly userFolder: string;
  readonly logFile: string;
  private readonly env: NodeJS.ProcessEnv;

  constructor(private readonly options: N8nInstanceOptions) {
    this.userFolder = path.resolve(options.userFolder);
    fs.mkdirSync(path.join(this.userFolder, '.n8n', 'nodes'), { recursive: true });
    this.logFile = path.join(this.userFolder, 'n8n.log');
    const keyFile = path.join(this.userFolder, 'encryption-key');
    if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, randomBytes(24).toString('hex'), { mode: 0o600 });
    this.env = toolEnv({
      N8N_USER_FOLDER: this.userFolder,
      // The same key for every command, or credentials imported by one cannot be read by the next.
      N8N_ENCRYPTION_KEY: fs.readFileSync(keyFile, 'utf8').trim(),
      N8N_LOG_LEVEL: options.logLevel ?? 'info',
      N8N_LOG_OUTPUT: 'console,file',
      N8N_LOG_FILE_LOCATION: this.logFile,
      DB_TYPE: 'sqlite',
      // Nothing may reach the network: no telemetry, version checks, templates or banners.
      N8N_DIAGNOSTICS_ENABLED: 'false',
      N8N_DIAGNOSTICS_CONFIG_FRONTEND: '',
      N8N_DIAGNOSTICS_CONFIG_BACKEND: '',
      N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
      N8N_TEMPLATES_ENABLED: 'false',
      N8N_PERSONALIZATION_ENABLED: 'false',
      N8N_HIRING_BANNER_ENABLED: 'false',
      N8N_AI_ENABLED: 'false',
      EXTERNAL_FRONTEND_HOOKS_URLS: '',
      N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
      N8N_REINSTALL_MISSING_PACKAGES: 'false',
      N8N_ENFORCE_SETTINGS_FILE_PERMISSIONS: 'false',
      N8N_RUNNERS_ENABLED: 'true',
      N8N_RUNNERS_MODE: 'internal',
      N8N_BLOCK_ENV_ACCESS_IN_NODE: 'false',
      GENERIC_TIMEZONE: 'UTC',
      TZ: 'UTC',
      ...options.env,
    });
  }

  /** Runs one n8n command; fails with n8n's output when it exits non-zero. */
  async n8n(args: string[], what: string, timeoutMs = 5 * 60_000): Promise<CommandResult> {
    const result = await runCommand(process.execPath, [this.options.n8nBin, ...args], { cwd: this.userFolder, env: await this.commandEnv(), timeoutMs, onLine: this.options.onLine });
    return assertSuccess(result, what);
  }

  /**
   * Each command gets free ports: n8n's task broker (for the Code node) listens on 5679 by default,
   * so two n8n processes at once (the demo beside a test, parallel CI jobs) would otherwise collide.
   */
  private async commandEnv(): Promise<NodeJS.ProcessEnv> {
    return { ...this.env, N8N_RUNNERS_BROKER_PORT: String(await freePort()), N8N_PORT: String(await freePort()) };
  }

  /** The folder n8n loads community packages from (<user folder>/.n8n/nodes). */
  get nodesDir(): string {
    return path.join(this.userFolder, '.n8n', 'nodes');
  }

  /**
   * Installs the package the way n8n's *Settings → Community Nodes* does (n8n 2.40's CommunityPackagesService):
   * the tarball unpacked into <nodes>/node_modules/<name>, its dev, peer and optional dependencies removed
   * from its package.json, `npm install` there with n8n's flags, and the package recorded in <nodes>/package.json.
   */
  async installPackage(tgzPath: string): Promise<void> {
    const manifest = path.join(this.nodesDir, 'package.json');
    if (!fs.existsSync(manifest)) fs.writeFileSync(manifest, JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2));
    const packageDir = path.join(this.nodesDir, 'node_modules', PACKAGE_NAME);
    fs.rmSync(packageDir, { recursive: true, force: true });
    fs.mkdirSync(packageDir, { recursive: true });
    assertSuccess(await runCommand('tar', ['-xzf', path.resolve(tgzPath), '-C', packageDir, '--strip-components=1'], { cwd: this.nodesDir }), 'unpacking the package');
    const packageJsonFile = path.join(packageDir, 'package.json');
    const { devDependencies: _dev, peerDependencies: _peer, optionalDependencies: _optional, ...packageJson } = JSON.parse(fs.readFileSync(packageJsonFile, 'utf8')) as Record<string, unknown>;
    fs.writeFileSync(packageJsonFile, JSON.stringify(packageJson, null, 2));
    assertSuccess(
      await runCommand('npm', [...COMMUNITY_NODES_INSTALL_ARGS], { cwd: packageDir, env: toolEnv(), timeoutMs: 10 * 60_000, onLine: this.options.onLine }),
      `installing ${path.basename(tgzPath)} into ${packageDir} (as n8n's Community Nodes install does)`,
    );
    const nodes = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { dependencies?: Record<string, string> };
    nodes.dependencies = { ...nodes.dependencies, [PACKAGE_NAME]: String(packageJson.version) };
    fs.writeFileSync(manifest, JSON.stringify(nodes, null, 2));
  }

  async importCredentials(credentials: N8nCredentialFile[]): Promise<void> {
    const file = path.join(this.userFolder, 'import-credentials.json');
    fs.writeFileSync(file, JSON.stringify(credentials), { mode: 0o600 });
    try {
      await this.n8n(['import:credentials', `--input=${file}`], 'n8n import:credentials');
    } finally {
      fs.rmSync(file, { force: true }); // it holds the API key in clear text
    }
  }

  async importWorkflow(workflow: N8nWorkflow): Promise<void> {
    if (!workflow.id) throw new Error('Give the workflow an id before importing it, so that it can be executed by id');
    const file = path.join(this.userFolder, `import-workflow-${workflow.id}.json`);
    fs.writeFileSync(file, JSON.stringify(workflow, null, 2));
    await this.n8n(['import:workflow', `--input=${file}`], 'n8n import:workflow');
  }

  /**
   * `n8n execute --id --rawOutput`; the run's per-node items are in the report even when the run failed.
   * `options.env` adds settings for this run only (e.g. N8N_RESTRICT_FILE_ACCESS_TO).
   */
  async execute(workflowId: string, options: ExecuteOptions = {}): Promise<ExecutionReport> {
    const env = options.env ?? {};
    const plain = { command: process.execPath, args: [this.options.n8nBin, 'execute', `--id=${workflowId}`, '--rawOutput'] };
    const hidden = options.withoutPerl ? withoutPerlCommand(plain.command, plain.args) : plain;
    const { command, args } = options.wrap ? options.wrap(hidden.command, hidden.args) : hidden;
    const raw = await runCommand(command, args, {
      cwd: this.userFolder,
      env: { ...(await this.commandEnv()), ...env },
      timeoutMs: 15 * 60_000,
      onLine: this.options.onLine,
      stdoutFile: path.join(this.userFolder, `execute-${workflowId}.out`),
    });
    const run = extractRunJson(raw.stdout);
    if (!run) {
      throw new Error(`n8n execute printed no run data (exit ${raw.exitCode}).\n--- stdout ---\n${tail(raw.stdout)}\n--- stderr ---\n${tail(raw.stderr)}`);
    }
    return { durationMs: raw.durationMs, ...summarizeRun(run), raw };
  }

  /**
   * `n8n start`: the editor and REST API on 127.0.0.1:<port>, until the returned process is killed. Output goes to
   * <user folder>/n8n-start.log.
   */
  async startServer(port: number): Promise<ChildProcess> {
    return this.startLongRunning(['start'], 'n8n-start.log', { N8N_PORT: String(port), N8N_LISTEN_ADDRESS: '127.0.0.1', N8N_SECURE_COOKIE: 'false' });
  }

  /**
   * `n8n worker` (queue mode): takes executions from Redis until the returned process is killed; output in
   * n8n-worker.log. `wrap` starts it through another command (e.g. inside a memory cgroup).
   */
  async startWorker(concurrency: number, wrap?: CommandWrapper): Promise<ChildProcess> {
    return this.startLongRunning(['worker', `--concurrency=${concurrency}`], 'n8n-worker.log', { QUEUE_HEALTH_CHECK_PORT: String(await freePort()) }, wrap);
  }

  private async startLongRunning(args: string[], logName: string, extraEnv: Record<string, string>, wrap?: CommandWrapper): Promise<ChildProcess> {
    const out = fs.openSync(path.join(this.userFolder, logName), 'a');
    const plain = { command: process.execPath, args: [this.options.n8nBin, ...args] };
    const { command, args: commandArgs } = wrap ? wrap(plain.command, plain.args) : plain;
    const child = spawn(command, commandArgs, { cwd: this.userFolder, env: { ...(await this.commandEnv()), ...extraEnv }, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    return child;
  }

  /** The stored workflow, including its static data (where the sync checkpoint lives). */
  async exportWorkflow(workflowId: string): Promise<N8nWorkflow> {
    const file = path.join(this.userFolder, `export-${workflowId}.json`);
    await this.n8n(['export:workflow', `--id=${workflowId}`, `--output=${file}`], 'n8n export:workflow');
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as N8nWorkflow | N8nWorkflow[];
    fs.rmSync(file, { force: true });
    return Array.isArray(exported) ? exported[0] : exported;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `--rawOutput` prints the run as indented JSON, but n8n's console log lines share stdout: take the
 * block from the first line that is exactly "{" to the next line that is exactly "}".
 */
export function extractRunJson(stdout: string): Record<string, unknown> | null {
  const lines = stdout.split('\n');
  for (let start = lines.indexOf('{'); start >= 0; start = lines.indexOf('{', start + 1)) {
    const end = lines.indexOf('}', start);
    if (end < 0) return null;
    try {
      const parsed = JSON.parse(lines.slice(start, end + 1).join('\n')) as Record<string, unknown>;
      if (parsed && typeof parsed === 'object' && 'data' in parsed) return parsed;
    } catch {
      // not the run block; keep looking
    }
  }
  return null;
}

interface RawTaskData {
  executionTime?: number;
  error?: { message?: string; description?: string };
  data?: { main?: Array<Array<{ json: Record<string, unknown> }> | null> };
}

function summarizeRun(run: Record<string, unknown>): Omit<ExecutionReport, 'durationMs' | 'raw'> {
  const resultData = ((run.data as Record<string, unknown>)?.resultData ?? {}) as { runData?: Record<string, RawTaskData[]>; error?: { message?: string; description?: string } };
  const nodes: Record<string, NodeRun> = {};
  for (const [name, tasks] of Object.entries(resultData.runData ?? {})) {
    const last = tasks[tasks.length - 1];
    nodes[name] = {
      runs: tasks.length,
      items: (last?.data?.main?.[0] ?? []).map((item) => item.json),
      outputs: (last?.data?.main ?? []).map((output) => (output ?? []).map((item) => item.json)),
      error: last?.error ? [last.error.message, last.error.description].filter(Boolean).join(': ') : null,
      executionTimeMs: last?.executionTime ?? 0,
    };
  }
  const error = resultData.error ? [resultData.error.message, resultData.error.description].filter(Boolean).join(': ') : null;
  return { nodes, error };
}
