/**
 * Every module through real ExifTool on copies of the samples, read back with Immich's rules:
 * what we write must read in Immich as the same value, keep what the file had, and a second diff must be empty.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ExifTool } from 'exiftool-vendored';
import type { ImmichAssetDetails } from '../../lib/immich/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { ALL_MODULES } from '../../lib/metadata/types';
import { createImmichExifTool, immichRead } from '../helpers/immichRead';
import { applyPlan, type AssetOverrides, copySample, createPlainWriter, makeAsset, makeTempDir, person, readCurrent, rediff } from './roundtrip-support';

let writer: ExifTool;
let immich: ExifTool;
let dir: string;
beforeAll(() => {
  writer = createPlainWriter();
  immich = createImmichExifTool();
  dir = makeTempDir('roundtrip-modules');
});
afterAll(async () => {
  await Promise.all([writer.end(), immich.end()]);
});

/** Santiago de Chile: south and west. 15:15:44.310 local at UTC-3. */
function richAsset(overrides: AssetOverrides = {}): ImmichAssetDetails {
  return makeAsset({
    people: [person('Мария Кюри'), person('Pierre Curie'), person('Hidden Person', true)],
    albums: ['日本 2024', 'Trips'],
    tags: ['Travel/Japan', 'People/Мария Кюри', 'Albums/Trips', 'sunset'],
    localDateTime: '2022-01-10T15:15:44.310Z',
    exif: {
      dateTimeOriginal: '2022-01-10T18:15:44.310Z',
      timeZone: 'America/Santiago',
      description: 'Рассвет над 日本 — «quotes», commas, [brackets] & {braces}\nsecond line & <tags> Tom &amp; Jerry &#169;',
      rating: 4,
      latitude: -33.4489,
      longitude: -70.6693,
    },
    ...overrides,
  });
}

function expectImmichSees(read: Awaited<ReturnType<typeof immichRead>>, asset: ImmichAssetDetails, zones = ['UTC-3']) {
  expect(read.description).toBe(asset.exif.description);
  expect(read.rating).toBe(asset.exif.rating);
  expect(read.latitude).toBeCloseTo(asset.exif.latitude!, 6);
  expect(read.longitude).toBeCloseTo(asset.exif.longitude!, 6);
  expect(read.dateTimeOriginal).toBe(asset.exif.dateTimeOriginal);
  expect(read.localDateTime).toBe(asset.localDateTime);
  expect(zones).toContain(read.timeZone);
  expect(read.tags).toEqual(
    expect.arrayContaining(['People/Мария Кюри', 'People/Pierre Curie', 'Albums/日本 2024', 'Albums/Trips', 'Travel/Japan', 'sunset']),
  );
  expect(read.tags).not.toContain('People/Hidden Person');
}

const FORMATS = [
  'metadata/gps-position/thompson-springs.jpg',
  'formats/heic/IMG_2682.heic',
  'formats/webp/denali.webp',
  'formats/avif/8bit-sRGB.avif',
  'formats/png/density_plot.png',
  'formats/motionphoto/samsung-one-ui-6.heic',
];

describe.each(FORMATS)('all modules into %s', (sample) => {
  it('reads back in Immich as written, and a second diff is empty', async () => {
    const file = copySample(sample, dir, `all-${sample.replaceAll('/', '_')}`);
    const asset = richAsset();
    const plan = buildMetadataPlan(asset, { modules: [...ALL_MODULES] });
    const diff = await applyPlan(writer, file, plan);
    expect(diff.changes.length).toBeGreaterThan(5);
    expectImmichSees(await immichRead(immich, file), asset);
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

describe('lossless keywords (thompson-springs.jpg has IPTC keywords only)', () => {
  it('keeps every keyword the file had, in IPTC and as Immich tags', async () => {
    const file = copySample('metadata/gps-position/thompson-springs.jpg', dir, 'keep-keywords.jpg');
    const before = await immichRead(immich, file);
    expect(before.tags).toContain('utah');
    const plan = buildMetadataPlan(richAsset({ tags: [] }), { modules: ['people', 'albums'] });
    await applyPlan(writer, file, plan);
    const current = await readCurrent(writer, file, plan, 'embedded');
    expect(current['IPTC:Keywords']).toEqual(expect.arrayContaining(before.tags));
    expect(current['IPTC:Keywords']).toEqual(expect.arrayContaining(['Мария Кюри', 'Pierre Curie']));
    const after = await immichRead(immich, file);
    // Immich now reads HierarchicalSubject: the old flat keywords must be in it too, or Immich would drop those tags.
    expect(after.tags).toEqual(expect.arrayContaining([...before.tags, 'People/Мария Кюри', 'Albums/Trips']));
    const charset = (await writer.readRaw(file, { readArgs: ['-G1', '-IPTC:CodedCharacterSet'] })) as unknown as Record<string, unknown>;
    expect(charset['IPTC:CodedCharacterSet']).toBe('UTF8');
  });
});

describe('ownership on portrait.jpg (TagsList, HierarchicalSubject, Subject, IPTC from another tool)', () => {
  it('a renamed person and a removed person replace our old entries; other keywords stay', async () => {
    const file = copySample('metadata/faces/portrait.jpg', dir, 'rename.jpg');
    await writer.write(file, {
      'XMP-lr:HierarchicalSubject': ['People|Marie Curie', 'People|Pierre Curie', 'Places|Paris'],
      'XMP-digiKam:TagsList': ['People/Marie Curie', 'People/Pierre Curie', 'Places/Paris'],
      'XMP-dc:Subject': ['Marie Curie', 'Pierre Curie', 'Paris', 'physics'],
      'XMP-iptcExt:PersonInImage': ['Marie Curie', 'Pierre Curie', 'Somebody Else'],
    } as never);
    const asset = makeAsset({ people: [person('Marie Skłodowska-Curie'), person('Pierre Curie', true)] });
    const plan = buildMetadataPlan(asset, { modules: ['people'] });
    await applyPlan(writer, file, plan);
    const current = await readCurrent(writer, file, plan, 'embedded');
    expect(current['XMP-lr:HierarchicalSubject']).toEqual(['Places|Paris', 'People|Marie Skłodowska-Curie']);
    expect(current['XMP-digiKam:TagsList']).toEqual(['Places/Paris', 'People/Marie Skłodowska-Curie']);
    expect(current['XMP-dc:Subject']).toEqual(['Paris', 'physics', 'Marie Skłodowska-Curie']);
    expect(current['IPTC:Keywords']).toEqual('Marie Skłodowska-Curie');
    expect(current['XMP-iptcExt:PersonInImage']).toEqual(['Somebody Else', 'Marie Skłodowska-Curie']);
    const read = await immichRead(immich, file);
    expect(read.tags).toEqual(['Places/Paris', 'People/Marie Skłodowska-Curie']);
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

describe('caption', () => {
  it('overwrites camera junk in EXIF ImageDescription so Immich shows our caption', async () => {
    const file = copySample('albums/nature/el_torcal_rocks.jpg', dir, 'junk.jpg');
    expect((await immichRead(immich, file)).description).toBe('SONY DSC');
    const plan = buildMetadataPlan(makeAsset({ exif: { description: 'Karst rocks of El Torcal' } }), { modules: ['caption'] });
    await applyPlan(writer, file, plan);
    expect((await immichRead(immich, file)).description).toBe('Karst rocks of El Torcal');
    const current = await readCurrent(writer, file, plan, 'embedded');
    expect(current['XMP-dc:Description']).toBe('Karst rocks of El Torcal');
    expect(current['IPTC:Caption-Abstract']).toBe('Karst rocks of El Torcal');
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });

  it('an empty Immich description never wipes the file (unless asked)', async () => {
    const file = copySample('metadata/rating/mongolels.jpg', dir, 'keep-caption.jpg');
    const asset = makeAsset({ exif: { description: '' } });
    const keep = buildMetadataPlan(asset, { modules: ['caption'] });
    expect((await applyPlan(writer, file, keep)).changes).toEqual([]);
    expect((await immichRead(immich, file)).description).toBe('Mongol Els');
    const wipe = buildMetadataPlan(asset, { modules: ['caption'], clearEmptyCaption: true });
    await applyPlan(writer, file, wipe);
    expect((await immichRead(immich, file)).description).toBe('');
    expect((await rediff(writer, file, wipe)).changes).toEqual([]);
  });
});

describe('rating', () => {
  it('no Immich rating leaves the file; favourite → 5 only as an option', async () => {
    const file = copySample('metadata/rating/mongolels.jpg', dir, 'rating.jpg');
    const fav = makeAsset({ isFavorite: true });
    expect((await applyPlan(writer, file, buildMetadataPlan(fav, { modules: ['rating'] }))).changes).toEqual([]);
    expect((await immichRead(immich, file)).rating).toBe(3);
    const plan = buildMetadataPlan(fav, { modules: ['rating'], favoriteAsFiveStars: true });
    await applyPlan(writer, file, plan);
    expect((await immichRead(immich, file)).rating).toBe(5);
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

describe('time', () => {
  it.each([
    ['positive offset with sub-seconds', '2019-03-21T20:04:22.348Z', '2019-03-21T11:04:22.348Z', 'Asia/Tokyo', 'UTC+9'],
    ['half-hour offset', '2020-06-01T00:00:00.000Z', '2020-06-01T05:30:00.000Z', 'Asia/Kolkata', 'UTC+5:30'],
    ['zero offset', '2020-06-01T12:00:00.000Z', '2020-06-01T12:00:00.000Z', 'UTC', 'UTC'],
  ])('%s', async (_label, instant, local, zone, immichZone) => {
    const file = copySample('formats/webp/denali.webp', dir, `time-${zone.replace('/', '-')}.webp`);
    const asset = makeAsset({ localDateTime: local, exif: { dateTimeOriginal: instant, timeZone: zone } });
    // the Tokyo row: local is 9 hours ahead of the instant
    const plan = buildMetadataPlan({ ...asset, localDateTime: zone === 'Asia/Tokyo' ? '2019-03-22T05:04:22.348Z' : local }, { modules: ['time'] });
    await applyPlan(writer, file, plan);
    const read = await immichRead(immich, file);
    expect(read.dateTimeOriginal).toBe(instant);
    expect(read.timeZone).toBe(immichZone);
    expect(read.localDateTime).toBe(zone === 'Asia/Tokyo' ? '2019-03-22T05:04:22.348Z' : local);
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });

  it('unknown zone: written at +00:00 and Immich reads the same wall clock and instant back (zone UTC)', async () => {
    const file = copySample('metadata/tags/picasa.jpg', dir, 'no-zone.jpg');
    const asset = makeAsset({ localDateTime: '2011-05-06T07:08:09.000Z', exif: { dateTimeOriginal: '2011-05-06T07:08:09.000Z', timeZone: null } });
    const plan = buildMetadataPlan(asset, { modules: ['time'] });
    await applyPlan(writer, file, plan);
    const read = await immichRead(immich, file);
    expect(read.localDateTime).toBe('2011-05-06T07:08:09.000Z');
    expect(read.dateTimeOriginal).toBe('2011-05-06T07:08:09.000Z');
    expect(read.timeZone).toBe('UTC');
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

describe('IPTC limits and UTF-8', () => {
  it('cuts IPTC keywords at 64 bytes on a character boundary; XMP keeps the whole name', async () => {
    const file = copySample('metadata/tags/picasa.jpg', dir, 'long-name.jpg');
    const long = 'Мария Саломея Склодовская-Кюри Второе Имя'; // 76 bytes of UTF-8
    const plan = buildMetadataPlan(makeAsset({ people: [person(long)] }), { modules: ['people'] });
    await applyPlan(writer, file, plan);
    const current = await readCurrent(writer, file, plan, 'embedded');
    const iptc = (current['IPTC:Keywords'] as string[]).find((k) => k.startsWith('Мария'))!;
    expect(Buffer.byteLength(iptc, 'utf8')).toBeLessThanOrEqual(64);
    expect(long.startsWith(iptc)).toBe(true);
    expect(current['XMP-dc:Subject']).toEqual(expect.arrayContaining([long, 'Frost', 'Yard']));
    expect(current['IPTC:Keywords']).toEqual(expect.arrayContaining(['Frost', 'Yard']));
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

describe('sidecar target (.xmp)', () => {
  it('writes only XMP, masks the original for every tag Immich reads, and re-diffs empty', async () => {
    const media = copySample('albums/nature/el_torcal_rocks.jpg', dir, 'side.jpg');
    const sidecar = copySample('metadata/xmp/dates/2000.xmp', dir, 'side.jpg.xmp');
    const asset = richAsset();
    const plan = buildMetadataPlan(asset, { modules: [...ALL_MODULES] });
    const diff = await applyPlan(writer, sidecar, plan, 'sidecar');
    expect(Object.keys(diff.writeTags).every((tag) => tag.startsWith('XMP-'))).toBe(true);
    // The sidecar also holds GPS: ExifTool's geolocation then names the zone (same instant and wall clock).
    expectImmichSees(await immichRead(immich, media, sidecar), asset, ['UTC-3', 'America/Santiago']);
    expect((await rediff(writer, sidecar, plan, 'sidecar')).changes).toEqual([]);
  });
});

describe('albums', () => {
  it('Event and hierarchy follow the albums; a left album is replaced, not piled up; user comment on request', async () => {
    const file = copySample('albums/nature/cyclamen_persicum.jpg', dir, 'albums.jpg');
    const first = buildMetadataPlan(makeAsset({ albums: ['Flowers', 'Garden, 2024'] }), { modules: ['albums'], albumsInUserComment: true });
    await applyPlan(writer, file, first);
    let current = await readCurrent(writer, file, first, 'embedded');
    expect(current['XMP-iptcExt:Event']).toBe('Flowers; Garden, 2024');
    expect(current['ExifIFD:UserComment']).toBe('Flowers; Garden, 2024');
    expect((await immichRead(immich, file)).tags).toEqual(['Albums/Flowers', 'Albums/Garden, 2024']);
    expect((await rediff(writer, file, first)).changes).toEqual([]);

    const second = buildMetadataPlan(makeAsset({ albums: ['Flowers'] }), { modules: ['albums'], albumsInUserComment: true });
    await applyPlan(writer, file, second);
    current = await readCurrent(writer, file, second, 'embedded');
    expect(current['XMP-lr:HierarchicalSubject']).toEqual(['Albums|Flowers']);
    expect(current['XMP-iptcExt:Event']).toBe('Flowers');
    expect(current['ExifIFD:UserComment']).toBe('Flowers');
    expect((await rediff(writer, file, second)).changes).toEqual([]);
  });
});

describe('names that need escaping', () => {
  it('face regions and keywords with commas, braces, pipes and non-Latin text survive ExifTool', async () => {
    const file = copySample('unmerged-branches/solvay.jpg', dir, 'escape.jpg');
    const names = ['Мария, {Кюри}', 'A|B [x] &amp;', '日本 太郎'];
    const asset = makeAsset({
      people: names.map((n) => person(n)),
      faces: names.map((n, i) => ({
        id: `f${i}`, personId: `p${i}`, personName: n, personHidden: false,
        x1: 100 + i * 200, y1: 100, x2: 180 + i * 200, y2: 200, imageWidth: 1280, imageHeight: 926, sourceType: 'machine-learning',
      })),
    });
    const plan = buildMetadataPlan(asset, { modules: ['people', 'faces'] });
    await applyPlan(writer, file, plan);
    const read = await immichRead(immich, file);
    expect(read.faces.map((f) => [f.name, f.boundingBoxX1, f.boundingBoxY1, f.boundingBoxX2, f.boundingBoxY2])).toEqual(
      names.map((n, i) => [n, 100 + i * 200, 100, 180 + i * 200, 200]),
    );
    expect(read.tags).toEqual(['People/Мария, {Кюри}', 'People/A|B [x] &amp;', 'People/日本 太郎']);
    const current = await readCurrent(writer, file, plan, 'embedded');
    expect(current['XMP-iptcExt:PersonInImage']).toEqual(names);
    expect(current['IPTC:Keywords']).toEqual(names);
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

describe('IPTC written by other tools without a declared character set', () => {
  it.each([
    ['Latin-1', 'Latin'],
    ['undeclared UTF-8', 'UTF8'],
  ])('%s: existing IPTC text survives our UTF-8 declaration', async (_label, charset) => {
    const file = copySample('unmerged-branches/solvay.jpg', dir, `charset-${charset}.jpg`);
    // Write the legacy IPTC with ExifTool itself, in the given encoding and without CodedCharacterSet.
    const legacy = new ExifTool({ maxProcs: 1, writeArgs: ['-overwrite_original', '-charset', `iptc=${charset}`] });
    const latinSafe = charset === 'Latin';
    try {
      await legacy.write(file, { 'IPTC:By-line': 'José Zürich', 'IPTC:Keywords': latinSafe ? ['Café'] : ['Café', 'Киев'] } as never);
    } finally {
      await legacy.end();
    }
    const plan = buildMetadataPlan(makeAsset({ people: [person('Мария Кюри')], exif: { description: '日本の写真' } }), { modules: ['people', 'caption'] });
    await applyPlan(writer, file, plan);
    const after = (await writer.readRaw(file, { readArgs: ['-G1', '-IPTC:all'] })) as unknown as Record<string, unknown>;
    expect(after['IPTC:CodedCharacterSet']).toBe('UTF8');
    expect(after['IPTC:By-line']).toBe('José Zürich');
    expect(after['IPTC:Keywords']).toEqual(latinSafe ? ['Café', 'Мария Кюри'] : ['Café', 'Киев', 'Мария Кюри']);
    expect(after['IPTC:Caption-Abstract']).toBe('日本の写真');
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});

/** A minimal, valid MP4 (ftyp + moov/mvhd + mdat): the shared video samples are missing or malformed. */
function writeTinyMp4(file: string): void {
  const box = (type: string, payload: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, 0].map((_, i) => ((8 + payload.length) >> (24 - 8 * i)) & 0xff)), Buffer.from(type, 'latin1'), payload]);
  const u32 = (...values: number[]) => Buffer.concat(values.map((v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; }));
  const created = 3786912000; // 2024-01-01 in QuickTime's 1904 epoch
  const mvhd = box('mvhd', Buffer.concat([u32(0, created, created, 1000, 1000, 0x00010000), Buffer.from([1, 0]), Buffer.alloc(10), u32(0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000), Buffer.alloc(24), u32(2)]));
  fs.writeFileSync(file, Buffer.concat([box('ftyp', Buffer.concat([Buffer.from('isom'), u32(512), Buffer.from('isomiso2mp41')])), box('moov', mvhd), box('mdat', Buffer.alloc(16))]));
}

describe('video (MP4): XMP only', () => {
  it('people, caption, rating, GPS, tags and capture time read back in Immich; QuickTime dates stay', async () => {
    const file = path.join(dir, 'tiny.mp4');
    writeTinyMp4(file);
    const asset = richAsset({ type: 'VIDEO' });
    const plan = buildMetadataPlan(asset, { modules: [...ALL_MODULES] });
    expect(plan.faces).toBeUndefined();
    const diff = await applyPlan(writer, file, plan);
    expect(Object.keys(diff.writeTags).every((tag) => tag.startsWith('XMP-'))).toBe(true);
    // Only XMP GPS here, so ExifTool's geolocation names the zone (same instant and wall clock).
    expectImmichSees(await immichRead(immich, file), asset, ['UTC-3', 'America/Santiago']);
    const quicktime = (await writer.readRaw(file, { readArgs: ['-G1', '-QuickTime:CreateDate'] })) as unknown as Record<string, unknown>;
    expect(quicktime['QuickTime:CreateDate']).toBe('2024:01:01 00:00:00');
    expect((await rediff(writer, file, plan)).changes).toEqual([]);
  });
});
