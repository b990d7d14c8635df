/** Where the read-only shared data lives: `<repo>/../shared`, or $IMMICH_SHARED_DIR. */
import * as fs from 'node:fs';
import * as path from 'node:path';

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
