/**
 * Shared tools for the reliability suite: the built command line as a child process, temp folders,
 * hashing, seeded randomness (so a failing kill schedule reproduces), and read-only files that stay
 * read-only even for root (CI runs the tests as root, and root ignores permission bits).
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { createHash } from 'crypto';
import { chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport, type AxiosTransportOptions } from '../../cli/axiosTransport';
import type { ImmichAssetDetails, ImmichExif } from '../../lib/immich/types';
import { repoRoot, samplesDir, SimLibrary, uuidFrom, type SimAlbum, type SimAsset, type SimPerson } from '../simulator';
import { ArrayAssetStore } from '../simulator/library';
import { withoutPerlCommand } from '../helpers/withoutPerl';

export const ROOT = repoRoot();
export const NODE_BIN = path.join(ROOT, 'node_modules', '.bin', 'node');
export const CLI_JS = path.join(ROOT, 'dist', 'cli', 'immich-metadata-sync.js');
export const TEMP_MARK = '.immich-sync-tmp-';

export function sample(relative: string): string {
  return path.join(samplesDir(), relative);
}

function newestTs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestTs(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * The command line runs from dist/ (as users run it). CI builds before jest; locally a stale build is
 * rebuilt here so the tests never judge yesterday's code.
 */
export function ensureCliBuilt(): void {
  const sources = Math.max(newestTs(path.join(ROOT, 'cli')), newestTs(path.join(ROOT, 'lib')));
  const fresh = (): boolean =>
    existsSync(CLI_JS) &&
    statSync(CLI_JS).mtimeMs >= sources &&
    existsSync(path.join(ROOT, 'dist', 'lib', 'files', 'writer.js')) &&
    statSync(path.join(ROOT, 'dist', 'lib', 'files', 'writer.js')).mtimeMs >= sources;
  if (fresh()) return;
  spawnSync(path.join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], {
    cwd: ROOT,
    stdio: 'ignore',
    env: { ...process.env, PATH: `${path.join(ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` },
  });
  if (!fresh()) throw new Error('dist/cli is stale and `tsc -p tsconfig.json` did not refresh it: run `npm run build` and read the errors.');
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  lines: string[];
}

export interface CliRunOptions {
  env: Record<string, string>;
  /** Sees every stdout line as it arrives, with the child (to kill it mid-run). */
  onLine?: (line: string, child: ChildProcess) => void;
  onSpawn?: (child: ChildProcess) => void;
  /** Kills the child (SIGKILL) if it is still running after this long: a hang is a failure, not a stuck suite. */
  hardTimeoutMs?: number;
  /** Run it with Perl hidden (test/helpers/withoutPerl; needs root): it then uses the built-in ExifTool. */
  withoutPerl?: boolean;
}

export function runCli(args: string[], options: CliRunOptions): Promise<CliResult & { timedOut: boolean }> {
  return new Promise((resolve, reject) => {
    const env = { PATH: `${path.dirname(NODE_BIN)}:${process.env.PATH ?? ''}`, HOME: process.env.HOME ?? os.tmpdir(), ...options.env };
    const plain = { command: NODE_BIN, args: [CLI_JS, ...args] };
    const command = options.withoutPerl ? withoutPerlCommand(plain.command, plain.args) : plain;
    const child = spawn(command.command, command.args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let partial = '';
    let timedOut = false;
    const timer = options.hardTimeoutMs
      ? setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, options.hardTimeoutMs)
      : null;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      stdout += chunk;
      partial += chunk;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) options.onLine?.(line, child);
    });
    child.stderr!.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, lines: stdout.split('\n').filter((l) => l.length > 0), timedOut });
    });
    options.onSpawn?.(child);
  });
}

export interface Counts {
  written: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

export function summaryOf(result: CliResult): Counts | null {
  for (const line of [...result.lines].reverse()) {
    const m = /^written (\d+), unchanged (\d+), skipped (\d+), failed (\d+)$/.exec(line);
    if (m) return { written: Number(m[1]), unchanged: Number(m[2]), skipped: Number(m[3]), failed: Number(m[4]) };
  }
  return null;
}

const temps: string[] = [];

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), `rel-${prefix}-`));
  temps.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of temps.splice(0)) {
    unlockTree(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Every regular file under dir (not following symlinks), relative path → sha256. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out[path.relative(dir, full)] = sha256(full);
    }
  };
  walk(dir);
  return out;
}

export function listFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(full);
    }
  };
  walk(dir);
  return out.sort();
}

export function tempLeftovers(dir: string): string[] {
  return listFiles(dir).filter((f) => path.basename(f).includes(TEMP_MARK));
}

export function makeWritable(dir: string): void {
  for (const full of listFiles(dir)) if (!lstatSync(full).isSymbolicLink()) chmodSync(full, statSync(full).mode | 0o200);
}

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* ---- immutable files: read-only that holds for root too ---- */

const immutable = new Set<string>();

/**
 * `chattr +i` makes a file or folder unchangeable even for root (rename, unlink and create inside are
 * refused). Returns false when the file system or the container does not allow it.
 */
export function makeImmutable(target: string): boolean {
  const r = spawnSync('chattr', ['+i', target], { encoding: 'utf8' });
  if (r.status !== 0) return false;
  immutable.add(target);
  return true;
}

export function clearImmutable(target: string): void {
  spawnSync('chattr', ['-i', target]);
  immutable.delete(target);
}

function unlockTree(dir: string): void {
  for (const target of [...immutable]) if (target === dir || target.startsWith(dir + path.sep)) clearImmutable(target);
}

/** Whether chattr +i works here (probed on a scratch file). */
export function immutableSupported(): boolean {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rel-chattr-probe-'));
  const probe = path.join(dir, 'probe');
  require('fs').writeFileSync(probe, 'x');
  const ok = makeImmutable(probe);
  if (ok) clearImmutable(probe);
  rmSync(dir, { recursive: true, force: true });
  return ok;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/* ---- asset details as Get Asset Details emits them ---- */


let assetCounter = 0;

/** A fresh UUID-shaped asset id (the client refuses anything else). */
export function assetId(): string {
  assetCounter += 1;
  return `0e1a5e00-0000-4000-8000-${assetCounter.toString(16).padStart(12, '0')}`;
}

/**
 * Details for an asset whose Immich path maps (last 3 segments) onto `<root>/<year>/<month>/<name>`.
 * Values differ from what the samples hold, so there is always something to write.
 */
export function detailsFor(originalPath: string, over: { exif?: Partial<ImmichExif>; names?: string[] } & Partial<Omit<ImmichAssetDetails, 'exif'>> = {}): ImmichAssetDetails {
  const { exif, names: given, ...rest } = over;
  const names = given ?? ['Marie Curie'];
  return {
    id: assetId(),
    type: /\.(mp4|mov)$/i.test(originalPath) ? 'VIDEO' : 'IMAGE',
    originalPath,
    originalFileName: path.basename(originalPath),
    libraryId: 'library-external-1',
    updatedAt: '2026-01-02T03:04:05.000Z',
    fileCreatedAt: '2019-03-21T16:04:22.000Z',
    localDateTime: '2019-03-21T11:04:22.000Z',
    isFavorite: false,
    isTrashed: false,
    visibility: 'timeline',
    isEdited: false,
    width: null,
    height: null,
    people: names.map((name, i) => ({ id: `person-${i}`, name, isHidden: false, updatedAt: null })),
    faces: [],
    tags: [],
    albums: [],
    serverMajor: 3,
    ...rest,
    exif: {
      dateTimeOriginal: '2019-03-21T16:04:22.000Z',
      timeZone: 'UTC-5',
      description: 'Reliability test – äöü ✓',
      rating: 4,
      latitude: -33.856784,
      longitude: -70.648,
      orientation: null,
      exifImageWidth: null,
      exifImageHeight: null,
      ...exif,
    },
  };
}

/* ---- a hand-made simulator library ---- */

export interface HandAsset {
  originalPath: string;
  description?: string;
  rating?: number | null;
  /** Names of the people on it (one face each). */
  people?: string[];
  albums?: string[];
  fileCreatedAt?: string;
}

/** A library whose assets (and people and albums) are exactly the ones given, for hostile-input runs. */
export function handLibrary(items: HandAsset[]): { library: SimLibrary; ids: string[] } {
  const at = '2025-03-01T00:00:00.000Z';
  const people = new Map<string, SimPerson>();
  const albums = new Map<string, SimAlbum>();
  const assets: SimAsset[] = items.map((item, i) => {
    const id = uuidFrom(`reliability-asset:${i}:${item.originalPath}`);
    const taken = item.fileCreatedAt ?? new Date(Date.parse('2020-01-01T10:00:00.000Z') + i * 60_000).toISOString();
    for (const name of item.albums ?? []) {
      if (!albums.has(name)) albums.set(name, { id: uuidFrom(`reliability-album:${name}`), albumName: name, description: '', createdAt: at, updatedAt: at, assetIds: new Set() });
      albums.get(name)!.assetIds.add(id);
    }
    const faces = (item.people ?? []).map((name, k) => {
      if (!people.has(name)) people.set(name, { id: uuidFrom(`reliability-person:${name}`), name, isHidden: false, isFavorite: false, updatedAt: at });
      return { id: uuidFrom(`reliability-face:${i}:${k}`), personId: people.get(name)!.id, x1: 10 + k, y1: 10, x2: 40 + k, y2: 40, imageWidth: 100, imageHeight: 100, sourceType: 'machine-learning' as const };
    });
    return {
      id,
      type: 'IMAGE',
      originalPath: item.originalPath,
      originalFileName: item.originalPath.split('/').pop() || 'unnamed.jpg',
      originalMimeType: 'image/jpeg',
      libraryId: null,
      createdAt: at,
      updatedAt: at,
      fileCreatedAt: taken,
      fileModifiedAt: taken,
      localDateTime: taken,
      isFavorite: false,
      visibility: 'timeline',
      deletedAt: null,
      isEdited: false,
      width: 100,
      height: 100,
      durationMs: null,
      checksum: Buffer.from(`reliability-${i}`).toString('base64'),
      exif: {
        dateTimeOriginal: taken,
        timeZone: 'UTC',
        description: item.description ?? '',
        rating: item.rating ?? 3,
        latitude: null,
        longitude: null,
        city: null,
        state: null,
        country: null,
        orientation: '1',
        exifImageWidth: 100,
        exifImageHeight: 100,
        make: null,
        model: null,
        fileSizeInByte: null,
      },
      tagIds: [],
      faces,
    };
  });
  const owner = { id: uuidFrom('user:reliability'), email: 'reliability@example.com', name: 'Reliability' };
  return { library: new SimLibrary(new ArrayAssetStore(assets), owner, { people: [...people.values()], albums: [...albums.values()] }), ids: assets.map((a) => a.id) };
}

/* ---- a client whose back-off waits are recorded, not slept ---- */


export function recordingClient(sim: { url: string; apiKey: string }, overrides: Partial<AxiosTransportOptions> = {}): { client: ImmichClient; waits: number[] } {
  const waits: number[] = [];
  const transport = new AxiosTransport({
    url: sim.url,
    apiKey: sim.apiKey,
    retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 60_000 },
    sleep: async (ms: number) => {
      waits.push(ms);
    },
    ...overrides,
  });
  return { client: new ImmichClient(transport), waits };
}
