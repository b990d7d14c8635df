/**
 * The writer against real ExifTool on copies of the real samples: write, verify, idempotence,
 * losslessness (image data hash, keywords the file had) and the malformed video.
 */
import type { ExifTool } from 'exiftool-vendored';
import { execFileSync } from 'child_process';
import { promises as fs } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { readIntegrity } from '../../lib/files/integrity';
import { readSelectedTags } from '../../lib/files/readTags';
import { writeAssetFile, type WriteFileOptions } from '../../lib/files/writer';
import { tagsToRead } from '../../lib/metadata/diff';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { assetFor, copySample, listFiles, makeTempDir, sha256, tempLeftovers } from './writer-fixtures';

// Real ExifTool on a shared, noisy 2-core machine: generous limits (not timing assertions).
jest.setTimeout(240_000);

let exiftool: ExifTool;
let dir: string;

beforeAll(() => {
  exiftool = createExifTool({ maxProcs: 2 });
});
afterAll(async () => {
  await exiftool.end();
});
beforeEach(async () => {
  dir = await makeTempDir('writer');
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const embedded = (assetId: string, extra: Partial<WriteFileOptions> = {}): WriteFileOptions => ({
  assetId,
  target: 'embedded',
  dryRun: false,
  keepModifyTime: false,
  backup: false,
  ...extra,
});

describe.each([
  ['metadata/faces/portrait.jpg'],
  ['formats/heic/IMG_2682.heic'],
  ['formats/webp/denali.webp'],
  ['formats/avif/8bit-sRGB.avif'],
  ['formats/png/density_plot.png'],
])('%s', (sample) => {
  it('is written, read back equal, image data untouched, and a second run writes nothing', async () => {
    const file = await copySample(sample, dir);
    const asset = assetFor(path.basename(file));
    const plan = buildMetadataPlan(asset);
    const before = await readIntegrity(exiftool, file);
    expect(before.imageHash).toMatch(/^[0-9a-f]{32}$/);
    const bytesBefore = await sha256(file);

    const first = await writeAssetFile(exiftool, file, plan, embedded(asset.id));
    expect(first.status).toBe('written');
    expect(first.verified).toBe(true);
    expect(first.file).toBe(file);
    expect(first.changes.length).toBeGreaterThan(0);
    for (const change of first.changes) expect(change).toEqual(expect.objectContaining({ field: expect.any(String) }));
    expect(await sha256(file)).not.toBe(bytesBefore);

    // What Immich will read: the caption and rating we planned are in the file.
    const tags = await readSelectedTags(exiftool, file, tagsToRead(plan, 'embedded'));
    expect(tags['XMP-dc:Description']).toBe('Written by the writer test – äöü ✓');
    expect(tags['XMP-xmp:Rating']).toBe(4);
    expect(tags['XMP-dc:Subject']).toEqual(expect.arrayContaining(['Marie Curie', 'Мария Кюри']));

    expect((await readIntegrity(exiftool, file)).imageHash).toBe(before.imageHash);

    const bytesAfterFirst = await sha256(file);
    const second = await writeAssetFile(exiftool, file, plan, embedded(asset.id));
    expect(second).toEqual(expect.objectContaining({ status: 'unchanged', changes: [] }));
    expect(await sha256(file)).toBe(bytesAfterFirst);
    expect(tempLeftovers(await listFiles(dir))).toEqual([]);
    expect(await listFiles(dir)).toEqual([file]); // no _original backups either
  });
});

it('keeps every keyword the file had (IPTC keywords of picasa.jpg) and writes IPTC as UTF-8', async () => {
  const file = await copySample('metadata/tags/picasa.jpg', dir);
  const asset = assetFor('picasa.jpg');
  const plan = buildMetadataPlan(asset);
  const result = await writeAssetFile(exiftool, file, plan, embedded(asset.id));
  expect(result.status).toBe('written');
  const raw = await readSelectedTags(exiftool, file, ['IPTC:Keywords', 'IPTC:CodedCharacterSet']);
  expect(raw['IPTC:Keywords']).toEqual(expect.arrayContaining(['Frost', 'Yard', 'Marie Curie', 'Мария Кюри']));
  expect(raw['IPTC:CodedCharacterSet']).toBe('\u001b%G'); // the ISO 2022 designation of UTF-8, as read with -n (printed: "UTF8")
});

it('replaces a renamed person under People| but keeps foreign keywords (portrait.jpg)', async () => {
  const file = await copySample('metadata/faces/portrait.jpg', dir);
  const asset = assetFor('portrait.jpg', { people: [{ id: 'p', name: 'Marie Skłodowska-Curie', isHidden: false, updatedAt: null }] });
  const result = await writeAssetFile(exiftool, file, buildMetadataPlan(asset), embedded(asset.id));
  expect(result.status).toBe('written');
  const raw = await readSelectedTags(exiftool, file, ['XMP-lr:HierarchicalSubject']);
  expect(raw['XMP-lr:HierarchicalSubject']).toEqual(['People|Marie Skłodowska-Curie']);
});

it('keeps the modification time when asked, and keeps a first backup when asked', async () => {
  const file = await copySample('metadata/rating/mongolels.jpg', dir);
  const old = new Date('2001-02-03T04:05:06Z');
  await fs.utimes(file, old, old);
  const original = await sha256(file);
  const asset = assetFor('mongolels.jpg');
  const result = await writeAssetFile(exiftool, file, buildMetadataPlan(asset), embedded(asset.id, { keepModifyTime: true, backup: true }));
  expect(result.status).toBe('written');
  expect((await fs.stat(file)).mtime.getTime()).toBe(old.getTime());
  expect(await sha256(`${file}_original`)).toBe(original);

  // A later write keeps the first backup (the true original) and, without the option, moves mtime.
  const again = assetFor('mongolels.jpg', {}, { description: 'second description' });
  const second = await writeAssetFile(exiftool, file, buildMetadataPlan(again), embedded(again.id, { backup: true }));
  expect(second.status).toBe('written');
  expect(await sha256(`${file}_original`)).toBe(original);
  expect((await fs.stat(file)).mtime.getTime()).toBeGreaterThan(old.getTime());
});

it('keeps the file mode of the original', async () => {
  const file = await copySample('metadata/dates/time-created.jpg', dir);
  await fs.chmod(file, 0o640);
  const asset = assetFor('time-created.jpg');
  expect((await writeAssetFile(exiftool, file, buildMetadataPlan(asset), embedded(asset.id))).status).toBe('written');
  expect((await fs.stat(file)).mode & 0o777).toBe(0o640);
});

it('removes temp files left by a killed earlier run (not in a dry run), also when nothing needs writing', async () => {
  const file = await copySample('metadata/dates/gps-datetime.jpg', dir);
  // pid 2^22+1 cannot exist on Linux: its writer is gone.
  const stale = path.join(dir, `.gps-datetime.jpg.immich-sync-tmp-${2 ** 22 + 1}-0123ab.jpg`);
  await fs.writeFile(stale, 'half-written');
  const asset = assetFor('gps-datetime.jpg');
  const plan = buildMetadataPlan(asset);
  expect((await writeAssetFile(exiftool, file, plan, embedded(asset.id, { dryRun: true }))).status).toBe('written');
  expect(await listFiles(dir)).toEqual([stale, file].sort());
  expect((await writeAssetFile(exiftool, file, plan, embedded(asset.id))).status).toBe('written');
  expect(await listFiles(dir)).toEqual([file]);

  // A later run (a new pool) that finds nothing to change still tidies up.
  await fs.writeFile(stale, 'half-written');
  const nextRun = createExifTool({ maxProcs: 1 });
  try {
    expect((await writeAssetFile(nextRun, file, plan, embedded(asset.id))).status).toBe('unchanged');
  } finally {
    await nextRun.end();
  }
  expect(await listFiles(dir)).toEqual([file]);
});

describe('the malformed video (unmerged-branches/future42603.mp4)', () => {
  it('ends as a failed item and stays byte-identical, with no temp file left', async () => {
    const file = await copySample('unmerged-branches/future42603.mp4', dir);
    const bytes = await sha256(file);
    const asset = assetFor('future42603.mp4');
    const result = await writeAssetFile(exiftool, file, buildMetadataPlan(asset), embedded(asset.id));
    expect(result.status).toBe('failed');
    expect(result.reason).toContain(asset.id);
    expect(result.reason).toContain(file);
    expect(result.reason).toMatch(/left unchanged/);
    expect(await sha256(file)).toBe(bytes);
    expect(await listFiles(dir)).toEqual([file]);
  });

  it('is refused by the pool\'s write settings too (no minor errors ignored), where lenient settings would "succeed"', async () => {
    const file = await copySample('unmerged-branches/future42603.mp4', dir);
    const bytes = await sha256(file);
    const out = path.join(dir, 'out.mp4');
    await expect(exiftool.write(file, { Rating: 3 }, { writeArgs: ['-o', out] })).rejects.toThrow(/Terminator found|minor/i);
    expect(await sha256(file)).toBe(bytes);
    await expect(fs.stat(out)).rejects.toThrow();
    // The trap the safe settings avoid: with minor errors ignored ExifTool writes a "repaired" file.
    await exiftool.write(file, { Rating: 3 }, { writeArgs: ['-o', out], ignoreMinorErrors: true });
    expect((await fs.stat(out)).size).not.toBe((await fs.stat(file)).size);
  });
});

it('follows a symlink inside the library: the target file is rewritten, the link stays a link', async () => {
  const real = await copySample('metadata/dates/datetimeoriginal-gps.jpg', dir, 'real');
  const link = path.join(dir, 'link.jpg');
  await fs.symlink(real, link);
  const asset = assetFor('link.jpg');
  const result = await writeAssetFile(exiftool, link, buildMetadataPlan(asset), embedded(asset.id));
  expect(result).toEqual(expect.objectContaining({ status: 'written', file: link, verified: true }));
  expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
  expect((await readSelectedTags(exiftool, real, ['XMP-dc:Description']))['XMP-dc:Description']).toBe('Written by the writer test – äöü ✓');
});

it('two assets writing the same file at once are serialized: both verified, the one that writes last wins, no leftovers', async () => {
  const file = await copySample('metadata/dates/date-priority-test.jpg', dir);
  const first = assetFor('date-priority-test.jpg', {}, { description: 'first' });
  const second = assetFor('date-priority-test.jpg', {}, { description: 'second' });
  const results = await Promise.all([
    writeAssetFile(exiftool, file, buildMetadataPlan(first, { modules: ['caption'] }), embedded('one')),
    writeAssetFile(exiftool, file, buildMetadataPlan(second, { modules: ['caption'] }), embedded('two')),
  ]);
  expect(results.map((r) => [r.status, r.verified])).toEqual([
    ['written', true],
    ['written', true],
  ]);
  // The lock is taken per real path, so whichever call resolves its path first writes first; the other one
  // must then see its value as "before" and win.
  const final = (await readSelectedTags(exiftool, file, ['XMP-dc:Description']))['XMP-dc:Description'];
  expect(['first', 'second']).toContain(final);
  const [earlier, later] = final === 'second' ? [results[0], results[1]] : [results[1], results[0]];
  expect(later.changes.find((c) => c.field.includes('XMP-dc:Description'))?.before).toBe(final === 'second' ? 'first' : 'second');
  expect(earlier.changes.find((c) => c.field.includes('XMP-dc:Description'))?.after).toBe(final === 'second' ? 'first' : 'second');
  expect(await listFiles(dir)).toEqual([file]);
});

describe('fault injection around the real ExifTool write', () => {
  it('a write that does not produce what was planned fails verification; the original keeps its bytes', async () => {
    const file = await copySample('metadata/faces/portrait.jpg', dir);
    const bytes = await sha256(file);
    const realWrite = exiftool.write.bind(exiftool);
    // ExifTool really writes, but a different caption than the plan asked for.
    const spy = jest.spyOn(exiftool, 'write').mockImplementationOnce(((target: string, tags: Record<string, unknown>, opts: never) =>
      realWrite(target, { ...tags, 'XMP-dc:Description': 'not what was planned' } as never, opts)) as never);
    try {
      const asset = assetFor('portrait.jpg');
      const result = await writeAssetFile(exiftool, file, buildMetadataPlan(asset), embedded(asset.id));
      expect(result.status).toBe('failed');
      expect(result.reason).toMatch(/verification failed.*not what was planned/);
      expect(await sha256(file)).toBe(bytes);
      expect(await listFiles(dir)).toEqual([file]);
    } finally {
      spy.mockRestore();
    }
  });

  it('a file changed by someone else while we write is not replaced: their change wins', async () => {
    const file = await copySample('metadata/tags/picasa.jpg', dir);
    const realWrite = exiftool.write.bind(exiftool);
    const spy = jest.spyOn(exiftool, 'write').mockImplementationOnce((async (target: string, tags: never, opts: never) => {
      const outcome = await realWrite(target, tags, opts);
      await fs.appendFile(file, Buffer.from('someone else'));
      return outcome;
    }) as never);
    try {
      const asset = assetFor('picasa.jpg');
      const result = await writeAssetFile(exiftool, file, buildMetadataPlan(asset), embedded(asset.id));
      expect(result.status).toBe('failed');
      expect(result.reason).toMatch(/changed by something else/);
      expect((await fs.readFile(file)).subarray(-12).toString()).toBe('someone else');
      expect(await listFiles(dir)).toEqual([file]);
    } finally {
      spy.mockRestore();
    }
  });
});

it('long non-ASCII keywords already in the file come through intact (no U+FFFD from split output chunks)', async () => {
  const file = await copySample('metadata/tags/picasa.jpg', dir);
  const foreign = Array.from({ length: 6 }, (_, i) => `${i} ${'東京都'.repeat(3000 + i)}`);
  await exiftool.write(file, { 'XMP-dc:Subject': foreign } as never, { writeArgs: ['-overwrite_original'] });
  const asset = assetFor('picasa.jpg');
  const result = await writeAssetFile(exiftool, file, buildMetadataPlan(asset, { modules: ['people'] }), embedded(asset.id));
  expect(result.status).toBe('written');
  // An independent reader: the ExifTool script itself, its JSON parsed in one piece.
  const script = path.join(path.dirname(require.resolve('exiftool-vendored.pl/package.json')), 'bin', 'exiftool');
  const out = JSON.parse(execFileSync('perl', [script, '-j', '-G1', '-XMP-dc:Subject', file], { maxBuffer: 1 << 26 }).toString('utf8'))[0];
  const subjects: string[] = out['XMP-dc:Subject'];
  expect(subjects.filter((k) => k.includes('\uFFFD'))).toEqual([]);
  expect(subjects).toEqual(expect.arrayContaining([...foreign, 'Marie Curie', 'Мария Кюри']));
});

it('text with every Latin-1/Greek/symbol entity ExifTool names, emoji, CJK, RTL and markup characters round-trips exactly', async () => {
  const file = await copySample('metadata/rating/mongolels.jpg', dir);
  const latin = Array.from({ length: 0x17f - 0xa1 + 1 }, (_, i) => String.fromCodePoint(0xa1 + i)).join('');
  const text = `${latin} Ωαβγ – — ‘’ “” † ‡ • … ‰ € ™ ♠♣♥♦ 😀👍🏽 東京都 שלום مرحبا <b>&amp;</b> "q" 'a' &#39; &ndash;`;
  const asset = assetFor('mongolels.jpg', {}, { description: text });
  const result = await writeAssetFile(exiftool, file, buildMetadataPlan(asset, { modules: ['caption'] }), embedded(asset.id));
  expect(result).toEqual(expect.objectContaining({ status: 'written', verified: true }));
  expect((await readSelectedTags(exiftool, file, ['XMP-dc:Description']))['XMP-dc:Description']).toBe(text);
  const script = path.join(path.dirname(require.resolve('exiftool-vendored.pl/package.json')), 'bin', 'exiftool');
  const out = JSON.parse(execFileSync('perl', [script, '-j', '-G1', '-XMP-dc:Description', file]).toString('utf8'))[0];
  expect(out['XMP-dc:Description']).toBe(text);
  expect((await writeAssetFile(exiftool, file, buildMetadataPlan(asset, { modules: ['caption'] }), embedded(asset.id))).status).toBe('unchanged');
});
