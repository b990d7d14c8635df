/**
 * The writer checks the original and its rewritten copy in one ExifTool call; each file's verdict must
 * be its own, whatever order the two come in.
 */
import type { ExifTool } from 'exiftool-vendored';
import { promises as fs } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { readIntegrity, readIntegrityOf } from '../../lib/files/integrity';
import { copySample, makeTempDir } from './writer-fixtures';

let exiftool: ExifTool;
let dir: string;
let good: string;
let truncated: string;

beforeAll(async () => {
  exiftool = createExifTool({ maxProcs: 1 });
  dir = await makeTempDir('integrity');
  good = await copySample('albums/nature/cyclamen_persicum.jpg', dir);
  truncated = await copySample('albums/nature/el_torcal_rocks.jpg', dir);
  const size = (await fs.stat(truncated)).size;
  await fs.truncate(truncated, Math.floor(size / 2));
});

afterAll(async () => {
  await exiftool.end();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('readIntegrityOf', () => {
  it('gives the same verdict for each file as a read of that file alone, in either order', async () => {
    const alone = { good: await readIntegrity(exiftool, good), truncated: await readIntegrity(exiftool, truncated) };
    expect(alone.good).toEqual({ imageHash: expect.stringMatching(/^[0-9a-f]{32}$/), damage: [], errors: [] });
    expect(alone.truncated.damage.length + alone.truncated.errors.length).toBeGreaterThan(0);

    expect(await readIntegrityOf(exiftool, [good, truncated])).toEqual([alone.good, alone.truncated]);
    expect(await readIntegrityOf(exiftool, [truncated, good])).toEqual([alone.truncated, alone.good]);
  });

  it('tells two copies with the same image data apart from different images', async () => {
    const copy = path.join(dir, 'copy.jpg');
    await fs.copyFile(good, copy);
    const other = await copySample('metadata/faces/portrait.jpg', dir);
    const [a, b, c] = await readIntegrityOf(exiftool, [good, copy, other]);
    expect(a.imageHash).toBe(b.imageHash);
    expect(c.imageHash).not.toBe(a.imageHash);
  });

  it('fails the whole call, naming the file, when one of the files is missing', async () => {
    // ExifTool then answers for the other file only; the writer must not take that answer for both.
    await expect(readIntegrityOf(exiftool, [good, path.join(dir, 'missing.jpg')])).rejects.toThrow(/missing\.jpg/);
  });
});
