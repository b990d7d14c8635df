import { ExifTool, type WriteTags } from 'exiftool-vendored';

/**
 * Baseline (b), the floor: bare exiftool-vendored doing the same ExifTool work per file as our pipeline
 * (read the compared tags, write, read back with the image data hash) with none of our logic around
 * it. The arguments and the values to write are prepared before timing starts.
 */
export interface FloorOperations {
  readArgs: string[]; // what our writer passes to readRaw for the compared tags
  writeTags: WriteTags; // the values our diff decided to write for this asset
}

export function floorPool(processes: number): ExifTool {
  return new ExifTool({ maxProcs: processes, minDelayBetweenSpawnMillis: 0, taskTimeoutMillis: 60000 });
}

export async function allWithConcurrency<T>(items: T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  });
  await Promise.all(lanes);
}

function filesPerSecond(count: number, start: bigint): number {
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

/** Read the compared tags, write, read back with the image hash. */
export async function floorFull(exiftool: ExifTool, files: string[], ops: FloorOperations, lanes: number): Promise<number> {
  const start = process.hrtime.bigint();
  await allWithConcurrency(files, lanes, async (file) => {
    await exiftool.readRaw(file, ops.readArgs);
    await exiftool.write(file, ops.writeTags, { writeArgs: ['-overwrite_original'] });
    const back: Record<string, unknown> = await exiftool.readRaw(file, [...ops.readArgs, '-ImageDataHash', '-api', 'imagehashtype=MD5']);
    if (!back['File:ImageDataHash'] && !back.ImageDataHash) throw new Error(`floor: no ImageDataHash read back from ${file}`);
  });
  return filesPerSecond(files.length, start);
}

export async function floorWriteOnly(exiftool: ExifTool, files: string[], ops: FloorOperations, lanes: number): Promise<number> {
  const start = process.hrtime.bigint();
  await allWithConcurrency(files, lanes, async (file) => {
    await exiftool.write(file, ops.writeTags, { writeArgs: ['-overwrite_original'] });
  });
  return filesPerSecond(files.length, start);
}

/** Only the read of the compared tags: the least any no-change pass has to do. */
export async function floorReadOnly(exiftool: ExifTool, files: string[], ops: FloorOperations, lanes: number): Promise<number> {
  const start = process.hrtime.bigint();
  await allWithConcurrency(files, lanes, async (file) => {
    await exiftool.readRaw(file, ops.readArgs);
  });
  return filesPerSecond(files.length, start);
}
