/**
 * The parts n8n's queue mode needs besides n8n itself, started as child processes on 127.0.0.1 with
 * their data in a temp folder: Redis (Debian's redis-server) as the queue and a throw-away PostgreSQL
 * cluster (Debian's postgresql) as the shared database. Each is stopped by its own pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { freePort, runCommand } from './n8nHarness';

export interface Service {
  name: string;
  port: number;
  process: ChildProcess;
}

function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root) ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (versions.length === 0) throw new Error('PostgreSQL server binaries are missing (no /usr/lib/postgresql/*/bin/initdb): apt-get install postgresql');
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

function findRedisServer(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat('/usr/bin', '/usr/sbin')) {
    const candidate = path.join(dir, 'redis-server');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('redis-server is missing: apt-get install redis-server');
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port; fails with the log when the process exits first. */
export async function waitForPort(service: Omit<Service, 'port'> & { port: number }, logFile: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.process.exitCode !== null || service.process.signalCode !== null) {
      throw new Error(`${service.name} exited (${service.process.exitCode ?? service.process.signalCode}) before listening:\n${readTail(logFile)}`);
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(service.port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${service.name} did not listen on 127.0.0.1:${service.port} within ${timeoutMs} ms:\n${readTail(logFile)}`);
}

export function readTail(file: string, lines = 30): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n') : `(no ${file})`;
}

function logTo(file: string): number {
  return fs.openSync(file, 'w');
}

export async function startRedis(dir: string): Promise<Service> {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logFile = path.join(dir, 'redis.log');
  const out = logTo(logFile);
  const child = spawn(findRedisServer(), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--dir', dir], {
    cwd: dir,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const service = { name: 'redis-server', port, process: child };
  await waitForPort(service, logFile);
  return service;
}

export interface Postgres extends Service {
  user: string;
  database: string;
  password: string;
  /** Runs one SQL statement with psql; returns its rows as arrays of column text. */
  query(sql: string): Promise<string[][]>;
}

/**
 * A new cluster in dir, run as the user "postgres" (the server refuses root), trust auth on 127.0.0.1
 * only, no unix socket outside dir.
 */
export async function startPostgres(dir: string): Promise<Postgres> {
  const bin = findPostgresBin();
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  fs.chownSync(dir, uid, gid);
  fs.chownSync(dataDir, uid, gid);
  const user = 'n8n';
  const init = await runCommand(path.join(bin, 'initdb'), ['-D', dataDir, '-U', user, '--auth=trust', '-E', 'UTF8', '--no-locale'], {
    cwd: dir,
    env: { ...process.env, LC_ALL: 'C' },
    uid,
    gid,
  });
  if (init.exitCode !== 0) throw new Error(`initdb failed (exit ${init.exitCode}):\n${init.stdout}\n${init.stderr}`);
  const port = await freePort();
  const logFile = path.join(dir, 'postgres.log');
  const out = logTo(logFile);
  fs.chownSync(logFile, uid, gid);
  const child = spawn(path.join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${dir}`, '-c', 'fsync=off'], {
    cwd: dir,
    uid,
    gid,
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  const service = { name: 'postgres', port, process: child };
  await waitForPort(service, logFile);
  const query = async (sql: string): Promise<string[][]> => {
    const result = await runCommand(path.join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', user, '-d', 'postgres', '-At', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
      cwd: dir,
      env: { ...process.env, PGPASSWORD: 'unused' },
    });
    if (result.exitCode !== 0) throw new Error(`psql failed: ${sql}\n${result.stderr}`);
    return result.stdout.split('\n').filter((line) => line !== '').map((line) => line.split('\t'));
  };
  return { ...service, user, database: 'postgres', password: 'trust-auth-on-127.0.0.1', query };
}

/** Stops one process by its pid (SIGTERM, then SIGKILL after graceMs) and resolves once it is gone. */
export async function stopProcess(child: ChildProcess, graceMs = 15_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid as number, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, 'SIGKILL');
  }, graceMs);
  await exited;
  clearTimeout(timer);
}

/** Whether a pid is still a live process (a zombie counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}
