/**
 * The built-in WebAssembly ExifTool with Perl really hidden (mount namespace, see withoutPerl): every
 * sample written by the writer is byte-identical to what the Perl engine writes, reads back the same,
 * is unchanged on a second run; `auto` picks the built-in engine and says so once; a file above the
 * size limit is refused before anything is written. Needs `npm run build` (it runs dist/).
 */
import { promises as fs } from 'fs';
import * as path from 'path';

import { run, runWithoutPerl } from '../helpers/withoutPerl';
import { allSamples, makeTempDir, REPO_ROOT, SAMPLES_DIR, sha256 } from '../integration/writer-fixtures';

// Both engines over all samples in one Perl call each pass: about a minute on a busy 2-core machine.
jest.setTimeout(300_000);

const WORKER = path.join(REPO_ROOT, 'dist', 'test', 'noperl', 'roundtripWorker.js');

interface Report {
  engine: string;
  stats: { instancesStarted: number; peakMemoryBytes: number } | null;
  results: Array<{ name: string; status: string; verified?: boolean; reason?: string; changes: string[]; readBack: Record<string, unknown>; second: string }>;
  sizeLimit: { status: string; reason?: string } | null;
  recycling: { name: string; rating: unknown[]; instancesStarted: number } | null;
}

let perlDir: string;
let wasmDir: string;
let perlRun: Report;
let wasmRun: Report;
let wasmStderr: string;
let largeFile: string;
let largeBytes: string;

async function copyAll(dir: string): Promise<void> {
  for (const relative of await allSamples()) {
    const dest = path.join(dir, relative.replace(/^\.\//, '').split('/').join('__'));
    await fs.copyFile(path.join(SAMPLES_DIR, relative), dest);
    await fs.chmod(dest, 0o644);
  }
}

/** Source paths differ between the two folders; everything else must not. */
function withoutFolder(report: Report, dir: string): unknown {
  return JSON.parse(JSON.stringify(report.results).split(dir).join('<dir>'));
}

beforeAll(async () => {
  await fs.access(WORKER).catch(() => {
    throw new Error(`${WORKER} is missing: run npm run build first`);
  });
  [perlDir, wasmDir] = [await makeTempDir('perl-engine'), await makeTempDir('wasm-engine')];
  await copyAll(perlDir);
  await copyAll(wasmDir);
  const largeDir = await makeTempDir('wasm-large');
  largeFile = path.join(largeDir, 'large.jpg');
  await fs.copyFile(path.join(SAMPLES_DIR, 'metadata', 'faces', 'portrait.jpg'), largeFile);
  await fs.chmod(largeFile, 0o644);
  largeBytes = await sha256(largeFile);

  const [withPerl, withoutPerl] = await Promise.all([run('node', [WORKER, perlDir]), runWithoutPerl('node', [WORKER, wasmDir, largeFile])]);
  if (withPerl.code !== 0) throw new Error(`Perl run failed: ${withPerl.stderr}`);
  if (withoutPerl.code !== 0) throw new Error(`no-Perl run failed: ${withoutPerl.stderr}`);
  perlRun = JSON.parse(withPerl.stdout) as Report;
  wasmRun = JSON.parse(withoutPerl.stdout) as Report;
  wasmStderr = withoutPerl.stderr;
});

afterAll(async () => {
  for (const dir of [perlDir, wasmDir, largeFile && path.dirname(largeFile)]) if (dir) await fs.rm(dir, { recursive: true, force: true });
});

it('picks the built-in engine without Perl and says so once, the Perl engine with it', () => {
  expect(perlRun.engine).toBe('perl');
  expect(wasmRun.engine).toBe('wasm');
  const notices = wasmStderr.split('\n').filter((line) => line.startsWith('no Perl found: using the built-in WebAssembly ExifTool, about '));
  expect(notices).toHaveLength(1);
  expect(notices[0]).toMatch(/about \d+× slower; install Perl for speed$/);
});

it('writes every sample on both engines (same outcome per file) and leaves no temporary file', async () => {
  expect(wasmRun.results.map((r) => r.name)).toEqual(perlRun.results.map((r) => r.name));
  expect(perlRun.results.length).toBeGreaterThanOrEqual(20);
  expect(perlRun.results.filter((r) => r.status === 'written').length).toBeGreaterThanOrEqual(15);
  expect((await fs.readdir(wasmDir)).sort()).toEqual((await fs.readdir(perlDir)).sort());
});

it('gives identical results, read-backs and second runs to the Perl engine', () => {
  expect(withoutFolder(wasmRun, wasmDir)).toEqual(withoutFolder(perlRun, perlDir));
});

it('writes byte-identical files to the Perl engine', async () => {
  const differing: string[] = [];
  for (const name of (await fs.readdir(perlDir)).sort()) {
    if ((await sha256(path.join(perlDir, name))) !== (await sha256(path.join(wasmDir, name)))) differing.push(name);
  }
  expect(differing).toEqual([]);
});

it('skips a file above the size limit with the reason, leaving it untouched and no temporary copy', async () => {
  expect(wasmRun.sizeLimit).toEqual(expect.objectContaining({ status: 'skipped', changes: [] }));
  expect(wasmRun.sizeLimit?.reason).toMatch(/^Asset large\.jpg: .*large\.jpg is too large for the built-in ExifTool \(\d+\.\d MB, limit 0\.1 MB\); install Perl to handle it\. Nothing was written\.$/);
  expect(await sha256(largeFile)).toBe(largeBytes);
  expect(await fs.readdir(path.dirname(largeFile))).toEqual(['large.jpg']);
});

it('kept each Perl instance within the memory bound, and answers the same on a fresh instance', () => {
  expect(wasmRun.stats?.instancesStarted).toBeGreaterThanOrEqual(1);
  expect(wasmRun.stats?.peakMemoryBytes).toBeGreaterThan(0);
  // the bound is checked after a call, so an instance ends at most one call (about 9 MB) above it
  expect(wasmRun.stats?.peakMemoryBytes).toBeLessThan(256 * 1024 * 1024 + 64 * 1024 * 1024);
  const recycling = wasmRun.recycling!;
  expect(recycling.instancesStarted).toBe(3);
  const perlReadBack = perlRun.results.find((r) => r.name === recycling.name)!.readBack['XMP-xmp:Rating'];
  expect(perlReadBack).toEqual(expect.any(Number));
  expect(recycling.rating).toEqual([perlReadBack, perlReadBack, perlReadBack]);
});
