/** Shared fixtures for the writer and node tests: sample copies in a temp dir and asset details for them. */
import { createHash } from 'crypto';
import { promises as fs } from 'fs';
import * as os from 'os';
import * as path from 'path';

import type { ImmichAssetDetails, ImmichExif } from '../../lib/immich/types';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const SHARED_DIR = process.env.IMMICH_SHARED_DIR ?? path.resolve(REPO_ROOT, '..', 'shared');
export const SAMPLES_DIR = path.join(SHARED_DIR, 'immich', 'samples');

/** Every sample media/sidecar file (relative paths), read from SHA256SUMS so none is forgotten. */
export async function allSamples(): Promise<string[]> {
  const sums = await fs.readFile(path.join(SAMPLES_DIR, 'SHA256SUMS'), 'utf8');
  return sums
    .split('\n')
    .map((line) => line.trim().split(/\s+\*?/)[1])
    .filter((p): p is string => !!p && !/README|LICENSE|expected-immich|SHA256SUMS/.test(p));
}

export async function makeTempDir(label: string): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), `immich-${label}-`));
}

/** Copies a sample to dir/<sub>/<basename> and makes it writable (the shared copies are read-only). */
export async function copySample(relative: string, dir: string, sub = ''): Promise<string> {
  const dest = path.join(dir, sub, path.basename(relative));
  await fs.mkdir(path.dirname(dest), { recursive: true });
  await fs.copyFile(path.join(SAMPLES_DIR, relative), dest);
  await fs.chmod(dest, 0o644);
  return dest;
}

export async function sha256(file: string): Promise<string> {
  return createHash('sha256').update(await fs.readFile(file)).digest('hex');
}

export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(full)));
    else out.push(full);
  }
  return out.sort();
}

export async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const file of await listFiles(dir)) result[path.relative(dir, file)] = await sha256(file);
  return result;
}

export function tempLeftovers(files: string[]): string[] {
  return files.filter((f) => path.basename(f).includes('.immich-sync-tmp-'));
}

const EMPTY_EXIF: ImmichExif = {
  dateTimeOriginal: null,
  timeZone: null,
  description: null,
  rating: null,
  latitude: null,
  longitude: null,
  orientation: null,
  exifImageWidth: null,
  exifImageHeight: null,
};

/**
 * An asset as Get Asset Details would emit it for a file, carrying values that differ from what the
 * sample holds, so there is something to write.
 */
export function assetFor(fileName: string, overrides: Partial<ImmichAssetDetails> = {}, exif: Partial<ImmichExif> = {}): ImmichAssetDetails {
  const id = `asset-${fileName.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`;
  return {
    id,
    type: /\.(mp4|mov)$/i.test(fileName) ? 'VIDEO' : 'IMAGE',
    originalPath: `/usr/src/app/upload/library/admin/2024/05/${fileName}`,
    originalFileName: fileName,
    libraryId: 'library-external-1',
    updatedAt: '2026-01-02T03:04:05.000Z',
    fileCreatedAt: '2019-03-21T16:04:22.000Z',
    localDateTime: '2019-03-21T11:04:22.000Z',
    isFavorite: false,
    isTrashed: false,
    visibility: 'timeline',
    isEdited: false,
    width: null,
    height: null,
    people: [
      { id: 'person-1', name: 'Marie Curie', isHidden: false, updatedAt: null },
      { id: 'person-2', name: 'Мария Кюри', isHidden: false, updatedAt: null },
    ],
    faces: [],
    tags: [],
    albums: [],
    serverMajor: 3,
    ...overrides,
    exif: {
      ...EMPTY_EXIF,
      dateTimeOriginal: '2019-03-21T16:04:22.000Z',
      timeZone: 'UTC-5',
      description: 'Written by the writer test – äöü ✓',
      rating: 4,
      latitude: -33.856784,
      longitude: -70.648,
      ...exif,
    },
  };
}
