/**
 * The two reads the writer does. The compared tags are read with `readRaw` and exactly the names
 * the diff asks for: `ExifTool.read()` always appends `-all` (a full read of every tag), which on
 * the no-change path of a large library would be most of the run's cost.
 */
import type { ExifTool } from 'exiftool-vendored';

import { readRequest } from '../metadata/readOptions';

export type RawTags = Record<string, unknown> & { errors?: string[]; warnings?: string[] };

export async function readSelectedTags(exiftool: ExifTool, file: string, tagNames: readonly string[]): Promise<RawTags> {
  return (await exiftool.readRaw(file, readRequest(tagNames))) as RawTags;
}

/** Tags minus the bookkeeping fields exiftool-vendored adds to every read. */
export function tagValuesOnly(tags: RawTags): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (key !== 'SourceFile' && key !== 'errors' && key !== 'warnings') values[key] = value;
  }
  return values;
}

export interface IntegrityReport {
  /** ExifTool's ImageDataHash (MD5 of the image/video data); undefined for formats without one. */
  imageHash: string | undefined;
  /** Warnings that say the file itself is damaged (e.g. a truncated JPEG). */
  damage: string[];
  errors: string[];
}

/** What ExifTool's validation says when a file is cut short or structurally broken. */
const DAMAGE = /format error|truncat|corrupt|missing .*\b(EOI|end)\b|unexpected end|bad .*(marker|segment|atom|box)/i;

/**
 * One full pass over the file (only before and after an actual write): the image data hash, and
 * ExifTool's validation warnings, each as its own key (`-G4` numbers duplicates as Copy1, Copy2...).
 */
export async function readIntegrity(exiftool: ExifTool, file: string): Promise<IntegrityReport> {
  const raw = (await exiftool.readRaw(file, {
    useMWG: false,
    ignoreMinorErrors: false,
    readArgs: ['-G4', '-a', '-validate', '-Warning', '-Error', '-api', 'requesttags=imagedatahash', '-api', 'imagehashtype=MD5', '-ImageDataHash'],
  })) as RawTags;
  let imageHash: string | undefined;
  const warnings: string[] = [];
  const errors: string[] = [...(raw.errors ?? [])];
  for (const [key, value] of Object.entries(raw)) {
    const name = key.slice(key.lastIndexOf(':') + 1);
    if (name === 'ImageDataHash' && typeof value === 'string' && value.length > 0) imageHash = value;
    if (name === 'Warning' && typeof value === 'string') warnings.push(value);
    if (name === 'Error' && typeof value === 'string') errors.push(value);
  }
  const damage = warnings.filter((w) => !w.startsWith('[minor]') && DAMAGE.test(w));
  return { imageHash, damage, errors: [...new Set(errors)] };
}
