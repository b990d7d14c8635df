/** Immich Write Metadata through real n8n execution code, on a temp library with real ExifTool. */
import { promises as fs } from 'fs';
import type { IDataObject, INodeExecutionData } from 'n8n-workflow';
import * as path from 'path';

import { assertExifToolRuns, createExifTool, ExifToolUnavailableError, findPerl, withExifTool } from '../../lib/files/exiftoolPool';
import type { AssetWriteResult } from '../../lib/files/types';
import type { ImmichAssetDetails } from '../../lib/immich/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { ImmichWriteMetadata } from '../../nodes/ImmichWriteMetadata/ImmichWriteMetadata.node';
import { runNode } from '../helpers/n8nRunner';
import { assetFor, copySample, listFiles, makeTempDir, sha256, snapshot, tempLeftovers } from './writer-fixtures';

// Real ExifTool on a shared, noisy 2-core machine: generous limits (not timing assertions).
jest.setTimeout(240_000);

let tmp: string;
let library: string;
let month: string;

beforeEach(async () => {
  tmp = await makeTempDir('node-write');
  library = path.join(tmp, 'library');
  month = path.join(library, '2024', '05');
  await fs.mkdir(month, { recursive: true });
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const planned = (asset: ImmichAssetDetails, i: number): INodeExecutionData => ({
  json: { ...asset, metadataPlan: buildMetadataPlan(asset) } as unknown as IDataObject,
  pairedItem: { item: i },
});

const resultOf = (item: INodeExecutionData) => item.json as unknown as AssetWriteResult & { error?: string };

describe('Immich Write Metadata node', () => {
  it('writes each item, one result per input item with pairedItem; a second run writes nothing', async () => {
    const a = await copySample('metadata/faces/portrait.jpg', month);
    const b = await copySample('formats/heic/IMG_2682.heic', month);
    const inputs = [planned(assetFor('portrait.jpg'), 0), planned(assetFor('IMG_2682.heic'), 1)];
    const params = { libraryPath: library, exiftoolProcesses: 1, concurrency: 2 };

    const first = await runNode(ImmichWriteMetadata, params, inputs);
    expect(first.error).toBeNull();
    expect(first.items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }]);
    expect(first.items.map((i) => [resultOf(i).file, resultOf(i).status, resultOf(i).verified])).toEqual([
      [a, 'written', true],
      [b, 'written', true],
    ]);

    const second = await runNode(ImmichWriteMetadata, params, inputs);
    expect(second.items.map((i) => resultOf(i).status)).toEqual(['unchanged', 'unchanged']);
  });

  it('a failing asset fails the node (On Error "Stop Workflow") only after the others were written', async () => {
    const good = await copySample('metadata/rating/mongolels.jpg', month);
    const goodBytes = await sha256(good);
    const bad = await copySample('unmerged-branches/future42603.mp4', month);
    const badBytes = await sha256(bad);
    const inputs = [planned(assetFor('future42603.mp4'), 0), planned(assetFor('missing.jpg'), 1), planned(assetFor('mongolels.jpg'), 2)];

    const { items, error } = await runNode(ImmichWriteMetadata, { libraryPath: library }, inputs);
    expect(items).toEqual([]);
    expect(error?.message).toContain(bad);
    expect((error as { context?: { itemIndex?: number } }).context?.itemIndex).toBe(0);
    expect(error?.description).toMatch(/Continue \(using error output\)/);
    expect(await sha256(good)).not.toBe(goodBytes);
    expect(await sha256(bad)).toBe(badBytes);
    expect(tempLeftovers(await listFiles(tmp))).toEqual([]);
  });

  it('On Error "Continue (using error output)": failed assets arrive on the error output, the others on the main one', async () => {
    const good = await copySample('metadata/rating/mongolels.jpg', month);
    const bad = await copySample('unmerged-branches/future42603.mp4', month);
    const badBytes = await sha256(bad);
    const inputs = [planned(assetFor('future42603.mp4'), 0), planned(assetFor('missing.jpg'), 1), planned(assetFor('mongolels.jpg'), 2)];

    const { outputs, error } = await runNode(ImmichWriteMetadata, { libraryPath: library }, inputs, { onError: 'continueErrorOutput' });
    expect(error).toBeNull();
    expect(outputs).toHaveLength(2);
    expect(outputs[0].map((i) => [resultOf(i).status, i.pairedItem])).toEqual([
      ['skipped', { item: 1 }],
      ['written', { item: 2 }],
    ]);
    expect(resultOf(outputs[0][1]).file).toBe(good);
    expect(outputs[1]).toHaveLength(1);
    const failed = outputs[1][0].json as { error: string; details: AssetWriteResult };
    expect(failed.details).toEqual(expect.objectContaining({ assetId: 'asset-future42603-mp4', status: 'failed', file: bad }));
    expect(failed.error).toBe(failed.details.reason);
    expect(failed.error).toContain(bad);
    expect(outputs[1][0].pairedItem).toEqual({ item: 0 });
    expect(await sha256(bad)).toBe(badBytes);
  });

  it('Continue On Fail: failed assets become error items (with the result), pairedItem kept', async () => {
    await copySample('unmerged-branches/future42603.mp4', month);
    await copySample('metadata/tags/picasa.jpg', month);
    const inputs = [planned(assetFor('picasa.jpg'), 0), { json: { hello: 'not an asset' }, pairedItem: { item: 1 } }, planned(assetFor('future42603.mp4'), 2)];

    const { items, error } = await runNode(ImmichWriteMetadata, { libraryPath: library }, inputs, { continueOnFail: true });
    expect(error).toBeNull();
    expect(items).toHaveLength(3);
    expect(items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
    expect(resultOf(items[0]).status).toBe('written');
    expect(resultOf(items[0]).error).toBeUndefined();
    expect(resultOf(items[1])).toEqual(expect.objectContaining({ status: 'failed', error: expect.stringMatching(/not an Immich asset/) }));
    expect(resultOf(items[2])).toEqual(expect.objectContaining({ status: 'failed', error: expect.stringMatching(/future42603\.mp4/) }));
  });

  it('Dry Run touches nothing and reports the changes field by field', async () => {
    await copySample('metadata/gps-position/thompson-springs.jpg', month);
    const before = await snapshot(tmp);
    const { items } = await runNode(ImmichWriteMetadata, { libraryPath: library, dryRun: true, target: 'auto' }, [
      planned(assetFor('thompson-springs.jpg', { libraryId: null }), 0),
    ]);
    expect(await snapshot(tmp)).toEqual(before);
    const result = resultOf(items[0]);
    expect(result).toEqual(expect.objectContaining({ status: 'written', dryRun: true, verified: false }));
    expect(result.file).toBe(path.join(month, 'thompson-springs.jpg.xmp'));
    expect(result.changes.find((c) => c.field.includes('Description'))).toEqual(
      expect.objectContaining({ after: 'Written by the writer test – äöü ✓' }),
    );
  });

  it('prefix mapping with a relative local prefix', async () => {
    const file = await copySample('metadata/dates/time-created.jpg', path.join(library, 'admin'));
    const asset = assetFor('time-created.jpg', { originalPath: '/usr/src/app/upload/admin/time-created.jpg' });
    const { items } = await runNode(
      ImmichWriteMetadata,
      { libraryPath: library, pathMappingMode: 'prefix', immichPrefix: '/usr/src/app/upload', localPrefix: '' },
      [planned(asset, 0)],
    );
    expect(resultOf(items[0])).toEqual(expect.objectContaining({ status: 'written', file }));
  });

  it('an item without a plan fails with the fix (Build Metadata Tags first)', async () => {
    const { items } = await runNode(ImmichWriteMetadata, { libraryPath: library }, [{ json: assetFor('a.jpg') as unknown as IDataObject }], { continueOnFail: true });
    expect(resultOf(items[0])).toEqual(expect.objectContaining({ status: 'failed', assetId: 'asset-a-jpg' }));
    expect(resultOf(items[0]).reason).toMatch(/Build Metadata Tags/);
  });

  it.each([
    [{ libraryPath: '/definitely/not/here' }, /not an existing folder/],
    [{ libraryPath: 'relative/path' }, /absolute/],
    [{ pathMappingMode: 'prefix', immichPrefix: '/usr/src/app/upload', localPrefix: '/etc' }, /outside Library Path/],
  ])('configuration errors stop the node even with Continue On Fail: %j', async (params, message) => {
    const { error, items } = await runNode(ImmichWriteMetadata, { libraryPath: library, ...params }, [planned(assetFor('a.jpg'), 0)], {
      continueOnFail: false,
    });
    expect(items).toEqual([]);
    expect(error?.message).toMatch(message);
  });
});

describe('ExifTool pool', () => {
  it('a missing ExifTool/Perl is a clear setup error (install Perl, the Dockerfile), and no process is spawned', () => {
    expect(() => createExifTool({ exiftoolPath: path.join(tmp, 'no-exiftool') })).toThrow(ExifToolUnavailableError);
    try {
      createExifTool({ exiftoolPath: path.join(tmp, 'no-exiftool') });
    } catch (error) {
      expect((error as Error).message).toMatch(/install perl/i);
      expect((error as Error).message).toMatch(/no Perl.*no apk.*Dockerfile in this package's README/s);
    }
  });

  it('findPerl looks in the fixed location and on PATH', async () => {
    expect(findPerl('', [])).toBeNull();
    expect(findPerl(path.join(tmp, 'nothing'), [])).toBeNull();
    const fakeBin = path.join(tmp, 'bin');
    await fs.mkdir(fakeBin);
    await fs.writeFile(path.join(fakeBin, 'perl'), '#!/bin/sh\n', { mode: 0o755 });
    expect(findPerl(fakeBin, [])).toBe(path.join(fakeBin, 'perl'));
  });

  it('runs with the safe options and is ended after the work, also when the work throws', async () => {
    let seen: ReturnType<typeof createExifTool> | undefined;
    await expect(
      withExifTool({ maxProcs: 1 }, async (exiftool) => {
        seen = exiftool;
        expect(exiftool.options.ignoreMinorErrors).toBe(false);
        expect(exiftool.options.writeArgs).toEqual(['-overwrite_original']);
        expect(exiftool.options.maxProcs).toBe(1);
        expect(await assertExifToolRuns(exiftool)).toMatch(/^\d+\.\d+/);
        throw new Error('work failed');
      }),
    ).rejects.toThrow('work failed');
    expect(seen?.ended).toBe(true);
    expect(seen?.pids).toEqual([]);
  });

  it('refuses an unreasonable process count', () => {
    expect(() => createExifTool({ maxProcs: 0 })).toThrow(/1 to 16/);
  });
});
