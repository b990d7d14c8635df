/** Engine choice and the built-in ExifTool's size limit: plain logic, no ExifTool started. */
import { parseCli, UsageError } from '../../cli/args';
import { chooseEngine } from '../../lib/files/exiftoolPool';
import { defaultSizeLimitBytes, FileTooLargeError } from '../../lib/files/wasmExifTool';

const MiB = 1024 * 1024;
const ENV = { IMMICH_INSTANCE_URL: 'http://immich:2283', IMMICH_API_KEY: 'k', PHOTO_DIR: '/library' };

describe('ExifTool engine', () => {
  it('a forced engine is used as given, without a notice', () => {
    const log = jest.fn();
    expect(chooseEngine('wasm', log)).toBe('wasm');
    expect(chooseEngine('perl', log)).toBe('perl');
    expect(log).not.toHaveBeenCalled();
  });

  it('auto picks system Perl on a machine that has it (the no-Perl side is test/noperl)', () => {
    const log = jest.fn();
    expect(chooseEngine('auto', log)).toBe('perl');
    expect(log).not.toHaveBeenCalled();
  });

  it('an unknown engine is refused', () => {
    expect(() => chooseEngine('python' as never)).toThrow(/auto, perl, wasm/);
  });

  it('--exiftool-engine takes auto, perl or wasm (default auto)', () => {
    expect(parseCli(['--all'], ENV).exiftoolEngine).toBe('auto');
    expect(parseCli(['--all', '--exiftool-engine', 'wasm'], ENV).exiftoolEngine).toBe('wasm');
    expect(() => parseCli(['--all', '--exiftool-engine', 'fast'], ENV)).toThrow(UsageError);
  });
});

describe('built-in ExifTool size limit', () => {
  it('is a quarter of the free memory, between 64 MiB and 1 GiB', () => {
    expect(defaultSizeLimitBytes(2048 * MiB)).toBe(512 * MiB);
    expect(defaultSizeLimitBytes(100 * MiB)).toBe(64 * MiB);
    expect(defaultSizeLimitBytes(64 * 1024 * MiB)).toBe(1024 * MiB);
  });

  it('names the file, its size and the limit, and says to install Perl', () => {
    const message = new FileTooLargeError('/library/clip.mp4', 3000 * MiB, 1024 * MiB).message;
    expect(message).toBe('/library/clip.mp4 is too large for the built-in ExifTool (3000 MB, limit 1024 MB); install Perl to handle it');
  });
});

describe('built-in ExifTool from the TypeScript sources', () => {
  it('runs the vendored ExifTool on its Perl thread (the build\'s thread script) and ends it', async () => {
    const { WasmExifTool } = await import('../../lib/files/wasmExifTool');
    const exiftool = new WasmExifTool();
    try {
      expect(await exiftool.version()).toBe(require('exiftool-vendored.pl/package.json').version.split('.').slice(0, 2).join('.'));
      expect(exiftool.stats.instancesStarted).toBe(1);
    } finally {
      await exiftool.end();
    }
    await expect(exiftool.version()).rejects.toThrow(/ended/);
  }, 60_000);
});

describe('a file above the built-in ExifTool\'s size limit', () => {
  it('is skipped with the reason before ExifTool reads it, and nothing is written (original and a sidecar\'s media file)', async () => {
    const { promises: fs } = await import('fs');
    const path = await import('path');
    const { createExifTool } = await import('../../lib/files/exiftoolPool');
    const { WasmExifTool } = await import('../../lib/files/wasmExifTool');
    const { writeAssetFile } = await import('../../lib/files/writer');
    const { buildMetadataPlan } = await import('../../lib/metadata/plan');
    const { assetFor, copySample, makeTempDir, sha256 } = await import('../integration/writer-fixtures');
    const dir = await makeTempDir('size-limit');
    const exiftool = createExifTool({ engine: 'wasm', wasmSizeLimitBytes: 64 * 1024 });
    try {
      const photo = await copySample('metadata/faces/portrait.jpg', dir);
      expect((await fs.stat(photo)).size).toBeGreaterThan(64 * 1024);
      const before = await sha256(photo);
      const plan = buildMetadataPlan(assetFor('portrait.jpg'));
      const base = { assetId: 'a1', dryRun: false, keepModifyTime: false, backup: false } as const;
      const embedded = await writeAssetFile(exiftool, photo, plan, { ...base, target: 'embedded' });
      const sidecar = await writeAssetFile(exiftool, `${photo}.xmp`, plan, { ...base, target: 'sidecar', mediaFile: photo });
      for (const result of [embedded, sidecar]) {
        expect({ status: result.status, changes: result.changes }).toEqual({ status: 'skipped', changes: [] });
        expect(result.reason).toBe(`Asset a1: ${photo} is too large for the built-in ExifTool (0.1 MB, limit 0.1 MB); install Perl to handle it. Nothing was written.`);
      }
      expect(await sha256(photo)).toBe(before);
      expect((await fs.readdir(path.dirname(photo))).sort()).toEqual(['portrait.jpg']);
      expect(exiftool).toBeInstanceOf(WasmExifTool);
      expect((exiftool as InstanceType<typeof WasmExifTool>).stats.instancesStarted).toBe(0);
    } finally {
      await exiftool.end();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
