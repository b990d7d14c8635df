/**
 * Writes one file (an original or an XMP sidecar) so that it ends either fully written and verified,
 * or byte-identical to what it was. The original is never modified in place: ExifTool writes a
 * temporary copy beside it (`-o`), the copy is read back and checked, and only then renamed over
 * the original in one atomic step.
 */
import type { ExifTool, WriteTags } from 'exiftool-vendored';
import { promises as fs, constants as fsConstants } from 'fs';
import * as path from 'path';

import type { TargetKind } from '../metadata/capabilities';
import { diffAgainstFile, tagsToRead } from '../metadata/diff';
import type { MetadataPlan } from '../metadata/types';
import { readIntegrity, readIntegrityOf, readTagsAndIntegrity, type IntegrityReport } from './integrity';
import { readSelectedTags, tagValuesOnly, type RawTags } from './readTags';
import { assertAllowed, PathRefusedError, type PathGuard } from './pathGuard';
import { removeQuietly, removeStaleTempFilesInFolder, tempPathFor } from './tempFiles';
import type { AssetWriteResult, FieldChange } from './types';
import { FileTooLargeError, fileSizeLimitOf } from './wasmExifTool';

export interface WriteFileOptions {
  assetId: string;
  target: TargetKind;
  dryRun: boolean;
  /** Keep the file's modification time (ExifTool `-P`). */
  keepModifyTime: boolean;
  /** Keep the untouched original as `<file>_original` (only the first one: it is the true original). */
  backup: boolean;
  /**
   * For a sidecar: the photo or video it belongs to. Immich reads each tag from the sidecar when
   * present there and from the media file otherwise, so that merged view is what we compare with.
   */
  mediaFile?: string;
  /** Asked before each path is touched: the file, the media file, the temporary copy, the backup. */
  pathGuard?: PathGuard;
}

/**
 * Warnings ExifTool prints while repairing harmless header mistakes (a wrong namespace URI, a
 * UTF-16 XMP packet marker it rewrites as UTF-8); the read-back check still applies to them.
 */
const EXPECTED_WRITE_WARNINGS: RegExp[] = [/Fixed incorrect URI for xmlns/i, /Invalid XMP encoding marker/i];

class ItemFailure extends Error {}

export async function writeAssetFile(
  exiftool: ExifTool,
  file: string,
  plan: MetadataPlan,
  options: WriteFileOptions,
): Promise<AssetWriteResult> {
  const result = (status: AssetWriteResult['status'], extra: Partial<AssetWriteResult> = {}): AssetWriteResult => ({
    assetId: options.assetId,
    file,
    status,
    changes: [],
    dryRun: options.dryRun,
    ...extra,
  });
  try {
    await assertAllowed(options.pathGuard, file, ...(options.mediaFile ? [options.mediaFile] : []));
    // Two assets can map to one file (duplicates): their inspect-read-diff-write cycles must not interleave.
    const lockKey = await fs.realpath(file).catch(() => path.resolve(file));
    return await withFileLock(lockKey, async () => {
      const existing = await inspectFile(exiftool, file, options);
      if (existing.kind === 'skip') return result('skipped', { reason: existing.reason });
      const target = existing.realFile;
      if (target !== file) await assertAllowed(options.pathGuard, target);
      if (!options.dryRun) await cleanFolderOnce(exiftool, path.dirname(target));
      const tagNames = tagsToRead(plan, options.target);
      const checksImage = existing.exists && options.target === 'embedded';
      const forecast = writeForecastFor(exiftool);
      // When the last files needed writing, this one probably does too: its integrity check then rides
      // along with the tag read (one ExifTool pass instead of two); an unchanged file never pays for it.
      const speculative = checksImage && forecast.expectsWrite() ? await readTagsAndIntegrity(exiftool, target, tagNames) : null;
      const current = speculative ? speculative.tags : await readCurrent(exiftool, target, existing.exists, tagNames, options);
      const { changes, writeTags, notes } = diffAgainstFile(plan, current, options.target);
      forecast.record(changes.length > 0);
      const withNotes = notes.length > 0 ? { notes } : {};
      if (changes.length === 0) return result('unchanged', withNotes);
      const before = speculative?.integrity;
      if (before) assertUndamaged(before);
      if (options.dryRun) {
        // Checked in a dry run too, so that it predicts what the real run will do with a damaged file.
        if (checksImage && !before) assertUndamaged(await readIntegrity(exiftool, target));
        return result('written', {
          ...withNotes,
          changes,
          verified: false,
          reason: `Dry run: ${changes.length} field(s) would change in ${file}; nothing was written.`,
        });
      }
      const check = await writeVerifiedReplacement(exiftool, target, existing, plan, writeTags as WriteTags, tagNames, options, before);
      if (check === 'tags-only') {
        // Written and read back, but "verified" promises unchanged image data too, which we could not check.
        const note = 'ExifTool has no image data hash for this format: the tags were read back, the image data was not compared.';
        return result('written', { notes: [...notes, note], changes, verified: false });
      }
      return result('written', { ...withNotes, changes, verified: true });
    });
  } catch (error) {
    if (error instanceof PathRefusedError) return result('failed', { reason: `Asset ${options.assetId}: ${error.message}` });
    // A file (or the written copy) beyond the built-in ExifTool's memory: nothing was replaced, and Perl would take it.
    if (error instanceof FileTooLargeError) return result('skipped', { reason: tooLargeReason(options.assetId, error) });
    return result('failed', { reason: failureReason(options.assetId, file, error) });
  }
}

function tooLargeReason(assetId: string, error: FileTooLargeError): string {
  return `Asset ${assetId}: ${error.message}. Nothing was written.`;
}

type FileIdentity = { ino: number; size: number; mtimeMs: number };
type Inspection =
  | { kind: 'ok'; exists: boolean; realFile: string; identity: FileIdentity | null }
  | { kind: 'skip'; reason: string };

/** Problems we can name before ExifTool sees the file. */
async function inspectFile(exiftool: ExifTool, file: string, options: WriteFileOptions): Promise<Inspection> {
  const who = `Asset ${options.assetId}`;
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.target === 'sidecar' && options.mediaFile) {
      await assertWritableFolder(file, who);
      return { kind: 'ok', exists: false, realFile: file, identity: null }; // a new sidecar
    }
    if (code === 'ENOENT') {
      return {
        kind: 'skip',
        reason: `${who}: file not found: ${file}. Check Library Path and Path Mapping (is the library mounted there?).`,
      };
    }
    throw new ItemFailure(`${who}: cannot access ${file} (${code ?? String(error)}); check the mount and permissions.`);
  }
  if (!stat.isFile()) throw new ItemFailure(`${who}: ${file} is not a regular file; check Path Mapping.`);
  if (stat.size === 0) {
    throw new ItemFailure(`${who}: ${file} is empty (0 bytes), probably an interrupted copy; restore it from Immich or a backup. Nothing was written.`);
  }
  // The read-only bit is the owner's "do not modify", and root would otherwise ignore it.
  if ((stat.mode & 0o222) === 0) {
    throw new ItemFailure(
      `${who}: ${file} is read-only; make it writable (chmod u+w) or use Target "Sidecar" to leave it alone. Nothing was written.`,
    );
  }
  const tooLarge = await sizeLimitRefusal(exiftool, [file, ...(options.target === 'sidecar' && options.mediaFile ? [options.mediaFile] : [])]);
  if (tooLarge) return { kind: 'skip', reason: tooLargeReason(options.assetId, tooLarge) };
  // A symlink (inside the library; escapes were refused earlier) is followed: the file it points
  // at is rewritten, the link itself stays a link.
  const realFile = await fs.realpath(file);
  await assertWritableFolder(realFile, who);
  return { kind: 'ok', exists: true, realFile, identity: identityOf(stat) };
}

/** The built-in ExifTool holds every file in memory: one above its limit is skipped before anything is read. */
async function sizeLimitRefusal(exiftool: ExifTool, files: string[]): Promise<FileTooLargeError | null> {
  const limit = fileSizeLimitOf(exiftool);
  if (limit === null) return null;
  for (const file of files) {
    const size = await fs.stat(file).then((s) => s.size, () => 0);
    if (size > limit) return new FileTooLargeError(file, size, limit);
  }
  return null;
}

function identityOf(stat: { ino: number; size: number; mtimeMs: number }): FileIdentity {
  return { ino: stat.ino, size: stat.size, mtimeMs: stat.mtimeMs };
}

/** Folders already cleaned of killed runs' temp files, per ExifTool pool (i.e. per run). */
const cleanedFolders = new WeakMap<ExifTool, Set<string>>();

async function cleanFolderOnce(exiftool: ExifTool, dir: string): Promise<void> {
  let done = cleanedFolders.get(exiftool);
  if (!done) cleanedFolders.set(exiftool, (done = new Set()));
  if (done.has(dir)) return;
  done.add(dir);
  await removeStaleTempFilesInFolder(dir);
}

const fileLocks = new Map<string, Promise<unknown>>();

async function withFileLock<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = fileLocks.get(key) ?? Promise.resolve();
  const run = previous.then(work, work);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  fileLocks.set(key, settled);
  try {
    return await run;
  } finally {
    if (fileLocks.get(key) === settled) fileLocks.delete(key);
  }
}

async function assertWritableFolder(file: string, who: string): Promise<void> {
  const dir = path.dirname(file);
  try {
    await fs.access(dir, fsConstants.W_OK | fsConstants.X_OK);
  } catch {
    throw new ItemFailure(`${who}: the folder ${dir} is not writable (or missing); the temporary copy for a safe write cannot be created there. Fix the permissions or the volume mount.`);
  }
}

async function readCurrent(
  exiftool: ExifTool,
  file: string,
  exists: boolean,
  tagNames: string[],
  options: WriteFileOptions,
): Promise<Record<string, unknown>> {
  const fromFile = exists ? tagValuesOnly(await readOrFail(exiftool, file, tagNames)) : {};
  if (options.target !== 'sidecar' || !options.mediaFile) return fromFile;
  const fromMedia = tagValuesOnly(await readOrFail(exiftool, options.mediaFile, tagNames));
  return { ...fromMedia, ...fromFile };
}

async function readOrFail(exiftool: ExifTool, file: string, tagNames: string[]): Promise<RawTags> {
  const tags = await readSelectedTags(exiftool, file, tagNames);
  if (tags.errors && tags.errors.length > 0) throw new ItemFailure(`ExifTool cannot read ${file}: ${tags.errors.join('; ')}`);
  return tags;
}

async function writeVerifiedReplacement(
  exiftool: ExifTool,
  file: string,
  inspected: { exists: boolean; identity: FileIdentity | null },
  plan: MetadataPlan,
  writeTags: WriteTags,
  tagNames: string[],
  options: WriteFileOptions,
  /** The original's integrity, when it was read together with its tags. */
  checkedBefore?: IntegrityReport,
): Promise<'complete' | 'tags-only'> {
  const exists = inspected.exists;
  // A sidecar holds no image: reading its tags back is the whole check.
  let check: 'complete' | 'tags-only' = 'complete';
  const temp = tempPathFor(file);
  try {
    await assertAllowed(options.pathGuard, temp, ...(exists && options.backup ? [`${file}_original`] : []));
    const writeArgs = exists ? ['-o', temp] : [];
    if (options.keepModifyTime) writeArgs.push('-P');
    const checksImage = exists && options.target === 'embedded';
    try {
      // A new sidecar is created by writing to a path that does not exist yet.
      const outcome = await exiftool.write(exists ? file : temp, writeTags, { writeArgs });
      const unexpected = (outcome.warnings ?? []).filter((w) => !EXPECTED_WRITE_WARNINGS.some((re) => re.test(w)));
      if (unexpected.length > 0) throw new ItemFailure(`ExifTool reported a problem while writing: ${unexpected.join('; ')}`);
    } catch (error) {
      // A damaged original is the real reason more often than not, and the one the user can act on.
      if (checksImage) assertUndamaged(checkedBefore ?? (await readIntegrity(exiftool, file)));
      throw error;
    }

    let reread: Record<string, unknown> | undefined;
    if (checksImage) {
      let before = checkedBefore;
      let after: IntegrityReport;
      if (before) {
        const copy = await readTagsAndIntegrity(exiftool, temp, tagNames);
        reread = copy?.tags;
        after = copy ? copy.integrity : await readIntegrity(exiftool, temp);
      } else {
        // The original's state and the copy's, compared in one ExifTool pass over both files.
        [before, after] = await readIntegrityOf(exiftool, [file, temp]);
        assertUndamaged(before);
      }
      if (after.damage.length > 0 || after.errors.length > 0) {
        throw new ItemFailure(`verification failed: the written copy does not validate (${[...after.errors, ...after.damage].join('; ')})`);
      }
      if (after.imageHash !== before.imageHash) {
        throw new ItemFailure(`verification failed: the image data changed while writing (hash ${before.imageHash} → ${after.imageHash})`);
      }
      if (before.imageHash === undefined) check = 'tags-only';
    }
    reread ??= tagValuesOnly(await readOrFail(exiftool, temp, tagNames));
    const baseline = options.target === 'sidecar' && options.mediaFile
      ? { ...tagValuesOnly(await readOrFail(exiftool, options.mediaFile, tagNames)), ...reread }
      : reread;
    const left = diffAgainstFile(plan, baseline, options.target).changes;
    if (left.length > 0) {
      throw new ItemFailure(`verification failed: after writing, ExifTool reads back ${describe(left)}`);
    }
    await matchOriginalAttributes(file, temp, exists, options.keepModifyTime);
    await syncToDisk(temp);
    await assertUntouchedSince(file, inspected.identity);
    if (exists && options.backup) await keepFirstBackup(file);
    await fs.rename(temp, file);
    return check;
  } finally {
    await removeQuietly(temp);
  }
}

/** Whether the next file of a run (one ExifTool pool) probably needs writing: most of the last few did. */
class WriteForecast {
  private recent: boolean[] = [];

  expectsWrite(): boolean {
    return this.recent.filter(Boolean).length * 2 > this.recent.length;
  }

  record(neededWrite: boolean): void {
    this.recent.push(neededWrite);
    if (this.recent.length > 8) this.recent.shift();
  }
}

const forecasts = new WeakMap<ExifTool, WriteForecast>();

function writeForecastFor(exiftool: ExifTool): WriteForecast {
  let forecast = forecasts.get(exiftool);
  if (!forecast) forecasts.set(exiftool, (forecast = new WriteForecast()));
  return forecast;
}

/** A damaged file is refused: rewriting it would bless the damage and hide it from the user. */
function assertUndamaged(report: IntegrityReport): void {
  if (report.errors.length > 0) throw new ItemFailure(`ExifTool cannot read it: ${report.errors.join('; ')}`);
  if (report.damage.length > 0) throw new ItemFailure(`ExifTool reports the file is damaged: ${report.damage.join('; ')}`);
}

/** Someone else (Immich, a sync client, the user) changed the file meanwhile: their change wins. */
async function assertUntouchedSince(file: string, identity: FileIdentity | null): Promise<void> {
  let now: FileIdentity | null = null;
  try {
    now = identityOf(await fs.stat(file));
  } catch {
    now = null;
  }
  const same = identity === null ? now === null : now !== null && now.ino === identity.ino && now.size === identity.size && now.mtimeMs === identity.mtimeMs;
  if (!same) throw new ItemFailure('the file was changed by something else while it was being written; nothing was replaced, run again');
}

/** The replacement must look like the original to everyone else: same mode, owner, and (if asked) times. */
async function matchOriginalAttributes(file: string, temp: string, exists: boolean, keepModifyTime: boolean): Promise<void> {
  if (!exists) return;
  const st = await fs.stat(file);
  await fs.chmod(temp, st.mode & 0o7777);
  try {
    await fs.chown(temp, st.uid, st.gid);
  } catch {
    // Only root may give a file away; otherwise the file is ours already.
  }
  if (keepModifyTime) await fs.utimes(temp, st.atime, st.mtime);
}

async function keepFirstBackup(file: string): Promise<void> {
  try {
    await fs.copyFile(file, `${file}_original`, fsConstants.COPYFILE_EXCL);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

async function syncToDisk(file: string): Promise<void> {
  const handle = await fs.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function describe(changes: FieldChange[]): string {
  return changes.map((c) => `${c.field}: ${JSON.stringify(c.before)} instead of ${JSON.stringify(c.after)}`).join('; ');
}

function failureReason(assetId: string, file: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith(`Asset ${assetId}:`)) return message;
  let advice = 'The file was left unchanged.';
  if (/\[minor\]/i.test(message)) {
    advice =
      'ExifTool could write this file only by dropping or "repairing" part of its existing metadata, so it was left unchanged. Use Target "XMP Sidecar" for it.';
  } else if (/looks more like|not a valid/i.test(message)) {
    advice = 'The file extension does not match its content (or the file is damaged); rename or repair it. The file was left unchanged.';
  } else if (/truncated|corrupt|format error|Terminator found|missing .* (marker|segment)|unexpected end/i.test(message)) {
    advice = 'The file looks damaged or truncated; repair it (or restore it from Immich) and run again. The file was left unchanged.';
  }
  return `Asset ${assetId}: ${file}: ${message}. ${advice}`;
}
