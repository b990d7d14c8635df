/** Shared setup of the round-trip tests: sample copies, a plain writer, an asset builder, plan → write → read. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExifTool } from 'exiftool-vendored';
import type { ImmichAssetDetails, ImmichFace } from '../../lib/immich/types';
import { diffAgainstFile, tagsToRead, type MetadataDiff, type TargetKind } from '../../lib/metadata/diff';
import { READ_OPTIONS, readRequest } from '../../lib/metadata/readOptions';
import type { MetadataPlan } from '../../lib/metadata/types';
import { samplesDir, type ExpectedImmichRead } from '../simulator/paths';

export function makeTempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** Copies a sample into dir (never write into shared/). */
export function copySample(relative: string, dir: string, name = path.basename(relative)): string {
  const source = path.join(samplesDir(), relative);
  if (!fs.existsSync(source)) throw new Error(`sample ${relative} missing at ${source}; set IMMICH_SHARED_DIR`);
  const target = path.join(dir, name);
  fs.copyFileSync(source, target);
  return target;
}

/**
 * A plain exiftool-vendored writer, as strict as the real one (minor errors fail the write) and built from
 * READ_OPTIONS like lib/files' pool, so reads here are the writer's reads.
 */
export function createPlainWriter(): ExifTool {
  return new ExifTool({ ...READ_OPTIONS, maxProcs: 1, ignoreMinorErrors: false, writeArgs: ['-overwrite_original'] });
}

export async function readCurrent(exiftool: ExifTool, file: string, plan: MetadataPlan, target: TargetKind) {
  // A sidecar not written yet holds nothing, as lib/files/writer treats it; ExifTool creates it on write.
  if (target === 'sidecar' && !fs.existsSync(file)) return {};
  return (await exiftool.readRaw(file, readRequest(tagsToRead(plan, target)))) as unknown as Record<string, unknown>;
}

/** Reads, diffs and writes; returns the diff that was applied. */
export async function applyPlan(exiftool: ExifTool, file: string, plan: MetadataPlan, target: TargetKind = 'embedded'): Promise<MetadataDiff> {
  const current = await readCurrent(exiftool, file, plan, target);
  const diff = diffAgainstFile(plan, current, target);
  if (Object.keys(diff.writeTags).length > 0) await exiftool.write(file, diff.writeTags as never);
  return diff;
}

export async function rediff(exiftool: ExifTool, file: string, plan: MetadataPlan, target: TargetKind = 'embedded'): Promise<MetadataDiff> {
  return diffAgainstFile(plan, await readCurrent(exiftool, file, plan, target), target);
}

let faceCounter = 0;
export function face(name: string | null, box: [number, number, number, number], width: number, height: number, sourceType = 'machine-learning'): ImmichFace {
  faceCounter += 1;
  return {
    id: `face-${faceCounter}`,
    personId: name ? `person-${name}` : null,
    personName: name,
    personHidden: false,
    x1: box[0],
    y1: box[1],
    x2: box[2],
    y2: box[3],
    imageWidth: width,
    imageHeight: height,
    sourceType,
  };
}

export type AssetOverrides = Partial<Omit<ImmichAssetDetails, 'exif'>> & { exif?: Partial<ImmichAssetDetails['exif']> };

export function makeAsset(overrides: AssetOverrides = {}): ImmichAssetDetails {
  const { exif, ...rest } = overrides;
  return {
    id: 'asset-1',
    type: 'IMAGE',
    originalPath: '/usr/src/app/upload/library/2024/01/photo.jpg',
    originalFileName: 'photo.jpg',
    libraryId: null,
    updatedAt: '2024-01-01T00:00:00.000Z',
    fileCreatedAt: '2024-01-01T00:00:00.000Z',
    localDateTime: '2024-01-01T00:00:00.000Z',
    isFavorite: false,
    isTrashed: false,
    visibility: 'timeline',
    isEdited: false,
    width: null,
    height: null,
    people: [],
    faces: [],
    tags: [],
    albums: [],
    serverMajor: 3,
    ...rest,
    exif: {
      dateTimeOriginal: null,
      timeZone: null,
      description: null,
      rating: null,
      latitude: null,
      longitude: null,
      orientation: null,
      exifImageWidth: null,
      exifImageHeight: null,
      ...(exif ?? {}),
    },
  };
}

export function person(name: string, isHidden = false) {
  return { id: `person-${name}`, name, isHidden, updatedAt: null };
}

/** Immich's view of a sample (expected-immich-emulated.json) as Get Asset Details would serve it. */
export function assetFromImmich(file: string, want: ExpectedImmichRead): ImmichAssetDetails {
  const hasDate = !want.dateTimeOriginal.startsWith('(');
  const names = want.faces_if_import_enabled.map((f) => f.name);
  return makeAsset({
    id: file,
    originalFileName: path.basename(file),
    localDateTime: hasDate ? want.localDateTime : '2024-01-01T00:00:00.000Z',
    people: names.map((n) => person(n)),
    faces: want.faces_if_import_enabled.map((f) => face(f.name, [f.boundingBoxX1, f.boundingBoxY1, f.boundingBoxX2, f.boundingBoxY2], f.imageWidth, f.imageHeight, 'exif')),
    tags: want.tags,
    exif: {
      dateTimeOriginal: hasDate ? want.dateTimeOriginal : null,
      timeZone: want.timeZone,
      description: want.description,
      rating: want.rating,
      latitude: want.latitude,
      longitude: want.longitude,
      orientation: want.orientation,
      exifImageWidth: want.exifImageWidth,
      exifImageHeight: want.exifImageHeight,
    },
  });
}

/** ExifTool can rewrite this file's EXIF only by "repairing" it (e.g. empty_gps.jpg): a strict write refuses it. */
export async function hasMinorExifDamage(writer: ExifTool, file: string): Promise<boolean> {
  const { Warning } = (await writer.readRaw(file, ['-Warning'])) as { Warning?: string };
  return /^Bad IFD\d directory/.test(Warning ?? '');
}
