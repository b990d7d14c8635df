/**
 * The writer reads the compared tags with -n (values as stored), which is about a third cheaper than
 * ExifTool's printed values. This holds only while both forms agree for every tag the diff compares:
 * checked here on every sample and on a file this package wrote, with the real ExifTool. So is the
 * writer's one-pass read of a file about to be written or just written (compared tags + integrity).
 */
import type { ExifTool } from 'exiftool-vendored';
import { promises as fs } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { readIntegrity, readTagsAndIntegrity } from '../../lib/files/integrity';
import { decodeValues, readSelectedTags, selectEachTagOnce, tagValuesOnly } from '../../lib/files/readTags';
import { writeAssetFile } from '../../lib/files/writer';
import { tagsToRead, type TargetKind } from '../../lib/metadata/diff';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { READ_ARGS, READ_OPTIONS } from '../../lib/metadata/readOptions';
import { ALL_MODULES } from '../../lib/metadata/types';
import { benchAsset } from '../../bench/benchAsset';
import { allSamples, copySample, makeTempDir, SAMPLES_DIR } from './writer-fixtures';

let exiftool: ExifTool;
let dir: string;
let files: string[];

beforeAll(async () => {
  exiftool = createExifTool({ maxProcs: 2 });
  dir = await makeTempDir('read-options');
  const written = await copySample('metadata/faces/portrait.jpg', dir);
  const plan = buildMetadataPlan(benchAsset(0, written), { modules: [...ALL_MODULES] });
  const result = await writeAssetFile(exiftool, written, plan, { assetId: 'a', target: 'embedded', dryRun: false, keepModifyTime: false, backup: false });
  expect(result.status).toBe('written');
  files = [...(await allSamples()).map((relative) => path.join(SAMPLES_DIR, relative)), written];
});

afterAll(async () => {
  await exiftool.end();
  await fs.rm(dir, { recursive: true, force: true });
});

/** What the diff would see if the tags were read with ExifTool's printed values (no -n). */
async function readPrinted(file: string, tagNames: string[]): Promise<Record<string, unknown>> {
  const printedArgs = READ_ARGS.filter((arg) => arg !== '-n');
  const raw = await exiftool.readRaw(file, { ...READ_OPTIONS, readArgs: ['-E', ...printedArgs, ...selectEachTagOnce(tagNames).map((t) => `-${t}`)] });
  return tagValuesOnly(decodeValues(raw) as Record<string, unknown>);
}

describe.each<TargetKind>(['embedded', 'sidecar'])('compared tags for target %s', (target) => {
  it('read as stored (-n) equal the printed values on every sample and on a written file, but for the IPTC character set', async () => {
    expect(READ_ARGS).toContain('-n');
    const tagNames = tagsToRead(buildMetadataPlan(benchAsset(0, '/library/x.jpg'), { modules: [...ALL_MODULES] }), target);
    const mismatches: string[] = [];
    let compared = 0;
    for (const file of files) {
      const stored = tagValuesOnly(await readSelectedTags(exiftool, file, tagNames));
      const printed = await readPrinted(file, tagNames);
      for (const key of new Set([...Object.keys(stored), ...Object.keys(printed)])) {
        compared++;
        if (key === 'IPTC:CodedCharacterSet') {
          if (printed[key] === 'UTF8') expect([file, stored[key]]).toEqual([file, '\u001b%G']);
          continue;
        }
        if (JSON.stringify(stored[key]) !== JSON.stringify(printed[key])) {
          mismatches.push(`${path.basename(file)} ${key}: ${JSON.stringify(stored[key])} vs ${JSON.stringify(printed[key])}`);
        }
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBeGreaterThan(files.length * 2); // every file has its type, and most have several compared tags
  });
});

describe.each<TargetKind>(['embedded', 'sidecar'])('one-pass read of tags and integrity, target %s', (target) => {
  it('gives the same compared tags as the plain read and the same integrity report as the separate check, on every sample', async () => {
    const tagNames = tagsToRead(buildMetadataPlan(benchAsset(0, '/library/x.jpg'), { modules: [...ALL_MODULES] }), target);
    let combined = 0;
    for (const file of files) {
      const both = await readTagsAndIntegrity(exiftool, file, tagNames);
      const separate = await readIntegrity(exiftool, file);
      if (both === null) {
        // only a file ExifTool reports an error for takes the separate reads
        expect([file, separate.errors.length]).toEqual([file, expect.any(Number)]);
        expect(separate.errors.length).toBeGreaterThan(0);
        continue;
      }
      combined++;
      expect([file, both.tags]).toEqual([file, tagValuesOnly(await readSelectedTags(exiftool, file, tagNames))]);
      expect([file, both.integrity]).toEqual([file, separate]);
    }
    expect(combined).toBeGreaterThan(files.length / 2);
  });
});
