/**
 * The sync index: per asset and target file, what we last made the file hold (a hash of the metadata plan
 * and the options that shaped it) and the file's signature right after we wrote or checked it (size,
 * mtime, ctime, inode, device). When both still match, the file is unchanged without asking ExifTool.
 *
 * The index is a cache, never the truth: a missing, damaged, foreign or outdated index costs one slow pass
 * (read, diff, write, verify), nothing else. Every doubt takes the slow path: a missing entry, another plan,
 * another signature, or a signature taken so soon after the file's last change that a coarse clock could
 * hide a later edit (git's "racy" entries).
 *
 * Why a record file of our own and not SQLite: `node:sqlite` does not exist on Node 20 (where the tests and
 * the command line may run) and is still marked as in development on 22/24; an npm SQLite
 * needs a native build or install scripts, which n8n's community-package installer does not run. What the
 * index needs is small: load everything once per run (100,000 entries are a few MB of JSON lines), append
 * a batch of entries cheaply, and survive kills. So: one append-only file of JSON lines, each line with
 * its own checksum, behind a checksummed header that names the format, the writer generation and the
 * library. A torn last line (a kill during an append) is dropped; any other damage discards the whole
 * index with a warning (a lost record could otherwise let an older one for the same file come back). The
 * file is compacted (rewritten to a temporary file, fsynced, renamed) when it holds mostly superseded
 * lines.
 *
 * Crash order: the writer renames its verified copy first; only then is the entry recorded, with the
 * signature seen after the rename. A kill before the entry reaches the disk leaves the old entry, whose
 * signature (another inode) no longer matches, so the file is checked again.
 */
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as path from 'path';

import type { MetadataPlan } from '../metadata/types';
import { stateFolderFor, WHOLE_LIBRARY, type Partition } from './stateFolder';

export const SYNC_INDEX_FILE = 'sync-index.jsonl';
const FORMAT = 'immich-metadata-sync/sync-index';
const FORMAT_VERSION = 1;
/**
 * Which writer made the entries. Bump it when what the writer puts into a file for the same plan changes
 * (a new tag, another diff rule): every entry then counts as unknown, and the next run checks every file.
 */
export const WRITER_GENERATION = 1;
/** A signature taken less than this after the file's last change is not trusted (1–2 s clocks: ext3, FAT, SMB). */
export const DEFAULT_RACY_WINDOW_MS = 2000;
const FLUSH_EVERY = 500;
const FLUSH_AFTER_MS = 1000;

export interface IndexEntry {
  /** Hash of the plan and the target kind (planKey). */
  plan: string;
  /** The signature of the target file (and, for a sidecar, of its media file). */
  signature: string;
  /** Wall-clock ms when the signature was observed. */
  seenAt: number;
}

export interface SyncIndexOptions {
  /** What the index belongs to (the library path): an index of another library is not used. */
  identity: string;
  warn?: (message: string) => void;
  racyWindowMs?: number;
}

interface Header {
  format: string;
  version: number;
  writer: number;
  identity: string;
}

/** The key of one target file of one asset. */
export function indexKey(assetId: string, targetKind: string, file: string): string {
  return `${assetId}|${targetKind}|${path.resolve(file)}`;
}

/** What the file should hold: the whole plan (stable key order) and the target kind. */
export function planKey(plan: MetadataPlan, targetKind: string): string {
  return createHash('sha256').update(stableJson({ plan, targetKind })).digest('base64url').slice(0, 32);
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Size, mtime, ctime (ns), inode and device of each file, or null when one cannot be read; and the latest ctime. */
export async function fileSignature(files: readonly string[]): Promise<{ signature: string; changedAtMs: number } | null> {
  const parts: string[] = [];
  let changedAtMs = 0;
  for (const file of files) {
    try {
      const st = await fs.stat(file, { bigint: true });
      parts.push(`${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}:${st.dev}`);
      // ctime, not mtime: any change sets it to the kernel's clock, and no tool can set it back.
      changedAtMs = Math.max(changedAtMs, Number(st.ctimeNs / 1_000_000n));
    } catch {
      return null;
    }
  }
  return { signature: parts.join(' '), changedAtMs };
}

function checksum(text: string): string {
  return createHash('sha1').update(text).digest('hex').slice(0, 12);
}

function line(value: unknown): string {
  const json = JSON.stringify(value);
  return `${checksum(json)} ${json}\n`;
}

function parseLine(text: string): unknown {
  const space = text.indexOf(' ');
  if (space !== 12) return undefined;
  const json = text.slice(13);
  if (checksum(json) !== text.slice(0, 12)) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

type Record_ = { k: string; p: string; s: string; t: number } | { k: string; d: 1 };

function isRecord(value: unknown): value is Record_ {
  if (!value || typeof value !== 'object') return false;
  const r = value as Record<string, unknown>;
  if (typeof r.k !== 'string') return false;
  return r.d === 1 || (typeof r.p === 'string' && typeof r.s === 'string' && typeof r.t === 'number');
}

export class SyncIndex {
  private readonly entries = new Map<string, IndexEntry>();
  private pending: string[] = [];
  private lines = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private failure: unknown = null;
  private readonly racyWindowMs: number;

  private constructor(
    readonly file: string,
    private readonly options: SyncIndexOptions,
  ) {
    this.racyWindowMs = options.racyWindowMs ?? DEFAULT_RACY_WINDOW_MS;
  }

  /** Loads the index in `folder` (creating the folder); a damaged or foreign one is replaced by an empty one. */
  static async open(folder: string, options: SyncIndexOptions): Promise<SyncIndex> {
    const index = new SyncIndex(path.join(folder, SYNC_INDEX_FILE), options);
    await fs.mkdir(folder, { recursive: true });
    const problem = await index.load();
    if (problem !== null) {
      if (problem !== '') options.warn?.(`Sync index ${index.file}: ${problem}; it is rebuilt, so this run checks every file with ExifTool.`);
      index.entries.clear();
      await index.rewrite();
    } else if (index.lines > 2 * index.entries.size + 1000) {
      await index.rewrite();
    }
    return index;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The entry, when it says the file still holds `plan`: same plan hash, same signature, not racy. */
  isUnchanged(key: string, plan: string, current: { signature: string; changedAtMs: number } | null): boolean {
    const entry = this.entries.get(key);
    if (!entry || !current) return false;
    if (entry.plan !== plan || entry.signature !== current.signature) return false;
    return entry.seenAt - current.changedAtMs >= this.racyWindowMs;
  }

  record(key: string, entry: IndexEntry): void {
    this.entries.set(key, entry);
    this.enqueue({ k: key, p: entry.plan, s: entry.signature, t: entry.seenAt });
  }

  forget(key: string): void {
    if (!this.entries.delete(key)) return;
    this.enqueue({ k: key, d: 1 });
  }

  /** Writes the recorded entries (one append and one fsync per batch). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending.join('');
    const count = this.pending.length;
    this.pending = [];
    this.writing = this.writing.then(async () => {
      if (count === 0) return;
      const handle = await fs.open(this.file, 'a');
      try {
        await handle.write(batch);
        await handle.sync();
      } finally {
        await handle.close();
      }
      this.lines += count;
    });
    try {
      await this.writing;
    } catch (error) {
      // The index is only a speed-up: a disk problem here must not fail the sync, and the next run checks again.
      this.writing = Promise.resolve();
      this.failure ??= error;
      this.options.warn?.(`Sync index ${this.file} could not be updated (${messageOf(error)}); the files are fine, the next run checks them with ExifTool.`);
    }
  }

  /** Flushes and compacts when most lines are superseded. */
  async close(): Promise<void> {
    await this.flush();
    if (this.failure === null && this.lines > 2 * this.entries.size + 1000) await this.rewrite().catch(() => undefined);
  }

  private enqueue(record: Record_): void {
    this.pending.push(line(record));
    if (this.pending.length >= FLUSH_EVERY) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_AFTER_MS);
      this.timer.unref();
    }
  }

  private header(): Header {
    return { format: FORMAT, version: FORMAT_VERSION, writer: WRITER_GENERATION, identity: this.options.identity };
  }

  /** null when loaded; '' for an index to replace silently (none yet, older writer); otherwise why it was discarded. */
  private async load(): Promise<string | null> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      return `cannot be read (${messageOf(error)})`;
    }
    const rows = text.split('\n');
    const torn = rows.pop() ?? ''; // after the last newline: empty, or a line a kill cut short
    const header = parseLine(rows[0] ?? torn) as Partial<Header> | undefined;
    if (!header || header.format !== FORMAT) return rows.length === 0 && torn === '' ? '' : 'it is not a sync index or its header is damaged';
    if (header.identity !== this.options.identity) return `it belongs to another library (${String(header.identity)})`;
    if (header.version !== FORMAT_VERSION || header.writer !== WRITER_GENERATION) return '';
    for (let i = 1; i < rows.length; i++) {
      const record = parseLine(rows[i]);
      if (!isRecord(record)) {
        // The last complete line may be torn too when the kill came between its bytes and the page with its newline.
        if (i === rows.length - 1 && torn === '') break;
        return `line ${i + 1} is damaged`;
      }
      if ('d' in record) this.entries.delete(record.k);
      else this.entries.set(record.k, { plan: record.p, signature: record.s, seenAt: record.t });
    }
    this.lines = rows.length - 1;
    return null;
  }

  /** The live entries into a fresh file, swapped in atomically. */
  private async rewrite(): Promise<void> {
    await this.writing.catch(() => undefined);
    const temp = `${this.file}.${process.pid}.tmp`;
    const parts = [line(this.header())];
    for (const [k, e] of this.entries) parts.push(line({ k, p: e.plan, s: e.signature, t: e.seenAt }));
    const handle = await fs.open(temp, 'w');
    try {
      await handle.write(parts.join(''));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temp, this.file);
    this.lines = this.entries.size;
  }
}

/** The State Folder may not be used (the host's file-access rules refuse it). */
export class SyncIndexLocationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SyncIndexLocationError';
  }
}

export interface LibraryIndexOptions {
  partition?: Partition;
  warn?: (message: string) => void;
  /** The host's file-access rule (n8n: helpers.isFilePathBlocked), asked with the real path before anything is created. */
  mayUse?: (realFolder: string) => boolean;
}

/** The index of one library (one per library and partition) under a state root. */
export async function openLibraryIndex(root: string, libraryPath: string, options: LibraryIndexOptions = {}): Promise<SyncIndex> {
  const identity = path.resolve(libraryPath);
  const folder = stateFolderFor(path.resolve(root), identity, options.partition ?? WHOLE_LIBRARY);
  if (options.mayUse) {
    const real = await realPathToBe(folder);
    if (!options.mayUse(real)) {
      throw new SyncIndexLocationError(
        `The State Folder ${root} (sync index in ${real}) is outside the paths n8n may access: set State Folder to a folder inside N8N_RESTRICT_FILE_ACCESS_TO, or turn off Use Sync Index.`,
      );
    }
  }
  return SyncIndex.open(folder, { identity, warn: options.warn });
}

/** The real path a folder will have: its nearest existing ancestor resolved, the rest appended. */
async function realPathToBe(folder: string): Promise<string> {
  const missing: string[] = [];
  let current = folder;
  for (;;) {
    try {
      return path.join(await fs.realpath(current), ...missing.reverse());
    } catch (error) {
      const parent = path.dirname(current);
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || parent === current) throw error;
      missing.push(path.basename(current));
      current = parent;
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
