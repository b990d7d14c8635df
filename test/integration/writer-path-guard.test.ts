/**
 * The host's file access rule (a PathGuard) is asked for every path syncAsset touches, before it is
 * touched: a refusal of the original, the sidecar, the temporary copy or the backup fails the asset
 * with the guard's reason and leaves every byte in the library as it was. Real ExifTool, real samples.
 */
import type { ExifTool } from 'exiftool-vendored';
import { promises as fs } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import type { PathGuard } from '../../lib/files/pathGuard';
import { syncAsset, type SyncContext } from '../../lib/sync/syncAsset';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { assetFor, copySample, makeTempDir, snapshot } from './writer-fixtures';

jest.setTimeout(240_000);

let exiftool: ExifTool;
let tmp: string;
let library: string;
let month: string;

beforeAll(() => {
  exiftool = createExifTool({ maxProcs: 1 });
});
afterAll(async () => {
  await exiftool.end();
});
beforeEach(async () => {
  tmp = await makeTempDir('guard');
  library = path.join(tmp, 'library');
  month = path.join(library, '2024', '05');
  await fs.mkdir(month, { recursive: true });
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

/** Refuses the paths `refuse` matches and records every path it was asked about. */
function recordingGuard(refuse: (file: string) => boolean): { guard: PathGuard; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    guard: async (file) => {
      asked.push(file);
      return refuse(file) ? `refused by the test guard: ${file}` : null;
    },
  };
}

const context = (overrides: Partial<SyncContext>): SyncContext => ({
  exiftool,
  libraryPath: library,
  mapping: { mode: 'lastSegments', segments: 3 },
  target: 'original',
  dryRun: false,
  ...overrides,
});

const sync = (fileName: string, ctx: SyncContext) => {
  const asset = assetFor(fileName);
  return syncAsset({ ...asset, metadataPlan: buildMetadataPlan(asset) }, ctx);
};

describe('path guard wiring (syncAsset → writer)', () => {
  it('asks about the original, the temporary copy and the backup before writing; allowed, it writes', async () => {
    const file = await copySample('metadata/rating/mongolels.jpg', month);
    const { guard, asked } = recordingGuard(() => false);
    const result = await sync('mongolels.jpg', context({ pathGuard: guard, backup: true }));
    expect(result.status).toBe('written');
    expect(asked).toContain(file);
    expect(asked.some((p) => path.basename(p).startsWith('.mongolels.jpg.immich-sync-tmp-'))).toBe(true);
    expect(asked).toContain(`${file}_original`);
  });

  it.each([
    ['the original', (f: string) => f.endsWith('/mongolels.jpg')],
    ['the temporary copy', (f: string) => f.includes('.immich-sync-tmp-')],
    ['the backup', (f: string) => f.endsWith('_original')],
  ])('refusing %s fails the asset with the guard reason; no byte is written', async (_label, refuse) => {
    await copySample('metadata/rating/mongolels.jpg', month);
    const before = await snapshot(tmp);
    const { guard } = recordingGuard(refuse);
    const result = await sync('mongolels.jpg', context({ pathGuard: guard, backup: true }));
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^Asset asset-mongolels-jpg: refused by the test guard: /);
    expect(await snapshot(tmp)).toEqual(before);
  });

  it('a sidecar target: refusing the sidecar path creates no sidecar', async () => {
    await copySample('metadata/tags/picasa.jpg', month);
    const before = await snapshot(tmp);
    const { guard, asked } = recordingGuard((f) => f.endsWith('.xmp'));
    const result = await sync('picasa.jpg', context({ pathGuard: guard, target: 'sidecar' }));
    expect(result.status).toBe('failed');
    expect(result.reason).toContain('picasa.jpg.xmp');
    expect(asked).toContain(path.join(month, 'picasa.jpg.xmp'));
    expect(await snapshot(tmp)).toEqual(before);
  });

  it('without a guard (the command line) only the library containment applies', async () => {
    await copySample('metadata/rating/mongolels.jpg', month);
    expect((await sync('mongolels.jpg', context({}))).status).toBe('written');
  });
});
