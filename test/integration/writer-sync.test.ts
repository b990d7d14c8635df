/**
 * syncAsset end to end on a temp library: sidecar targets, existing sidecars, dry run over every
 * sample, bad files, path refusals, and that the no-change path reads only the compared tags.
 */
import type { ExifTool } from 'exiftool-vendored';
import { promises as fs } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { readIntegrity } from '../../lib/files/integrity';
import { readSelectedTags } from '../../lib/files/readTags';
import type { AssetWriteResult } from '../../lib/files/types';
import type { ImmichAssetDetails } from '../../lib/immich/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { syncAsset, type SyncContext } from '../../lib/sync/syncAsset';
import { allSamples, assetFor, copySample, listFiles, makeTempDir, sha256, snapshot, tempLeftovers } from './writer-fixtures';

// Real ExifTool on a shared, noisy 2-core machine: generous limits (not timing assertions).
jest.setTimeout(240_000);

let exiftool: ExifTool;
let tmp: string;
let library: string;
let month: string;

beforeAll(() => {
  exiftool = createExifTool({ maxProcs: 2 });
});
afterAll(async () => {
  await exiftool.end();
});
beforeEach(async () => {
  tmp = await makeTempDir('sync');
  library = path.join(tmp, 'library');
  month = path.join(library, '2024', '05');
  await fs.mkdir(month, { recursive: true });
});
afterEach(async () => {
  // A read-only file inside must not stop the cleanup.
  for (const f of await listFiles(tmp).catch(() => [])) await fs.chmod(f, 0o644).catch(() => undefined);
  await fs.rm(tmp, { recursive: true, force: true });
});

const context = (over: Partial<SyncContext> = {}): SyncContext => ({
  exiftool,
  libraryPath: library,
  mapping: { mode: 'lastSegments', segments: 3 },
  target: 'original',
  dryRun: false,
  ...over,
});

const sync = (asset: ImmichAssetDetails, over: Partial<SyncContext> = {}): Promise<AssetWriteResult> =>
  syncAsset({ ...asset, metadataPlan: buildMetadataPlan(asset) }, context(over));

describe('sidecar targets', () => {
  it('an uploaded asset under Auto gets a new photo.jpg.xmp; the original stays byte-identical; a rerun writes nothing', async () => {
    const file = await copySample('metadata/gps-position/thompson-springs.jpg', month);
    const bytes = await sha256(file);
    const asset = assetFor('thompson-springs.jpg', { libraryId: null });

    const first = await sync(asset, { target: 'auto' });
    expect(first.status).toBe('written');
    expect(first.verified).toBe(true);
    expect(first.file).toBe(`${file}.xmp`);
    expect(await sha256(file)).toBe(bytes);
    const sidecar = await readSelectedTags(exiftool, `${file}.xmp`, ['XMP-dc:Description', 'XMP-xmp:Rating', 'XMP-dc:Subject']);
    expect(sidecar['XMP-dc:Description']).toBe('Written by the writer test – äöü ✓');
    expect(sidecar['XMP-xmp:Rating']).toBe(4);
    // The photo's own keywords are carried into the sidecar, which Immich reads instead of them.
    const photoKeywords = (await readSelectedTags(exiftool, file, ['IPTC:Keywords']))['IPTC:Keywords'] as string[];
    expect(photoKeywords.length).toBeGreaterThan(0);
    expect(sidecar['XMP-dc:Subject']).toEqual(expect.arrayContaining(['Marie Curie', 'Мария Кюри', ...photoKeywords]));

    const second = await sync(asset, { target: 'auto' });
    expect(second.status).toBe('unchanged');
    expect((await listFiles(library)).sort()).toEqual([file, `${file}.xmp`].sort());
  });

  it('writing the original also updates an existing photo.xmp sidecar (Immich reads it first)', async () => {
    const file = await copySample('metadata/faces/portrait.jpg', month);
    const sidecar = path.join(month, 'portrait.xmp');
    await fs.copyFile(await copySample('metadata/xmp/dates/2000.xmp', tmp), sidecar);
    await fs.chmod(sidecar, 0o644);
    const asset = assetFor('portrait.jpg');

    const result = await sync(asset, { target: 'original' });
    expect(result.status).toBe('written');
    expect(result.files).toEqual([file, sidecar]);
    expect(result.changes.some((c) => c.file === sidecar)).toBe(true);
    expect(result.changes.some((c) => c.file === file)).toBe(true);
    // The sidecar's stale Lightroom date would win in Immich: it now holds the planned time.
    const sidecarTags = await readSelectedTags(exiftool, sidecar, ['XMP-xmp:CreateDate']);
    expect(sidecarTags['XMP-xmp:CreateDate']).toBe('2019:03:21 11:04:22-05:00');
    const photoTags = await readSelectedTags(exiftool, file, ['XMP-dc:Description', 'XMP-xmp:CreateDate']);
    expect(photoTags['XMP-dc:Description']).toBe('Written by the writer test – äöü ✓');
    expect(photoTags['XMP-xmp:CreateDate']).toBe('2019:03:21 11:04:22-05:00');
    expect((await sync(asset, { target: 'original' })).status).toBe('unchanged');
  });
});

describe('dry run', () => {
  it('over ALL samples (original and sidecar targets) changes no byte, creates no file, and shows before → after', async () => {
    const samples = await allSamples();
    expect(samples.length).toBeGreaterThanOrEqual(20);
    for (const sample of samples) await copySample(sample, month);
    const before = await snapshot(library);

    const results: AssetWriteResult[] = [];
    for (const sample of samples) {
      const name = path.basename(sample);
      results.push(await sync(assetFor(name), { dryRun: true, target: 'original' }));
      results.push(await sync(assetFor(name, { libraryId: null }), { dryRun: true, target: 'auto' }));
    }

    expect(await snapshot(library)).toEqual(before);
    expect(tempLeftovers(await listFiles(tmp))).toEqual([]);
    for (const r of results) expect(r.dryRun).toBe(true);
    const wouldWrite = results.filter((r) => r.status === 'written');
    expect(wouldWrite.length).toBeGreaterThan(samples.length);
    for (const r of wouldWrite) {
      expect(r.verified).toBe(false);
      expect(r.reason).toMatch(/Dry run/);
      expect(r.changes.length).toBeGreaterThan(0);
      for (const c of r.changes) expect(Object.keys(c)).toEqual(expect.arrayContaining(['field', 'before', 'after']));
    }
    const caption = wouldWrite.flatMap((r) => r.changes).find((c) => c.field.includes('XMP-dc:Description'));
    expect(caption?.after).toBe('Written by the writer test – äöü ✓');
    // The malformed video is reported as it would end in a real run, without touching it.
    const video = results.find((r) => r.file?.endsWith('future42603.mp4') && r.status !== 'written');
    expect(video?.status).toBe('failed');
  });
});

describe('a real run over every sample', () => {
  it('writes and verifies each one; the two files ExifTool cannot write safely fail untouched; image data unchanged; a rerun writes nothing', async () => {
    const samples = await allSamples();
    const files: string[] = [];
    for (const sample of samples.filter((s) => !s.endsWith('.xmp'))) files.push(await copySample(sample, month));
    // The XMP samples are sidecars, never assets: they sit next to two photos, in both naming styles.
    const sidecars = [path.join(month, 'solvay.xmp'), path.join(month, 'picasa.jpg.xmp')];
    await fs.copyFile(await copySample('metadata/xmp/dates/2000.xmp', tmp), sidecars[0]);
    await fs.copyFile(await copySample('problems/xmp/iso-value-array/iso-value-array.xmp', tmp), sidecars[1]);
    const hashesBefore = new Map<string, string | undefined>();
    for (const f of files) hashesBefore.set(f, (await readIntegrity(exiftool, f)).imageHash);
    // The malformed video, and a Motorola JPEG whose maker IFD ExifTool would drop ("[minor] Bad IFD2").
    const unsafe = files.filter((f) => /future42603\.mp4$|empty_gps\.jpg$/.test(f));
    expect(unsafe).toHaveLength(2);
    const unsafeBytes = await Promise.all(unsafe.map(sha256));

    const first = [];
    for (const f of files) first.push(await sync(assetFor(path.basename(f))));
    for (const r of first) {
      if (unsafe.includes(r.file!)) {
        expect(r.status).toBe('failed');
        expect(r.reason).toMatch(/left unchanged/);
      } else {
        expect([r.file, r.status, r.verified]).toEqual([r.file, 'written', true]);
      }
    }
    expect(await Promise.all(unsafe.map(sha256))).toEqual(unsafeBytes);
    expect(first.find((r) => r.file!.endsWith('empty_gps.jpg'))?.reason).toMatch(/Bad IFD2.*Sidecar/);
    for (const f of files) expect([f, (await readIntegrity(exiftool, f)).imageHash]).toEqual([f, hashesBefore.get(f)]);

    const second = [];
    for (const f of files) second.push(await sync(assetFor(path.basename(f))));
    expect(second.filter((r) => r.status === 'unchanged')).toHaveLength(files.length - unsafe.length);
    expect(second.filter((r) => r.status === 'failed').map((r) => r.file)).toEqual(unsafe);
    expect(tempLeftovers(await listFiles(tmp))).toEqual([]);
    expect((await listFiles(library)).sort()).toEqual([...files, ...sidecars].sort());
    for (const sidecar of sidecars) {
      const withSidecar = first.find((r) => r.files?.includes(sidecar));
      expect(withSidecar?.changes.some((c) => c.file === sidecar)).toBe(true);
    }
  });
});

describe('bad files never throw and never leave partial files', () => {
  const run = async (name: string, prepare: (file: string) => Promise<void>) => {
    const file = path.join(month, name);
    await prepare(file);
    const bytes = await sha256(file).catch(() => null);
    const result = await sync(assetFor(name));
    expect(await sha256(file).catch(() => null)).toBe(bytes);
    expect(tempLeftovers(await listFiles(tmp))).toEqual([]);
    expect(result.file).toBe(file);
    expect(result.reason).toContain(file);
    return result;
  };

  it('missing file → skipped, naming the file and what to check', async () => {
    const result = await run('gone.jpg', async () => undefined);
    expect(result.status).toBe('skipped');
    expect(result.reason).toMatch(/not found.*Library Path/);
  });

  it('missing file under the sidecar target → skipped, and no orphan sidecar is created', async () => {
    const asset = assetFor('gone.heic', { libraryId: null });
    const result = await sync(asset, { target: 'sidecar' });
    expect(result).toEqual(expect.objectContaining({ status: 'skipped', file: path.join(month, 'gone.heic') }));
    expect(result.reason).toMatch(/not found/);
    expect(await listFiles(tmp)).toEqual([]);
  });

  it('zero-byte file → failed', async () => {
    const result = await run('empty.jpg', (f) => fs.writeFile(f, ''));
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/empty \(0 bytes\)/);
  });

  it('truncated JPEG → failed as damaged', async () => {
    const result = await run('cut.jpg', async (f) => {
      const whole = await fs.readFile(path.join(await copySample('metadata/faces/portrait.jpg', tmp)));
      await fs.writeFile(f, whole.subarray(0, 20000));
    });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/damaged/);
  });

  it('read-only file → failed, with what to do', async () => {
    const result = await run('ro.jpg', async (f) => {
      await fs.copyFile(await copySample('metadata/tags/picasa.jpg', tmp), f);
      await fs.chmod(f, 0o444);
    });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/read-only.*chmod u\+w/);
  });

  it('wrong extension (a PNG named .jpg) → failed, pointing at the extension', async () => {
    const result = await run('really-a-png.jpg', async (f) => {
      await fs.copyFile(await copySample('formats/png/density_plot.png', tmp), f);
    });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/extension does not match/);
  });
});

describe('paths', () => {
  it('a symlinked folder pointing out of the library is refused before any read', async () => {
    const outside = path.join(tmp, 'outside');
    await fs.mkdir(outside);
    const file = await copySample('metadata/tags/picasa.jpg', outside);
    const bytes = await sha256(file);
    await fs.symlink(outside, path.join(library, '2023'));
    const asset = assetFor('picasa.jpg', { originalPath: '/usr/src/app/upload/library/admin/2023/picasa.jpg' });
    const result = await sync(asset, { mapping: { mode: 'lastSegments', segments: 2 } });
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/symlink/);
    expect(await sha256(file)).toBe(bytes);
  });

  it('a path with .. is refused, naming the asset', async () => {
    const asset = assetFor('x.jpg', { originalPath: '/usr/src/app/upload/../../etc/x.jpg' });
    const result = await sync(asset);
    expect(result.status).toBe('failed');
    expect(result.reason).toContain(asset.id);
  });

  it('prefix mapping finds the file', async () => {
    const file = await copySample('metadata/dates/time-created.jpg', path.join(library, 'upload', 'admin'));
    const asset = assetFor('time-created.jpg', { originalPath: '/usr/src/app/upload/upload/admin/time-created.jpg' });
    const result = await sync(asset, { mapping: { mode: 'prefix', immichPrefix: '/usr/src/app/upload', localPrefix: library } });
    expect(result.status).toBe('written');
    expect(result.file).toBe(file);
  });
});

describe('the no-change path reads only the compared tags', () => {
  it('uses readRaw with the tag list (no -all, no hashing, no validation) and never read()', async () => {
    const file = await copySample('metadata/faces/portrait-orientation-6.jpg', month);
    const asset = assetFor('portrait-orientation-6.jpg');
    expect((await sync(asset)).status).toBe('written');
    // Right after writes the writer expects another write and reads the integrity along with the tags
    // (writer-passes.test.ts); a pass over an unchanged library soon reads the tags alone, as checked here.
    for (let i = 0; i < 8; i++) expect((await sync(asset)).status).toBe('unchanged');

    const readRaw = jest.spyOn(exiftool, 'readRaw');
    const read = jest.spyOn(exiftool, 'read');
    try {
      const again = await sync(asset);
      expect(again.status).toBe('unchanged');
      expect(read).not.toHaveBeenCalled();
      expect(readRaw).toHaveBeenCalledTimes(1);
      const [calledFile, options] = readRaw.mock.calls[0] as unknown as [string, { readArgs: string[] }];
      expect(calledFile).toBe(file);
      expect(options.readArgs).not.toContain('-all');
      expect(options.readArgs.join(' ')).not.toMatch(/ImageDataHash|validate/);
      const tags = await readRaw.mock.results[0].value;
      // Only what was asked for: the tag names requested plus bookkeeping, far below a full read.
      const requested = options.readArgs.filter((a) => /^-[A-Z]/.test(a)).length;
      expect(Object.keys(tags).length).toBeLessThanOrEqual(requested + 3);
    } finally {
      readRaw.mockRestore();
      read.mockRestore();
    }
  });
});
