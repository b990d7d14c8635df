/**
 * The writer on files that are broken, protected or moving: every item ends with a clear result and
 * the file is either untouched (byte-identical) or a verified new version. Real ExifTool through the
 * product's pool (createExifTool), on copies of the shared samples. RELIABILITY_EXIFTOOL_ENGINE=wasm runs
 * the writer on the built-in ExifTool (test/noperl/writer-safety-wasm.test.ts does); the
 * independent checks stay on Perl ExifTool.
 */
import { ExifTool, type WriteTags } from 'exiftool-vendored';
import { execFileSync } from 'child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'fs';
import * as path from 'path';

import { createExifTool, type ExifToolEngine } from '../../lib/files/exiftoolPool';
import type { AssetWriteResult } from '../../lib/files/types';
import { writeAssetFile, type WriteFileOptions } from '../../lib/files/writer';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import type { ModuleName } from '../../lib/metadata/types';
import { syncAsset } from '../../lib/sync/syncAsset';
import {
  clearImmutable,
  detailsFor,
  immutableSupported,
  isRoot,
  listFiles,
  makeImmutable,
  removeTempDirs,
  sample,
  sha256,
  tempDir,
  tempLeftovers,
} from './support';
import { hashingExifTool, imageHash, remainingChanges } from './verify';

jest.setTimeout(120_000);

let exiftool: ExifTool;
let checker: ExifTool;
const ENGINE = (process.env.RELIABILITY_EXIFTOOL_ENGINE ?? 'perl') as ExifToolEngine;

beforeAll(() => {
  exiftool = createExifTool({ maxProcs: 2, engine: ENGINE });
  checker = hashingExifTool();
});
afterAll(async () => {
  await exiftool.end();
  await checker.end();
  removeTempDirs();
});

const MODULES: ModuleName[] = ['people', 'gps', 'caption', 'time', 'rating'];

/** Copies a sample into a fresh library folder (writable, like a user's library). */
function copyInto(relativeSample: string, name = path.basename(relativeSample)): { root: string; file: string } {
  const root = tempDir('writer');
  const file = path.join(root, '2024', '05', name);
  mkdirSync(path.dirname(file), { recursive: true });
  copyFileSync(sample(relativeSample), file);
  chmodSync(file, 0o644);
  return { root, file };
}

function planFor(file: string, over: Parameters<typeof detailsFor>[1] = {}) {
  const details = detailsFor(`/usr/src/app/upload/library/2024/05/${path.basename(file)}`, over);
  return { details, plan: buildMetadataPlan(details, { modules: MODULES }) };
}

function options(assetId: string, extra: Partial<WriteFileOptions> = {}): WriteFileOptions {
  return { assetId, target: 'embedded', dryRun: false, keepModifyTime: false, backup: false, ...extra };
}

/** The common promise for every refused file: a failed item naming the asset and the file, nothing changed, nothing left. */
function expectRefusedUntouched(result: AssetWriteResult, file: string, before: string, reason: RegExp): void {
  expect({ status: result.status, reason: result.reason }).toEqual({ status: 'failed', reason: expect.stringMatching(reason) });
  expect(result.reason).toContain(result.assetId);
  // The file, or for a folder problem the folder, is named.
  expect(result.reason!.includes(path.basename(file)) || result.reason!.includes(path.dirname(file))).toBe(true);
  expect(sha256(file)).toBe(before);
  expect(tempLeftovers(path.dirname(file))).toEqual([]);
}

describe('ExifTool minor errors are errors', () => {
  const MP4 = 'unmerged-branches/future42603.mp4';

  test('control: exiftool-vendored with its default ignoreMinorErrors "succeeds" on the malformed MP4 and rewrites it', async () => {
    // Proves the hazard is real, so the next test means something.
    const { file } = copyInto(MP4);
    const before = sha256(file);
    const lax = new ExifTool({ maxProcs: 1 });
    try {
      await lax.write(file, { 'XMP-dc:Description': 'lax write' } as WriteTags, { writeArgs: ['-overwrite_original'] });
    } finally {
      await lax.end();
    }
    expect(sha256(file)).not.toBe(before);
  });

  test('through our writer the malformed MP4 ends as a failed item with the reason, byte-identical', async () => {
    const { file } = copyInto(MP4);
    const before = sha256(file);
    const { details, plan } = planFor(file, { type: 'VIDEO' });
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    expectRefusedUntouched(result, file, before, /Terminator|minor|damaged|malformed|cannot/i);
    expect(listFiles(path.dirname(file))).toEqual([file]);
  });
});

describe('every write is verified', () => {
  test('a written JPEG says verified, and independently its tags read back and its image data hash is unchanged', async () => {
    const { file } = copyInto('metadata/faces/portrait.jpg');
    const hashBefore = await imageHash(checker, file);
    const { details, plan } = planFor(file);
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    expect({ status: result.status, verified: result.verified, reason: result.reason }).toEqual({ status: 'written', verified: true, reason: undefined });
    expect(await imageHash(checker, file)).toBe(hashBefore);
    expect(await remainingChanges(checker, file, plan)).toEqual([]);
  });

  test('a format without an image data hash (GIF) is not reported as verified', async () => {
    // ExifTool computes ImageDataHash for JPEG, TIFF, PNG, WebP, HEIC/AVIF, MP4/MOV… but not GIF.
    const root = tempDir('writer-gif');
    const file = path.join(root, '2024', '05', 'pixel.gif');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, Buffer.from('47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b', 'hex'));
    expect(await imageHash(checker, file)).toBeUndefined();
    const before = sha256(file);
    const { details, plan } = planFor(file);
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    if (result.status === 'written') {
      // Written is fine only if the item says the pixels were not compared.
      expect({ verified: result.verified }).toEqual({ verified: false });
    } else {
      expectRefusedUntouched(result, file, before, /hash|verif/i);
    }
  });
});

describe('protected, empty, damaged and disguised files', () => {
  test('a file without write permission bits is refused (this holds for root too: the writer checks the bits itself)', async () => {
    const { file } = copyInto('metadata/rating/mongolels.jpg');
    chmodSync(file, 0o444);
    const before = sha256(file);
    const { details, plan } = planFor(file);
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    expectRefusedUntouched(result, file, before, /read-only/i);
    expect(statSync(file).mode & 0o777).toBe(0o444);
  });

  test('an immutable file (chattr +i: read-only even for root) is refused, byte-identical', async () => {
    const { file } = copyInto('metadata/rating/mongolels.jpg');
    const before = sha256(file);
    if (!immutableSupported()) {
      // Without chattr the only read-only that binds root here is the permission-bit check above.
      expect(isRoot()).toBe(false);
      chmodSync(file, 0o444);
    } else {
      expect(makeImmutable(file)).toBe(true);
    }
    const { details, plan } = planFor(file);
    try {
      const result = await writeAssetFile(exiftool, file, plan, options(details.id));
      expectRefusedUntouched(result, file, before, /./);
    } finally {
      clearImmutable(file);
    }
  });

  test('a file in an immutable folder (no temp file, no rename possible) is refused, byte-identical', async () => {
    const { file } = copyInto('metadata/rating/mongolels.jpg');
    const dir = path.dirname(file);
    const before = sha256(file);
    if (!immutableSupported()) {
      expect(isRoot()).toBe(false);
      chmodSync(dir, 0o555);
    } else {
      expect(makeImmutable(dir)).toBe(true);
    }
    const { details, plan } = planFor(file);
    try {
      const result = await writeAssetFile(exiftool, file, plan, options(details.id));
      expectRefusedUntouched(result, file, before, /folder|writable|permission/i);
    } finally {
      clearImmutable(dir);
      chmodSync(dir, 0o755);
    }
  });

  test('a folder with permission bits 555: refused for a normal user; for root (bits do not bind root) never half-written', async () => {
    const { file } = copyInto('metadata/rating/mongolels.jpg');
    const dir = path.dirname(file);
    const before = sha256(file);
    chmodSync(dir, 0o555);
    const { details, plan } = planFor(file);
    try {
      const result = await writeAssetFile(exiftool, file, plan, options(details.id));
      if (!isRoot()) {
        expectRefusedUntouched(result, file, before, /folder|writable|permission/i);
      } else if (result.status === 'failed') {
        expect(sha256(file)).toBe(before);
      } else {
        // What holds for root: the write is complete and verified, or it did not happen.
        expect({ status: result.status, verified: result.verified }).toEqual({ status: 'written', verified: true });
        expect(await remainingChanges(checker, file, plan)).toEqual([]);
      }
      expect(tempLeftovers(dir)).toEqual([]);
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  test('a zero-byte file is refused and stays zero bytes', async () => {
    const root = tempDir('writer-empty');
    const file = path.join(root, '2024', '05', 'empty.jpg');
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, '');
    const { details, plan } = planFor(file);
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    expectRefusedUntouched(result, file, sha256(file), /empty|0 bytes/i);
    expect(statSync(file).size).toBe(0);
  });

  test.each([
    ['cut in half', 0.5],
    ['cut just before the end-of-image marker', -2],
  ])('a truncated JPEG (%s) is refused, byte-identical', async (_label, cut) => {
    const { file } = copyInto('albums/nature/el_torcal_rocks.jpg');
    const size = statSync(file).size;
    truncateSync(file, cut > 0 ? Math.floor(size * cut) : size + cut);
    const before = sha256(file);
    const { details, plan } = planFor(file);
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    expectRefusedUntouched(result, file, before, /damaged|truncat|corrupt|format error/i);
  });

  test('a PNG named .jpg (the extension lies) is refused with advice, or written as the PNG it is and verified', async () => {
    const { file } = copyInto('formats/png/density_plot.png', 'looks-like.jpg');
    const before = sha256(file);
    const hashBefore = await imageHash(checker, file);
    const { details, plan } = planFor(file);
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    if (result.status === 'failed') {
      expectRefusedUntouched(result, file, before, /extension|looks more like|not a valid/i);
    } else {
      expect({ status: result.status, verified: result.verified }).toEqual({ status: 'written', verified: true });
      expect(readFileSync(file).subarray(1, 4).toString('latin1')).toBe('PNG');
      expect(await imageHash(checker, file)).toBe(hashBefore);
      expect(await remainingChanges(checker, file, plan)).toEqual([]);
    }
  });

  test('a JPEG named .png is handled the same way (refused, or written as the JPEG it is and verified)', async () => {
    const { file } = copyInto('metadata/tags/picasa.jpg', 'looks-like.png');
    const before = sha256(file);
    const hashBefore = await imageHash(checker, file);
    const { details, plan } = planFor(file);
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    if (result.status === 'failed') {
      expectRefusedUntouched(result, file, before, /extension|looks more like|not a valid/i);
    } else {
      expect({ status: result.status, verified: result.verified }).toEqual({ status: 'written', verified: true });
      expect(readFileSync(file).subarray(0, 2).toString('hex')).toBe('ffd8');
      expect(await imageHash(checker, file)).toBe(hashBefore);
    }
  });
});

describe('a file changed by someone else during the write', () => {
  /**
   * The real ExifTool, with one hook: right after it has written our temporary copy, another program
   * saves the original (a photo editor, a sync client). Their change must not be silently replaced.
   */
  function exiftoolWithEditorAfterWrite(edit: (file: string) => void): ExifTool {
    return new Proxy(exiftool, {
      get(target, prop, receiver) {
        if (prop === 'write') {
          return async (file: string, tags: WriteTags, opts: unknown) => {
            const out = await target.write(file, tags, opts as never);
            edit(file);
            return out;
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }

  test('an edit saved while our copy is being written is kept (the item fails, or the edit survives)', async () => {
    const { file } = copyInto('metadata/tags/picasa.jpg');
    const edited = readFileSync(sample('albums/nature/cyclamen_persicum.jpg')); // "their" new version of the photo
    const { details, plan } = planFor(file);
    const racing = exiftoolWithEditorAfterWrite((f) => writeFileSync(f, edited));
    const result = await writeAssetFile(racing, file, plan, options(details.id));
    const now = readFileSync(file);
    const theirEditKept = now.equals(edited);
    expect({ status: result.status, theirEditKept }).toEqual({ status: 'failed', theirEditKept: true });
    expect(result.reason).toMatch(/changed|modified|another/i);
    expect(tempLeftovers(path.dirname(file))).toEqual([]);
  });

  test('a file deleted while our copy is being written is not brought back', async () => {
    const { file } = copyInto('metadata/tags/picasa.jpg');
    const { details, plan } = planFor(file);
    const racing = exiftoolWithEditorAfterWrite((f) => require('fs').unlinkSync(f));
    const result = await writeAssetFile(racing, file, plan, options(details.id));
    expect({ status: result.status, exists: require('fs').existsSync(file) }).toEqual({ status: 'failed', exists: false });
    expect(tempLeftovers(path.dirname(file))).toEqual([]);
  });

  test('syncAsset over a library where a file vanished between listing and writing: skipped with the reason, nothing created', async () => {
    const root = tempDir('writer-vanished');
    const details = detailsFor('/usr/src/app/upload/library/2024/05/gone.jpg');
    const result = await syncAsset(details, { exiftool, libraryPath: root, mapping: { mode: 'lastSegments', segments: 3 }, target: 'original', dryRun: false, buildOptions: { modules: MODULES } });
    expect({ status: result.status, reason: result.reason }).toEqual({ status: 'skipped', reason: expect.stringMatching(/not found/i) });
    expect(listFiles(root)).toEqual([]);
  });
});

describe('IPTC text is UTF-8', () => {
  const NAMES = ['Мария Кюри', '李小龍', 'Zoë Ångström', 'محمد عبد الله', '👩‍🔬 Curie'];

  test('non-Latin names in IPTC keywords read back exactly, with CodedCharacterSet UTF8, never as "?"', async () => {
    const { file } = copyInto('metadata/tags/picasa.jpg'); // has IPTC keywords already (Frost, Yard)
    const { details, plan } = planFor(file, { names: NAMES });
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    expect(result.status).toBe('written');
    const raw = (await checker.readRaw(file, ['-G1', '-IPTC:Keywords', '-IPTC:CodedCharacterSet', '-charset', 'iptc=UTF8'])) as Record<string, unknown>;
    expect(raw['IPTC:CodedCharacterSet']).toBe('UTF8');
    const keywords = ([] as unknown[]).concat(raw['IPTC:Keywords'] ?? []).map(String);
    for (const name of NAMES) expect(keywords).toContain(name);
    expect(keywords).toEqual(expect.arrayContaining(['Frost', 'Yard'])); // foreign keywords kept
    expect(keywords.join('')).not.toMatch(/\?|\uFFFD/);
  });

  test('a name longer than IPTC\'s 64 bytes is cut on a UTF-8 character boundary in IPTC and kept whole in XMP', async () => {
    const { file } = copyInto('metadata/tags/picasa.jpg');
    const long = 'Александра Фёдоровна Романова-Гессен-Дармштадтская'; // 2-byte letters: 64 bytes falls mid-letter if cut blindly
    const emojiLong = `${'😀'.repeat(17)}xyz`; // 4-byte characters: a blind cut at 64 leaves a broken sequence
    expect(Buffer.byteLength(long)).toBeGreaterThan(64);
    const { details, plan } = planFor(file, { names: [long, emojiLong] });
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    expect(result.status).toBe('written');
    const raw = (await checker.readRaw(file, ['-G1', '-b', '-IPTC:Keywords', '-XMP-dc:Subject'])) as Record<string, unknown>;
    const iptc = ([] as unknown[]).concat(raw['IPTC:Keywords'] ?? []).map(String);
    const xmp = ([] as unknown[]).concat(raw['XMP-dc:Subject'] ?? []).map(String);
    expect(xmp).toEqual(expect.arrayContaining([long, emojiLong]));
    for (const whole of [long, emojiLong]) {
      const cut = iptc.find((k) => k.length > 0 && whole.startsWith(k) && k !== whole);
      expect({ whole, cut: cut !== undefined }).toEqual({ whole, cut: true });
      expect(Buffer.byteLength(cut!)).toBeLessThanOrEqual(64);
      expect(Buffer.byteLength(cut!)).toBeGreaterThan(60); // cut at the last whole character, not earlier
      expect(cut).not.toMatch(/\uFFFD/);
    }
  });
});

describe('very long non-Latin text already in the file', () => {
  /** ExifTool itself (the vendored script), as a second, independent reader and to seed files. */
  const EXIFTOOL_PL = path.join(path.dirname(require.resolve('exiftool-vendored.pl/package.json')), 'bin', 'exiftool');
  const cliRead = (file: string, tags: string[]): Record<string, unknown> =>
    JSON.parse(execFileSync('perl', [EXIFTOOL_PL, '-j', '-G1', ...tags.map((t) => `-${t}`), file], { maxBuffer: 1 << 28 }).toString('utf8'))[0];

  test("foreign keywords of tens of kilobytes of CJK text survive adding a person (or the item fails, byte-identical)", async () => {
    const { file } = copyInto('metadata/tags/picasa.jpg');
    const foreign = Array.from({ length: 12 }, (_, i) => `${i} ${'東京都'.repeat(2000 + i)}`);
    const argFile = path.join(path.dirname(file), '..', 'seed.args');
    writeFileSync(argFile, ['-overwrite_original', ...foreign.map((k) => `-XMP-dc:Subject+=${k}`), ...foreign.map((k) => `-XMP-lr:HierarchicalSubject+=Places|${k}`), file].join('\n'));
    execFileSync('perl', [EXIFTOOL_PL, '-@', argFile]);
    const seeded = cliRead(file, ['XMP-dc:Subject', 'XMP-lr:HierarchicalSubject']);
    expect(seeded['XMP-dc:Subject']).toEqual(expect.arrayContaining(foreign));
    const before = sha256(file);

    const { details, plan } = planFor(file, { names: ['Marie Curie'] });
    const result = await writeAssetFile(exiftool, file, plan, options(details.id));
    if (result.status === 'failed') {
      expect(sha256(file)).toBe(before);
      expect(result.reason).toContain(details.id);
      return;
    }
    const after = cliRead(file, ['XMP-dc:Subject', 'XMP-lr:HierarchicalSubject']);
    const subjects = ([] as unknown[]).concat(after['XMP-dc:Subject']).map(String);
    const garbled = subjects.filter((k) => k.includes('\uFFFD')).length;
    const kept = foreign.filter((k) => subjects.includes(k)).length;
    expect({ status: result.status, kept, garbled }).toEqual({ status: 'written', kept: foreign.length, garbled: 0 });
    expect(subjects).toContain('Marie Curie');
  });
});

describe('dry run', () => {
  test.each(['metadata/faces/portrait.jpg', 'formats/heic/IMG_2682.heic', 'formats/webp/denali.webp', 'formats/png/density_plot.png'])(
    'a dry run on %s reports the planned change and leaves the file byte-identical with no temp file (original and sidecar targets)',
    async (relative) => {
      const { root, file } = copyInto(relative);
      const before = sha256(file);
      for (const target of ['original', 'sidecar'] as const) {
        const details = detailsFor(`/usr/src/app/upload/library/2024/05/${path.basename(file)}`);
        const result = await syncAsset(details, { exiftool, libraryPath: root, mapping: { mode: 'lastSegments', segments: 3 }, target, dryRun: true, buildOptions: { modules: MODULES } });
        expect({ target, status: result.status, dryRun: result.dryRun }).toEqual({ target, status: 'written', dryRun: true });
        expect(result.changes.length).toBeGreaterThan(0);
        expect(result.verified).not.toBe(true);
      }
      expect(sha256(file)).toBe(before);
      expect(listFiles(root)).toEqual([file]); // no sidecar created, no temp file
    },
  );
});

describe('temporary files of killed runs', () => {
  test('a leftover from an earlier process with the SAME pid (containers restart with the same pid) is removed by the next write', async () => {
    // In Docker the CLI or n8n usually gets the same small pid after every restart, so "the pid is
    // alive" cannot tell a write in flight from a leftover of the killed previous incarnation.
    const { root, file } = copyInto('metadata/tags/picasa.jpg');
    const leftover = path.join(path.dirname(file), `.${path.basename(file)}.immich-sync-tmp-${process.pid}-0123456789ab.jpg`);
    copyFileSync(sample('metadata/tags/picasa.jpg'), leftover);
    const details = detailsFor(`/usr/src/app/upload/library/2024/05/${path.basename(file)}`);
    const result = await syncAsset(details, { exiftool, libraryPath: root, mapping: { mode: 'lastSegments', segments: 3 }, target: 'original', dryRun: false, buildOptions: { modules: MODULES } });
    expect(result.status).toBe('written');
    expect(tempLeftovers(root)).toEqual([]);
  });

  test('a leftover from a dead process is removed by the next write of that file', async () => {
    const { root, file } = copyInto('metadata/tags/picasa.jpg');
    const deadPid = 2 ** 22 + 12345; // above Linux's pid_max: no such process
    const leftover = path.join(path.dirname(file), `.${path.basename(file)}.immich-sync-tmp-${deadPid}-0123456789ab.jpg`);
    copyFileSync(sample('metadata/tags/picasa.jpg'), leftover);
    const details = detailsFor(`/usr/src/app/upload/library/2024/05/${path.basename(file)}`);
    const result = await syncAsset(details, { exiftool, libraryPath: root, mapping: { mode: 'lastSegments', segments: 3 }, target: 'original', dryRun: false, buildOptions: { modules: MODULES } });
    expect(result.status).toBe('written');
    expect(tempLeftovers(root)).toEqual([]);
  });
});

describe('special files in the library', () => {
  test.each(['original', 'sidecar'] as const)('a FIFO where the photo (or its sidecar) should be is refused at once, never opened (target %s)', async (target) => {
    // ExifTool reading a FIFO would block for ever: the item must fail before any read.
    const root = tempDir('writer-fifo');
    const dir = path.join(root, '2024', '05');
    mkdirSync(dir, { recursive: true });
    const photo = path.join(dir, 'pipe.jpg');
    if (target === 'original') {
      expect(execFileSync('mkfifo', [photo]).length).toBe(0);
    } else {
      copyFileSync(sample('metadata/tags/picasa.jpg'), photo);
      expect(execFileSync('mkfifo', [`${photo}.xmp`]).length).toBe(0);
    }
    const details = detailsFor('/usr/src/app/upload/library/2024/05/pipe.jpg');
    const result = await Promise.race([
      syncAsset(details, { exiftool, libraryPath: root, mapping: { mode: 'lastSegments', segments: 3 }, target, dryRun: false, buildOptions: { modules: MODULES } }),
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 20_000)),
    ]);
    expect(result).not.toBe('hung');
    const r = result as AssetWriteResult;
    expect({ status: r.status, reason: r.reason }).toEqual({ status: 'failed', reason: expect.stringMatching(/regular file|not a file/i) });
    expect(tempLeftovers(root)).toEqual([]);
  });
});
