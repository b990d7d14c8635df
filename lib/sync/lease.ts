/**
 * A lease on a state folder: while one run holds it, no other run (another n8n execution, a queue-mode
 * worker on another host, the command line) works from that folder's checkpoint, so no two runs hand
 * out and write the same assets at once. It lives with the data, as `lease.json` in the state folder,
 * because the runs may share nothing else (the file system of the library is what every worker mounts).
 *
 * - Taking it is atomic: the record is written to a temporary file, then hard-linked to `lease.json`,
 *   which fails if the file exists (link is atomic on local file systems and on NFS), so the lease is
 *   never seen half written and two takers cannot both succeed.
 * - It expires: a holder that crashed cannot keep it forever. The holder renews it while it works. A
 *   holder on this host whose process is gone (killed, crashed) is known dead at once; of another host
 *   nothing can be known, so only expiry frees its lease. A holder with our own pid may be another
 *   execution of this very process (n8n runs several at once), so it is not called dead either.
 * - Every change to an existing lease (take-over of an expired one, renewal, release) happens under a
 *   guard file (`lease.json.guard`, created the same exclusive way and held for milliseconds), and
 *   re-reads the lease under it: of two runs finding the same expired lease only one replaces it, and
 *   the replacement is an atomic rename, so there is never a moment without a lease for a third run
 *   to slip into.
 * - Renewing and releasing check the token, so a run whose lease was taken over (it was away longer
 *   than the lease lasts) never removes or extends the new holder's lease.
 * - A guard left by a run that crashed within those milliseconds is removed once it is old.
 */
import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import { uniqueTempSuffix } from '../files/tempFiles';

export const LEASE_FILE = 'lease.json';
/** Long enough for a batch between two renewals, short enough that a crashed holder costs a few runs at most. */
export const DEFAULT_LEASE_TTL_MS = 15 * 60_000;
/** A guard is held for a few file operations; one this old was left by a crash. */
const GUARD_STALE_MS = 30_000;
const BUSY = Symbol('busy');

export interface LeaseOwner {
  host: string;
  pid: number;
  /** What the run is to people: an n8n execution id, "command line". */
  run: string | null;
  /** Random: tells this holding apart from any other, also of the same host and pid. */
  token: string;
}

export interface LeaseRecord {
  owner: LeaseOwner;
  acquiredAt: string;
  renewedAt: string;
  expiresAt: string;
}

export type LeaseAttempt =
  | { acquired: true; lease: LeaseRecord }
  /** `holder` is null when the lease file could not be read (damaged and not yet old). */
  | { acquired: false; holder: LeaseRecord | null };

export interface LeaseOptions {
  ttlMs?: number;
  run?: string | null;
  now?: () => Date;
  host?: string;
  pid?: number;
}

type Stored = { kind: 'none' } | { kind: 'record'; record: LeaseRecord; text: string } | { kind: 'damaged'; text: string; modifiedMs: number };

export async function acquireLease(folder: string, options: LeaseOptions = {}): Promise<LeaseAttempt> {
  const now = options.now ?? (() => new Date());
  const ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
  const file = path.join(folder, LEASE_FILE);
  await fs.mkdir(folder, { recursive: true });
  const owner: LeaseOwner = {
    host: options.host ?? os.hostname(),
    pid: options.pid ?? process.pid,
    run: options.run ?? null,
    token: randomBytes(12).toString('hex'),
  };
  let holder: LeaseRecord | null = null;
  // A few rounds: a lease released or taken over between our steps sends us round once more.
  for (let round = 0; round < 4; round++) {
    const at = now();
    const record: LeaseRecord = { owner, acquiredAt: at.toISOString(), renewedAt: at.toISOString(), expiresAt: new Date(at.getTime() + ttlMs).toISOString() };
    if (await createExclusive(file, record)) return { acquired: true, lease: record };
    const stored = await readStored(file);
    if (stored.kind === 'none') continue;
    holder = stored.kind === 'record' ? stored.record : null;
    const expired =
      stored.kind === 'record'
        ? Date.parse(stored.record.expiresAt) <= at.getTime() || holderIsDeadHere(stored.record.owner, owner)
        : at.getTime() - stored.modifiedMs > ttlMs;
    if (!expired) return { acquired: false, holder };
    const taken = await withGuard(file, async () => {
      const again = await readStored(file);
      if (again.kind === 'none') return createExclusive(file, record);
      if (again.text !== stored.text) return false; // renewed or taken over meanwhile
      await replace(file, record);
      return true;
    });
    if (taken === true) return { acquired: true, lease: record };
    if (taken === BUSY) return { acquired: false, holder }; // another run is taking it over right now
    holder = await currentHolder(file);
    if (holder) return { acquired: false, holder };
  }
  return { acquired: false, holder };
}

/** Extends a lease this run holds; null when it is no longer ours (it expired and another run took it). */
/**
 * Extends a lease this run holds: the renewed record, the same one when the guard was busy (try again
 * soon), or null when it is no longer ours (it expired and another run took it).
 */
export async function renewLease(folder: string, lease: LeaseRecord, options: Pick<LeaseOptions, 'ttlMs' | 'now'> = {}): Promise<LeaseRecord | null> {
  const file = path.join(folder, LEASE_FILE);
  const at = (options.now ?? (() => new Date()))();
  const renewed: LeaseRecord = { ...lease, renewedAt: at.toISOString(), expiresAt: new Date(at.getTime() + (options.ttlMs ?? DEFAULT_LEASE_TTL_MS)).toISOString() };
  const outcome = await withGuard(file, async () => {
    if (!(await holds(file, lease))) return null;
    await replace(file, renewed);
    return renewed;
  });
  return outcome === BUSY ? lease : outcome;
}

/** Gives the lease up if this run still holds it; true when it was ours. */
export async function releaseLease(folder: string, lease: LeaseRecord): Promise<boolean> {
  const file = path.join(folder, LEASE_FILE);
  // The guard is held for milliseconds: a release (the end of a run) waits for it rather than leave the lease to expire.
  for (let attempt = 0; attempt < 200; attempt++) {
    const outcome = await withGuard(file, async () => {
      if (!(await holds(file, lease))) return false;
      await fs.rm(file, { force: true });
      return true;
    });
    if (outcome !== BUSY) return outcome;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return false;
}

/** The record in the folder, if any (for status reports). */
export async function readLease(folder: string): Promise<LeaseRecord | null> {
  return currentHolder(path.join(folder, LEASE_FILE));
}

/** The message of a run that backs off. */
export function describeBackOff(holder: LeaseRecord | null, what = 'the library'): string {
  if (!holder) return `another run holds ${what} (its lease file cannot be read yet); this run backs off`;
  const { host, pid, run } = holder.owner;
  const who = [`host ${host}`, `pid ${pid}`, ...(run ? [run] : [])].join(', ');
  return `another run holds ${what} since ${holder.acquiredAt} (${who}; until ${holder.expiresAt} unless renewed); this run backs off`;
}

/**
 * Keeps a held lease alive during long work without a timer: `keepAlive()` is called as results come
 * in and renews once a third of the lease has passed.
 */
export class LeaseKeeper {
  private lost = false;

  constructor(
    readonly folder: string,
    private lease: LeaseRecord,
    private readonly options: Pick<LeaseOptions, 'ttlMs' | 'now'> = {},
  ) {}

  get record(): LeaseRecord {
    return this.lease;
  }

  /** False once the lease was found taken over. */
  async keepAlive(): Promise<boolean> {
    if (this.lost) return false;
    const now = (this.options.now ?? (() => new Date()))().getTime();
    const ttl = this.options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    if (now - Date.parse(this.lease.renewedAt) < ttl / 3) return true;
    const renewed = await renewLease(this.folder, this.lease, this.options);
    if (!renewed) this.lost = true;
    else this.lease = renewed;
    return renewed !== null;
  }

  release(): Promise<boolean> {
    return releaseLease(this.folder, this.lease);
  }
}

/** Accepts what a lease file holds; anything else is null. */
export function parseLeaseRecord(value: unknown): LeaseRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const raw = value as Record<string, unknown>;
  const owner = raw.owner as Record<string, unknown> | undefined;
  if (!owner || typeof owner.host !== 'string' || typeof owner.pid !== 'number' || typeof owner.token !== 'string') return null;
  for (const key of ['acquiredAt', 'renewedAt', 'expiresAt']) if (typeof raw[key] !== 'string' || Number.isNaN(Date.parse(raw[key] as string))) return null;
  return {
    owner: { host: owner.host, pid: owner.pid, run: typeof owner.run === 'string' ? owner.run : null, token: owner.token },
    acquiredAt: raw.acquiredAt as string,
    renewedAt: raw.renewedAt as string,
    expiresAt: raw.expiresAt as string,
  };
}

async function createExclusive(file: string, record: LeaseRecord): Promise<boolean> {
  const temp = `${file}.${uniqueTempSuffix()}.tmp`;
  await fs.writeFile(temp, JSON.stringify(record), 'utf8');
  try {
    return await linkExclusive(temp, file);
  } finally {
    await fs.rm(temp, { force: true });
  }
}

function holderIsDeadHere(holder: LeaseOwner, self: LeaseOwner): boolean {
  if (holder.host !== self.host || holder.pid === self.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

async function holds(file: string, lease: LeaseRecord): Promise<boolean> {
  const stored = await readStored(file);
  return stored.kind === 'record' && stored.record.owner.token === lease.owner.token;
}

/** Writes the record beside the lease and renames it over: readers see the old or the new record, never a part. */
async function replace(file: string, record: LeaseRecord): Promise<void> {
  const temp = `${file}.${uniqueTempSuffix()}.tmp`;
  await fs.writeFile(temp, JSON.stringify(record), 'utf8');
  await fs.rename(temp, file);
}

/** Runs `change` while holding the guard; BUSY when another run holds it. */
async function withGuard<T>(file: string, change: () => Promise<T>): Promise<T | typeof BUSY> {
  const guard = `${file}.guard`;
  const mine = `${uniqueTempSuffix()}`;
  const temp = `${guard}.${mine}.tmp`;
  await fs.writeFile(temp, mine, 'utf8');
  try {
    let taken = await linkExclusive(temp, guard);
    if (!taken && (await removeStaleGuard(guard))) taken = await linkExclusive(temp, guard);
    if (!taken) return BUSY;
  } finally {
    await fs.rm(temp, { force: true });
  }
  try {
    return await change();
  } finally {
    await fs.rm(guard, { force: true });
  }
}

async function linkExclusive(from: string, to: string): Promise<boolean> {
  try {
    await fs.link(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** A guard older than any change takes was left by a crash: removed, unless it was replaced meanwhile. */
async function removeStaleGuard(guard: string): Promise<boolean> {
  let text: string;
  try {
    const st = await fs.stat(guard);
    if (Date.now() - st.mtimeMs <= GUARD_STALE_MS) return false;
    text = await fs.readFile(guard, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  const aside = `${guard}.${uniqueTempSuffix()}.old`;
  try {
    await fs.rename(guard, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
  try {
    if ((await fs.readFile(aside, 'utf8')) === text) return true;
    await linkExclusive(aside, guard); // a fresh guard was renamed by mistake: put it back
    return false;
  } finally {
    await fs.rm(aside, { force: true });
  }
}

async function readStored(file: string): Promise<Stored> {
  let text: string;
  let modifiedMs: number;
  try {
    [text, modifiedMs] = await Promise.all([fs.readFile(file, 'utf8'), fs.stat(file).then((st) => st.mtimeMs)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'none' };
    throw error;
  }
  let record: LeaseRecord | null = null;
  try {
    record = parseLeaseRecord(JSON.parse(text));
  } catch {
    record = null;
  }
  return record ? { kind: 'record', record, text } : { kind: 'damaged', text, modifiedMs };
}

async function currentHolder(file: string): Promise<LeaseRecord | null> {
  const stored = await readStored(file);
  return stored.kind === 'record' ? stored.record : null;
}
