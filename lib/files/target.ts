/**
 * Which file(s) an asset's metadata goes into: the original, an XMP sidecar, or both.
 */
import { promises as fs } from 'fs';
import * as path from 'path';

import type { TargetKind } from '../metadata/capabilities';

export type TargetMode = 'original' | 'sidecar' | 'auto';

export interface FileTarget {
  kind: TargetKind;
  /** The file we write (for a sidecar: the XMP file, which may not exist yet). */
  file: string;
  exists: boolean;
}

export type TargetDecision = { ok: true; targets: FileTarget[] } | { ok: false; reason: string };

/**
 * Formats ExifTool can write in place (its `-listwf`, narrowed to photo and video formats Immich
 * imports). Anything else (AVI, MKV, WebM, MTS, WMV, BMP, ...) can only get a sidecar.
 */
const WRITABLE_EXTENSIONS = new Set([
  'jpg', 'jpeg', 'jpe', 'tif', 'tiff', 'png', 'heic', 'heif', 'hif', 'avif', 'webp', 'gif', 'jxl', 'jp2',
  'mp4', 'mov', 'm4v', 'qt', '3gp', '3g2',
  'dng', 'cr2', 'cr3', 'crw', 'nef', 'nrw', 'arw', 'sr2', 'srf', 'orf', 'ori', 'rw2', 'rwl', 'pef', 'raf', 'erf', 'mrw', 'x3f', 'iiq', 'psd',
]);

export function canExifToolWriteInPlace(file: string): boolean {
  return WRITABLE_EXTENSIONS.has(path.extname(file).slice(1).toLowerCase());
}

/** Sidecar names in the order Immich looks for them: `photo.jpg.xmp`, then `photo.xmp`. */
export function sidecarCandidates(mediaFile: string): [string, string] {
  const parsed = path.parse(mediaFile);
  return [`${mediaFile}.xmp`, path.join(parsed.dir, `${parsed.name}.xmp`)];
}

/** The sidecar Immich would read, if one exists. */
export async function findExistingSidecar(mediaFile: string): Promise<string | null> {
  for (const candidate of sidecarCandidates(mediaFile)) {
    if (candidate === mediaFile) continue; // the asset itself is an .xmp file
    if (await isRegularFile(candidate)) return candidate;
  }
  return null;
}

/**
 * `auto` writes originals only for external-library assets: an uploaded original's checksum is
 * stored by Immich, and rewriting it makes Immich's integrity check report the file as changed.
 */
export function effectiveMode(mode: TargetMode, libraryId: string | null): 'original' | 'sidecar' {
  if (mode !== 'auto') return mode;
  return libraryId ? 'original' : 'sidecar';
}

export async function resolveTargets(
  asset: { id: string; libraryId: string | null },
  mediaFile: string,
  mode: TargetMode,
): Promise<TargetDecision> {
  const existingSidecar = await findExistingSidecar(mediaFile);
  let wanted = effectiveMode(mode, asset.libraryId);
  if (wanted === 'original' && !canExifToolWriteInPlace(mediaFile)) {
    const ext = path.extname(mediaFile) || '(no extension)';
    if (mode === 'original') {
      return {
        ok: false,
        reason: `Asset ${asset.id}: ExifTool cannot write ${ext} files in place (${mediaFile}); set Target to "Sidecar" or "Auto" to write an XMP sidecar instead.`,
      };
    }
    wanted = 'sidecar';
  }
  if (wanted === 'sidecar') {
    const file = existingSidecar ?? sidecarCandidates(mediaFile)[0];
    return { ok: true, targets: [{ kind: 'sidecar', file, exists: existingSidecar !== null }] };
  }
  // Immich reads an existing sidecar before the file: left stale, it would mask what we write.
  const targets: FileTarget[] = [{ kind: 'embedded', file: mediaFile, exists: true }];
  if (existingSidecar) targets.push({ kind: 'sidecar', file: existingSidecar, exists: true });
  return { ok: true, targets };
}

async function isRegularFile(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isFile();
  } catch {
    return false;
  }
}
