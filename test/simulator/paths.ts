/** Where the read-only shared data lives: `<repo>/../shared`, or $IMMICH_SHARED_DIR. */
import * as fs from 'node:fs';
import * as path from 'node:path';

import type { ImmichRead, ImmichReadFace } from '../helpers/immichRead';

export function repoRoot(): string {
  // works from the sources (test/simulator) and from the compiled copy (dist/test/simulator)
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'lib'))) return dir;
    dir = path.dirname(dir);
  }
  throw new Error(`Could not find the repository root above ${__dirname}`);
}

export function sharedDir(): string {
  return process.env.IMMICH_SHARED_DIR ? path.resolve(process.env.IMMICH_SHARED_DIR) : path.resolve(repoRoot(), '..', 'shared');
}

export function openApiPath(): string {
  return path.join(sharedDir(), 'immich', 'openapi.json');
}

export function samplesDir(): string {
  return path.join(sharedDir(), 'immich', 'samples');
}

/**
 * One entry of the samples' expected-immich-emulated.json: what Immich v3.1 reads from that file, in the
 * shape of our emulated read (every sample has a capture time; faces are listed as Immich would import them).
 */
export type ExpectedImmichRead = Omit<ImmichRead, 'dateTimeOriginal' | 'localDateTime' | 'faces'> & {
  dateTimeOriginal: string;
  localDateTime: string;
  faces_if_import_enabled: Array<Omit<ImmichReadFace, 'sourceType'>>;
};

/** expected-immich-emulated.json, keyed by the sample's path under samplesDir(). */
export function loadExpectedImmichReads(): Record<string, ExpectedImmichRead> {
  return JSON.parse(fs.readFileSync(path.join(samplesDir(), 'expected-immich-emulated.json'), 'utf8')) as Record<string, ExpectedImmichRead>;
}
