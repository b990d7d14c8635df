/**
 * Temporary copies live beside the file they replace (so the final rename is atomic, on the same
 * file system) under a recognisable name, so that leftovers of a killed run can be found and removed.
 */
import { randomBytes } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

const TEMP_MARK = '.immich-sync-tmp-';
/** A temp file whose writer process is gone, or that is this old, is a leftover. */
const STALE_AFTER_MS = 60 * 60 * 1000;

/**
 * This host's name as it appears in temporary names: several hosts (n8n workers) may write to one
 * shared library, and a pid alone is only unique on one host.
 */
export function hostTag(hostname: string = os.hostname()): string {
  return hostname.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 40) || 'host';
}

/** `<host>-<pid>-<random>`: unique across the hosts and processes writing into one folder. */
export function uniqueTempSuffix(): string {
  return `${hostTag()}-${process.pid}-${randomBytes(6).toString('hex')}`;
}

/**
 * `.photo.jpg.immich-sync-tmp-<host>-<pid>-<random>.jpg`: hidden, tagged with the writing host and
 * process, and ending in the original extension because ExifTool picks the output format from it.
 */
export function tempPathFor(file: string): string {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const ext = path.extname(file);
  const temp = path.join(dir, `.${base}${TEMP_MARK}${uniqueTempSuffix()}${ext}`);
  inFlight.add(temp);
  return temp;
}

/**
 * Temp files this process is writing right now. The pid in a name is not enough: in a container
 * the restarted process usually gets the same pid as the killed one whose leftovers it must remove.
 */
const inFlight = new Set<string>();

export function isTempFileOf(file: string, candidateName: string): boolean {
  return parseTempName(path.basename(file), candidateName) !== null;
}

/**
 * `base` null: a temp file of any file in the folder. `host` is null for names of earlier versions,
 * which carried only the pid.
 */
function parseTempName(base: string | null, candidateName: string): { host: string | null; pid: number } | null {
  let rest: string;
  if (base !== null) {
    const prefix = `.${base}${TEMP_MARK}`;
    if (!candidateName.startsWith(prefix)) return null;
    rest = candidateName.slice(prefix.length);
  } else {
    const at = candidateName.lastIndexOf(TEMP_MARK);
    if (!candidateName.startsWith('.') || at <= 1) return null;
    rest = candidateName.slice(at + TEMP_MARK.length);
  }
  const match = /^(?:([A-Za-z0-9_-]+)-)?(\d+)-[0-9a-f]+(\.[^.]*)?$/.exec(rest);
  return match ? { host: match[1] ?? null, pid: Number(match[2]) } : null;
}

/** Removes leftovers for `file` from earlier, killed runs. Returns the removed paths. */
export async function removeStaleTempFiles(file: string): Promise<string[]> {
  return removeStale(path.dirname(file), path.basename(file));
}

/** Removes leftovers of earlier, killed runs for every file in `dir`. Returns the removed paths. */
export async function removeStaleTempFilesInFolder(dir: string): Promise<string[]> {
  return removeStale(dir, null);
}

async function removeStale(dir: string, base: string | null): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const parsed = parseTempName(base, name);
    if (!parsed) continue;
    const full = path.join(dir, name);
    try {
      const st = await fs.lstat(full);
      if (!st.isFile()) continue;
      if (inFlight.has(full)) continue; // ours, being written (each write removes its own in a finally)
      const old = Date.now() - st.mtimeMs > STALE_AFTER_MS;
      // Another live process may be writing it right now; our own pid only names a dead predecessor.
      // Whether a process of another host lives cannot be seen from here: only age makes its file a leftover.
      const otherHost = parsed.host !== null && parsed.host !== hostTag();
      if (!old && (otherHost || (parsed.pid !== process.pid && isProcessAlive(parsed.pid)))) continue;
      await fs.unlink(full);
      removed.push(full);
    } catch {
      // Gone already, or not ours to remove: either way nothing to do.
    }
  }
  return removed;
}

export async function removeQuietly(file: string): Promise<void> {
  inFlight.delete(file);
  try {
    await fs.unlink(file);
  } catch {
    // Already gone.
  }
}

function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
