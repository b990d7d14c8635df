/**
 * How many ExifTool passes the writer spends per file, with the real ExifTool: while most files of a run
 * need writing, the original's integrity check rides along with its tag read (3 passes per written file:
 * read, write, read back); an unchanged file costs one read; the shortcut never weakens a check.
 */
import type { ExifTool } from 'exiftool-vendored';
import { promises as fs } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { writeAssetFile, type WriteFileOptions } from '../../lib/files/writer';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { ALL_MODULES } from '../../lib/metadata/types';
import { benchAsset } from '../../bench/benchAsset';
import { copySample, listFiles, makeTempDir, sha256, tempLeftovers } from './writer-fixtures';

jest.setTimeout(120_000);

let exiftool: ExifTool;
let passes: number;
let dir: string;

beforeEach(async () => {
  // a fresh pool per test: the writer's forecast of "this file needs writing" is per pool (per run)
  exiftool = createExifTool({ maxProcs: 1 });
  const enqueue = exiftool.enqueueTask.bind(exiftool);
  passes = 0;
  exiftool.enqueueTask = ((task, retriable) => {
    passes++;
    return enqueue(task, retriable);
  }) as ExifTool['enqueueTask'];
  dir = await makeTempDir('writer-passes');
});

afterEach(async () => {
  await exiftool.end();
  await fs.rm(dir, { recursive: true, force: true });
});

const options = (assetId: string): WriteFileOptions => ({ assetId, target: 'embedded', dryRun: false, keepModifyTime: false, backup: false });

async function portraitCopies(count: number): Promise<string[]> {
  const files: string[] = [];
  for (let i = 0; i < count; i++) files.push(await copySample('metadata/faces/portrait.jpg', dir, `copy${i}`));
  return files;
}

async function writeCounted(file: string, index: number): Promise<{ status: string; verified?: boolean; reason?: string; passes: number }> {
  const before = passes;
  const plan = buildMetadataPlan(benchAsset(index, file), { modules: [...ALL_MODULES] });
  const result = await writeAssetFile(exiftool, file, plan, options(`asset-${index}`));
  return { status: result.status, verified: result.verified, reason: result.reason, passes: passes - before };
}

describe('ExifTool passes per file', () => {
  it('a run of files that all need writing: 4 passes for the first, then 3 each, every one written and verified', async () => {
    const files = await portraitCopies(5);
    const outcomes = [];
    for (const [i, file] of files.entries()) outcomes.push(await writeCounted(file, i));
    expect(outcomes.map((o) => [o.status, o.verified])).toEqual(files.map(() => ['written', true]));
    expect(outcomes.map((o) => o.passes)).toEqual([4, 3, 3, 3, 3]);
    // and each file now matches: a second look changes nothing
    for (const [i, file] of files.entries()) expect((await writeCounted(file, i)).status).toBe('unchanged');
  });

  it('unchanged files cost one pass each once the run stops writing', async () => {
    const files = await portraitCopies(12);
    for (const [i, file] of files.entries()) await writeCounted(file, i);
    const second = [];
    for (const [i, file] of files.entries()) second.push(await writeCounted(file, i));
    expect(second.every((o) => o.status === 'unchanged')).toBe(true);
    // the first few still read the integrity along (the forecast follows the last 8 files), then one pass each
    expect(second.slice(-6).map((o) => o.passes)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(second.filter((o) => o.passes !== 1).length).toBeLessThanOrEqual(4);
  });

  it('a damaged file met in the middle of a writing streak is refused before anything is written, byte-identical', async () => {
    const files = await portraitCopies(3);
    for (const [i, file] of files.entries()) expect((await writeCounted(file, i)).status).toBe('written');
    const damaged = await copySample('albums/nature/el_torcal_rocks.jpg', dir, 'damaged');
    await fs.truncate(damaged, Math.floor((await fs.stat(damaged)).size / 2));
    const bytes = await sha256(damaged);
    const outcome = await writeCounted(damaged, 9);
    expect(outcome.status).toBe('failed');
    expect(outcome.reason).toMatch(/damaged|truncat|corrupt|format error|cannot read/i);
    expect(outcome.reason).toContain(damaged);
    expect(outcome.passes).toBe(1); // the combined read found it: no write was attempted
    expect(await sha256(damaged)).toBe(bytes);
    expect(tempLeftovers(await listFiles(path.dirname(damaged)))).toEqual([]);
  });
});
