/**
 * ExifTool's verdict on a file's image data: its hash (to prove a write left the pixels alone) and
 * the validation warnings that say the file is damaged. It needs a pass over the whole file, so the
 * writer asks for it only around an actual write, and for the original and its rewritten copy in a
 * single ExifTool call.
 */
import { ExifToolTask, type ExifTool } from 'exiftool-vendored';
import * as path from 'path';

import { ASCII_OUTPUT, decodeValues } from './readTags';

export interface IntegrityReport {
  /** ExifTool's ImageDataHash (MD5 of the image/video data); undefined for formats without one. */
  imageHash: string | undefined;
  /** Warnings that say the file itself is damaged (e.g. a truncated JPEG). */
  damage: string[];
  errors: string[];
}

/** What ExifTool's validation says when a file is cut short or structurally broken. */
const DAMAGE = /format error|truncat|corrupt|missing .*\b(EOI|end)\b|unexpected end|bad .*(marker|segment|atom|box)/i;

const INTEGRITY_ARGS: readonly string[] = Object.freeze([
  '-charset', 'filename=utf8',
  // a long hash of a large video reports progress, which keeps the task's timeout from firing
  '-api', 'imagehashprogress=1',
  ASCII_OUTPUT,
  // -G4 numbers repeated tags (Copy1, Copy2...), so that every validation warning keeps its own key
  '-G4', '-a', '-validate', '-Warning', '-Error',
  '-api', 'requesttags=imagedatahash', '-api', 'imagehashtype=MD5', '-ImageDataHash',
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
