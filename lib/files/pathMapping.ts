/**
 * Turns Immich's `originalPath` (a path inside the Immich container) into a file under the local
 * library root, and refuses anything that would land outside that root.
 */
import { promises as fs } from 'fs';
import * as path from 'path';

export type PathMapping =
  /** Replace Immich's prefix (e.g. `/usr/src/app/upload`) with a local one (e.g. `/library`). */
  | { mode: 'prefix'; immichPrefix: string; localPrefix: string }
  /** Keep the last N segments of `originalPath` under the library root (the seed: N=3 → year/month/file). */
  | { mode: 'lastSegments'; segments: number };

export const DEFAULT_PATH_MAPPING: PathMapping = { mode: 'lastSegments', segments: 3 };

export type MappedPath = { ok: true; path: string } | { ok: false; reason: string };

/** A wrong configuration (not one asset's problem): the caller stops the run with this message. */
export class PathMappingConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PathMappingConfigError';
  }
}

/** Throws PathMappingConfigError when the library root or the mapping cannot work for any asset. */
export function validateMapping(libraryPath: string, mapping: PathMapping): void {
  if (!libraryPath || libraryPath.includes('\0')) {
    throw new PathMappingConfigError('Library Path is empty or invalid: set it to the folder where the Immich library is mounted (e.g. /library).');
  }
  if (!path.isAbsolute(libraryPath)) {
    throw new PathMappingConfigError(`Library Path "${libraryPath}" must be an absolute path (e.g. /library).`);
  }
  if (mapping.mode === 'lastSegments') {
    if (!Number.isInteger(mapping.segments) || mapping.segments < 1 || mapping.segments > 32) {
      throw new PathMappingConfigError(`Path segments to keep must be a whole number from 1 to 32 (got ${mapping.segments}).`);
    }
    return;
  }
  if (!mapping.immichPrefix || !mapping.immichPrefix.startsWith('/') || mapping.immichPrefix.includes('\0')) {
    throw new PathMappingConfigError(
      `Immich path prefix "${mapping.immichPrefix}" must be an absolute path as Immich reports it (e.g. /usr/src/app/upload).`,
    );
  }
  const root = path.resolve(libraryPath);
  const local = resolveLocalPrefix(libraryPath, mapping.localPrefix);
  if (local !== root && !isInside(root, local)) {
    throw new PathMappingConfigError(
      `Local path prefix "${mapping.localPrefix}" is outside Library Path "${libraryPath}": it must be the library root or a folder inside it.`,
    );
  }
}

/**
 * Pure mapping of one asset's `originalPath`. Refuses NUL bytes, `..`/`.` segments and results that
 * are not strictly inside the library root; symlinks are checked separately by `checkRealPathInside`.
 */
export function mapAssetPath(assetId: string, originalPath: string, libraryPath: string, mapping: PathMapping): MappedPath {
  const refuse = (why: string): MappedPath => ({
    ok: false,
    reason: `Asset ${assetId}: path "${printable(originalPath)}" refused: ${why}.`,
  });
  if (typeof originalPath !== 'string' || originalPath.length === 0) return refuse('Immich reported no original path');
  if (originalPath.includes('\0')) return refuse('it contains a NUL byte');

  const root = path.resolve(libraryPath);
  let relativeSegments: string[];
  let base = root;
  if (mapping.mode === 'lastSegments') {
    const segments = originalPath.split('/').filter((s) => s.length > 0);
    if (segments.length < mapping.segments) {
      return refuse(`it has fewer than ${mapping.segments} segments to keep; use the prefix mapping or fewer segments`);
    }
    relativeSegments = segments.slice(-mapping.segments);
  } else {
    const prefix = stripTrailingSlashes(mapping.immichPrefix);
    if (!(originalPath === prefix || originalPath.startsWith(prefix + '/'))) {
      return refuse(`it does not start with the Immich path prefix "${prefix}"; check the Path Mapping settings`);
    }
    relativeSegments = originalPath.slice(prefix.length).split('/').filter((s) => s.length > 0);
    base = resolveLocalPrefix(libraryPath, mapping.localPrefix);
  }
  if (relativeSegments.length === 0) return refuse('it names a folder, not a file');
  if (relativeSegments.some((s) => s === '..' || s === '.')) return refuse('it contains "." or ".." segments that could leave the library root');

  const mapped = path.join(base, ...relativeSegments);
  if (!isInside(root, mapped)) return refuse(`the mapped path "${mapped}" is outside the library root "${root}"`);
  return { ok: true, path: mapped };
}

/**
 * Follows symlinks in every segment (realpath) and refuses a path whose real location is outside
 * the real library root. A path that does not exist yet (e.g. a new sidecar) is checked through its
 * nearest existing ancestor.
 */
export async function checkRealPathInside(assetId: string, libraryPath: string, candidate: string): Promise<MappedPath> {
  let realRoot: string;
  try {
    realRoot = await fs.realpath(libraryPath);
  } catch {
    return { ok: false, reason: `Asset ${assetId}: Library Path "${libraryPath}" does not exist or cannot be read; check the volume mount.` };
  }
  const realCandidate = await realPathOfNearestExisting(path.resolve(candidate));
  if (realCandidate === null || !isInside(realRoot, realCandidate)) {
    return {
      ok: false,
      reason: `Asset ${assetId}: path "${printable(candidate)}" refused: a symlink makes it point outside the library root "${realRoot}" (to "${realCandidate ?? 'unknown'}").`,
    };
  }
  return { ok: true, path: candidate };
}

async function realPathOfNearestExisting(absolute: string): Promise<string | null> {
  let pending: string[] = [];
  let current = absolute;
  // Like the kernel's own limit on symlink hops: a chain of dangling links must not spin forever.
  let hops = 0;
  for (;;) {
    try {
      const real = await fs.realpath(current);
      return path.join(real, ...pending);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ELOOP') return null;
      const parent = path.dirname(current);
      if (parent === current) return null;
      // realpath also fails on a dangling symlink: follow it ourselves, its target decides.
      const linkTarget = await readLinkIfSymlink(current);
      if (linkTarget !== null) {
        if (++hops > 40) return null;
        current = path.join(path.resolve(parent, linkTarget), ...pending);
        pending = [];
        continue;
      }
      pending.unshift(path.basename(current));
      current = parent;
    }
  }
}

async function readLinkIfSymlink(p: string): Promise<string | null> {
  try {
    const st = await fs.lstat(p);
    return st.isSymbolicLink() ? await fs.readlink(p) : null;
  } catch {
    return null;
  }
}

export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate);
  return relative.length > 0 && !relative.startsWith('..' + path.sep) && relative !== '..' && !path.isAbsolute(relative);
}

function resolveLocalPrefix(libraryPath: string, localPrefix: string): string {
  return path.resolve(libraryPath, localPrefix || '.');
}

function stripTrailingSlashes(p: string): string {
  const stripped = p.replace(/\/+$/, '');
  return stripped.length === 0 ? '/' : stripped;
}

/** NUL, ESC, newlines and other control bytes are shown escaped so a message never carries them raw. */
export function printable(p: string): string {
  // eslint-disable-next-line no-control-regex
  return String(p).replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
