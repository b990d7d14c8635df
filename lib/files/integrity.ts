/**
 * ExifTool's verdict on a file's image data: its hash (to prove a write left the pixels alone) and
 * the validation warnings that say the file is damaged. It needs a pass over the whole file, so the
 * writer asks for it only around an actual write, and for the original and its rewritten copy in a
 * single ExifTool call.
 */
import { ExifToolTask, type ExifTool } from 'exiftool-vendored';
import * as path from 'path';

import { READ_ARGS, READ_OPTIONS } from '../metadata/readOptions';
import { ASCII_OUTPUT, decodeValues, selectEachTagOnce, tagValuesOnly, type RawTags } from './readTags';

export interface IntegrityReport {
  /** ExifTool's ImageDataHash (MD5 of the image/video data); undefined for formats without one. */
  imageHash: string | undefined;
  /** Warnings that say the file itself is damaged (e.g. a truncated JPEG). */
  damage: string[];
  errors: string[];
}

/** What ExifTool's validation says when a file is cut short or structurally broken. */
const DAMAGE = /format error|truncat|corrupt|missing .*\b(EOI|end)\b|unexpected end|bad .*(marker|segment|atom|box)/i;

/** Validation warnings and the image data hash (MD5, as Immich's own tools use). */
const CHECK_ARGS: readonly string[] = Object.freeze(['-validate', '-Warning', '-Error', '-api', 'requesttags=imagedatahash', '-api', 'imagehashtype=MD5', '-ImageDataHash']);

const INTEGRITY_ARGS: readonly string[] = Object.freeze([
  '-charset', 'filename=utf8',
  // a long hash of a large video reports progress, which keeps the task's timeout from firing
  '-api', 'imagehashprogress=1',
  ASCII_OUTPUT,
  // -G4 numbers repeated tags (Copy1, Copy2...), so that every validation warning keeps its own key
  '-G4', '-a',
  ...CHECK_ARGS,
  '-json',
]);

/** One ExifTool command over several files; ExifTool answers with one JSON object per file, in order. */
class IntegrityTask extends ExifToolTask<IntegrityReport[]> {
  constructor(private readonly files: readonly string[]) {
    super([...INTEGRITY_ARGS, ...files], { ignoreMinorErrors: false });
  }

  protected parse(stdout: string, error?: Error): IntegrityReport[] {
    let parsed: unknown;
    try {
      parsed = JSON.parse(stdout);
    } catch (jsonError) {
      throw error ?? jsonError;
    }
    if (!Array.isArray(parsed) || parsed.length !== this.files.length) {
      throw error ?? new Error(`ExifTool answered for ${Array.isArray(parsed) ? parsed.length : 0} of ${this.files.length} files`);
    }
    return this.files.map((file, index) => integrityFrom(decodeValues(parsed[index]) as Record<string, unknown>, this.stderrLinesAbout(file)));
  }

  /** Errors ExifTool printed outside the JSON: those that name a file belong to it, the others to every file. */
  private stderrLinesAbout(file: string): string[] {
    const others = this.files.filter((f) => f !== file);
    return this.errors.filter((line) => line.includes(file) || !others.some((other) => line.includes(other)));
  }
}

function integrityFrom(raw: Record<string, unknown>, stderrErrors: string[]): IntegrityReport {
  let imageHash: string | undefined;
  const warnings: string[] = [];
  const errors: string[] = [...stderrErrors];
  for (const [key, value] of Object.entries(raw)) {
    const name = key.slice(key.lastIndexOf(':') + 1);
    if (name === 'ImageDataHash' && typeof value === 'string' && value.length > 0) imageHash = value;
    if (name === 'Warning' && typeof value === 'string') warnings.push(value);
    if (name === 'Error' && typeof value === 'string') errors.push(value);
  }
  const damage = warnings.filter((w) => !w.startsWith('[minor]') && DAMAGE.test(w));
  return { imageHash, damage, errors: [...new Set(errors)] };
}

/** The integrity report of each file, from one ExifTool call. */
export async function readIntegrityOf(exiftool: ExifTool, files: readonly string[]): Promise<IntegrityReport[]> {
  const absolute = files.map((file) => path.resolve(file));
  return exiftool.enqueueTask(() => new IntegrityTask(absolute));
}

export async function readIntegrity(exiftool: ExifTool, file: string): Promise<IntegrityReport> {
  const [report] = await readIntegrityOf(exiftool, [file]);
  return report;
}

export interface TagsAndIntegrity {
  tags: Record<string, unknown>;
  integrity: IntegrityReport;
}

/**
 * The compared tags and the integrity report in one ExifTool pass, for a file that is about to be
 * written (its original state) or was just written (the copy to verify). `-a` is needed to see every
 * validation warning; it also shows repeated tags, numbered by `-G1:4` ("XMP-exif:Copy1:DateTimeOriginal"),
 * which `tagsWithoutRepeats` folds back to what the plain read of the same tags returns.
 * Null when ExifTool reports an error: the caller then uses the separate reads, whose errors it knows.
 */
export async function readTagsAndIntegrity(exiftool: ExifTool, file: string, tagNames: readonly string[]): Promise<TagsAndIntegrity | null> {
  const selected = selectEachTagOnce(tagNames).map((tag) => `-${tag}`);
  const readArgs = [ASCII_OUTPUT, '-G1:4', '-a', ...READ_ARGS.filter((arg) => arg !== '-G1'), ...CHECK_ARGS, ...selected];
  const raw = decodeValues(await exiftool.readRaw(file, { ...READ_OPTIONS, ignoreMinorErrors: false, readArgs })) as RawTags;
  const integrity = integrityFrom(raw, raw.errors ?? []);
  if (integrity.errors.length > 0) return null;
  return { tags: tagsWithoutRepeats(raw), integrity };
}

const COPY = /^Copy\d+$/;
const CHECK_TAGS = new Set(['ExifTool:Validate', 'ExifTool:Warning', 'ExifTool:Error', 'File:ImageDataHash']);

/**
 * What a read without `-a` shows: with group names in the keys (-G1), ExifTool drops only repeats within
 * one group, so a repeat is kept under its plain key unless that group already has the tag (the first
 * instance, then the lowest copy number, wins). A test compares both reads on every sample.
 */
export function tagsWithoutRepeats(raw: Record<string, unknown>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const copyNumber = new Map<string, number>();
  for (const [key, value] of Object.entries(tagValuesOnly(raw))) {
    const parts = key.split(':');
    const repeat = parts.length === 3 && COPY.test(parts[1]);
    const plainKey = repeat ? `${parts[0]}:${parts[2]}` : key;
    const n = repeat ? Number(parts[1].slice(4)) : 0;
    if (CHECK_TAGS.has(plainKey) || (copyNumber.get(plainKey) ?? Infinity) <= n) continue;
    values[plainKey] = value;
    copyNumber.set(plainKey, n);
  }
  return values;
}
