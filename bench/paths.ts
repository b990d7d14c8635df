import * as fs from 'fs';
import * as path from 'path';

/** The repository root, found from this file whether it runs from bench/ (ts-jest) or dist/bench/ (node). */
export function repoRoot(): string {
  return findRootAbove(__dirname) ?? findRootAbove(process.cwd()) ?? fail();
}

function fail(): never {
  throw new Error(`bench: cannot find the repository root above ${__dirname} or ${process.cwd()}`);
}

function findRootAbove(start: string): string | null {
  let dir = start;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf8')).name === 'n8n-nodes-immich-metadata-sync') {
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/** Shared read-only data beside the repository (CI clones the repo elsewhere), overridable by IMMICH_SHARED_DIR. */
export function sharedDir(): string {
  return process.env.IMMICH_SHARED_DIR ?? path.resolve(repoRoot(), '..', 'shared');
}

export function sampleFile(relative: string): string {
  const file = path.join(sharedDir(), 'immich', 'samples', relative);
  if (!fs.existsSync(file)) {
    throw new Error(`bench: sample ${relative} not found at ${file}; set IMMICH_SHARED_DIR to the shared/ folder`);
  }
  return file;
}

/** The ExifTool Perl script that exiftool-vendored ships: the seed ran `exiftool` exactly like this. */
export function exiftoolScript(): string {
  const script = path.join(repoRoot(), 'node_modules', 'exiftool-vendored.pl', 'bin', 'exiftool');
  if (!fs.existsSync(script)) throw new Error(`bench: ExifTool script missing at ${script}; dependencies are not installed`);
  return script;
}

/** A fresh temp directory holding `count` copies of `source` (never write into shared/). */
export function copiesOf(source: string, count: number, label: string): { dir: string; files: string[] } {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), `immich-bench-${label}-`));
  const ext = path.extname(source);
  const files: string[] = [];
  for (let i = 0; i < count; i++) {
    const file = path.join(dir, `copy-${String(i).padStart(5, '0')}${ext}`);
    fs.copyFileSync(source, file);
    fs.chmodSync(file, 0o644); // shared/ is read-only and copyFile keeps the mode; our copies must be writable
    files.push(file);
  }
  return { dir, files };
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
