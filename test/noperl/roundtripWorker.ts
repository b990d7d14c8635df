/**
 * Writes every file of a folder with the writer, on whichever ExifTool engine `auto` picks here, then
 * reads each back and writes it again (must be unchanged); prints one JSON report. The no-Perl test
 * runs it once with Perl and once with Perl hidden and compares the two.
 * Usage: node roundtripWorker.js <folder> [<large file for the size limit>]
 */
import { promises as fs } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { readSelectedTags } from '../../lib/files/readTags';
import { WasmExifTool } from '../../lib/files/wasmExifTool';
import { writeAssetFile, type WriteFileOptions } from '../../lib/files/writer';
import { tagsToRead } from '../../lib/metadata/diff';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { READ_OPTIONS } from '../../lib/metadata/readOptions';
import { assetFor } from '../integration/writer-fixtures';

async function main(): Promise<void> {
  const [dir, largeFile] = process.argv.slice(2);
  const names = (await fs.readdir(dir)).sort();
  const exiftool = createExifTool({ engine: 'auto' });
  const started = Date.now();
  try {
    const options = (name: string): WriteFileOptions => ({
      assetId: name,
      target: name.endsWith('.xmp') ? 'sidecar' : 'embedded',
      dryRun: false,
      keepModifyTime: false,
      backup: false,
    });
    // All at once: on the built-in engine their commands share Perl calls.
    const results = await Promise.all(
      names.map(async (name) => {
        const file = path.join(dir, name);
        const plan = buildMetadataPlan(assetFor(name));
        const first = await writeAssetFile(exiftool, file, plan, options(name));
        const readBack = await readSelectedTags(exiftool, file, tagsToRead(plan, options(name).target));
        const second = await writeAssetFile(exiftool, file, plan, options(name));
        return { name, status: first.status, verified: first.verified, reason: first.reason, changes: first.changes.map((c) => c.field), readBack, second: second.status };
      }),
    );
    let sizeLimit: unknown = null;
    if (largeFile) {
      const small = createExifTool({ engine: 'wasm', wasmSizeLimitBytes: 64 * 1024 });
      try {
        const name = path.basename(largeFile);
        sizeLimit = await writeAssetFile(small, largeFile, buildMetadataPlan(assetFor(name)), options(name));
      } finally {
        await small.end();
      }
    }
    let recycling: unknown = null;
    if (largeFile) {
      // A bound below any instance's size: each call ends with a new instance, and answers stay right.
      const recycled = new WasmExifTool({ ...READ_OPTIONS, memoryBoundBytes: 1 });
      try {
        const name = names.find((n) => n.endsWith('.jpg')) ?? names[0];
        const rating: unknown[] = [];
        for (let i = 0; i < 3; i++) rating.push((await recycled.readRaw(path.join(dir, name), ['-XMP-xmp:Rating', '-G1']))['XMP-xmp:Rating' as never]);
        recycling = { name, rating, instancesStarted: recycled.stats.instancesStarted };
      } finally {
        await recycled.end();
      }
    }
    const engine = exiftool instanceof WasmExifTool ? 'wasm' : 'perl';
    const stats = exiftool instanceof WasmExifTool ? exiftool.stats : null;
    process.stdout.write(JSON.stringify({ engine, stats, millis: Date.now() - started, results, sizeLimit, recycling }));
  } finally {
    await exiftool.end();
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
