import { diffAgainstFile, tagsToRead } from '../../lib/metadata/diff';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { READ_ARGS, readRequest, readValue } from '../../lib/metadata/readOptions';
import { MODULE_TAGS } from '../../lib/metadata/moduleTags';
import { ALL_MODULES } from '../../lib/metadata/types';
import { face, makeAsset, person } from '../integration/roundtrip-support';

const JPEG = { 'File:FileType': 'JPEG' };

describe('tagsToRead', () => {
  const plan = buildMetadataPlan(
    makeAsset({ people: [person('A')], albums: ['X'], tags: ['t'], localDateTime: '2020-01-01T00:00:00.000Z', exif: { dateTimeOriginal: '2020-01-01T00:00:00.000Z', rating: 2, latitude: 1, longitude: 2, description: 'd' } }),
    { modules: [...ALL_MODULES] },
  );
  it('reads only the compared tags, never everything', () => {
    const tags = tagsToRead(plan, 'embedded');
    expect(tags).toContain('File:FileType#');
    expect(tags).toContain('XMP-mwg-rs:RegionInfo');
    expect(tags).toContain('IPTC:Keywords');
    // no full read: the one group read is IPTC (small), needed to re-encode it as UTF-8
    expect(tags.filter((t) => /all$/i.test(t) || t.includes('*'))).toEqual(['IPTC:all']);
    expect(new Set(tags).size).toBe(tags.length);
  });
  it('reads only XMP (and the file type) from a sidecar', () => {
    expect(tagsToRead(plan, 'sidecar').filter((t) => !t.startsWith('XMP-'))).toEqual(['File:FileType#']);
  });
  it('reads nothing but the type for an empty plan', () => {
    expect(tagsToRead(buildMetadataPlan(makeAsset(), { modules: ['gps'] }), 'embedded')).toEqual(['File:FileType#']);
  });
  it('builds readRaw options with grouped keys and structures', () => {
    const req = readRequest(['XMP-dc:Description', 'IFD0:Orientation#']);
    expect(req.readArgs).toEqual([...READ_ARGS, '-XMP-dc:Description', '-IFD0:Orientation#']);
    expect(READ_ARGS).toEqual(expect.arrayContaining(['-G1', '-struct']));
    expect(readValue({ 'IFD0:Orientation': 6 }, 'Orientation#')).toBe(6);
    expect(readValue({ 'File:ImageWidth': 5, 'Composite:ImageWidth': 9 }, 'ImageWidth#')).toBe(5);
  });
  it('documents every module', () => {
    expect(Object.keys(MODULE_TAGS).sort()).toEqual([...ALL_MODULES].sort());
  });
});

describe('diffAgainstFile', () => {
  it('refuses something that is not a current plan, naming the asset', () => {
    expect(() => diffAgainstFile({ assetId: 'a1', schemaVersion: 0 } as never, {}, 'embedded')).toThrow(/plan of asset a1 .*Build Metadata Tags/);
    expect(() => tagsToRead(null as never, 'embedded')).toThrow(/not one this version builds/);
  });

  it('GPS: writes magnitude and hemisphere refs for south/west, and nothing when they match', () => {
    const plan = buildMetadataPlan(makeAsset({ exif: { latitude: -33.4489, longitude: -70.6693 } }), { modules: ['gps'] });
    const { writeTags, changes } = diffAgainstFile(plan, JPEG, 'embedded');
    expect(writeTags).toEqual({ 'GPS:GPSLatitude': 33.4489, 'GPS:GPSLatitudeRef': 'S', 'GPS:GPSLongitude': 70.6693, 'GPS:GPSLongitudeRef': 'W' });
    expect(changes[0]).toEqual({ field: 'GPS (GPS:GPSLatitude)', before: null, after: -33.4489 });
    const same = { ...JPEG, 'GPS:GPSLatitude': 33.448900333, 'GPS:GPSLatitudeRef': 'S', 'GPS:GPSLongitude': 70.6693, 'GPS:GPSLongitudeRef': 'W' };
    expect(diffAgainstFile(plan, same, 'embedded').changes).toEqual([]);
    // moved by ~10 m: a change; the unchanged ref is written along but not shown
    const moved = diffAgainstFile(plan, { ...same, 'GPS:GPSLatitude': 33.4490 }, 'embedded');
    expect(moved.changes).toEqual([{ field: 'GPS (GPS:GPSLatitude)', before: -33.449, after: -33.4489 }]);
    expect(moved.writeTags).toEqual({ 'GPS:GPSLatitude': 33.4489, 'GPS:GPSLatitudeRef': 'S' });
    // a northern copy of the same magnitude is a change: the hemisphere flipped
    expect(diffAgainstFile(plan, { ...same, 'GPS:GPSLatitudeRef': 'N' }, 'embedded').writeTags).toMatchObject({ 'GPS:GPSLatitudeRef': 'S' });
    // an XMP copy is kept in step; a sidecar gets signed XMP only
    expect(diffAgainstFile(plan, { ...same, 'XMP-exif:GPSLatitude': 10 }, 'embedded').writeTags).toEqual({ 'XMP-exif:GPSLatitude': -33.4489 });
    expect(diffAgainstFile(plan, {}, 'sidecar').writeTags).toEqual({ 'XMP-exif:GPSLatitude': -33.4489, 'XMP-exif:GPSLongitude': -70.6693 });
  });

  it('caption: all three places, IPTC only where the format has IPTC, and UTF-8 declared', () => {
    const plan = buildMetadataPlan(makeAsset({ exif: { description: 'Мария' } }), { modules: ['caption'] });
    expect(diffAgainstFile(plan, { ...JPEG, 'IFD0:ImageDescription': 'SONY DSC' }, 'embedded').writeTags).toEqual({
      'XMP-dc:Description': 'Мария',
      'IFD0:ImageDescription': 'Мария',
      'IPTC:Caption-Abstract': 'Мария',
      'IPTC:CodedCharacterSet': 'UTF8',
    });
    expect(diffAgainstFile(plan, { 'File:FileType': 'WEBP' }, 'embedded').writeTags).toEqual({ 'XMP-dc:Description': 'Мария', 'IFD0:ImageDescription': 'Мария' });
    expect(diffAgainstFile(plan, {}, 'sidecar').writeTags).toEqual({ 'XMP-dc:Description': 'Мария', 'XMP-tiff:ImageDescription': 'Мария' });
    const trailingSpace = { ...JPEG, 'XMP-dc:Description': 'Мария', 'IFD0:ImageDescription': 'Мария ', 'IPTC:Caption-Abstract': 'Мария' };
    expect(diffAgainstFile(plan, trailingSpace, 'embedded').changes).toEqual([]);
  });

  it("escapes only the '&' that would start an HTML entity (exiftool-vendored's write decodes them)", () => {
    const plan = buildMetadataPlan(makeAsset({ exif: { description: 'Tom &amp; Jerry & co &#169;' } }), { modules: ['caption'] });
    const { writeTags, changes } = diffAgainstFile(plan, { 'File:FileType': 'WEBP' }, 'embedded');
    expect(writeTags['XMP-dc:Description']).toBe('Tom &#38;amp; Jerry & co &#38;#169;');
    expect(changes[0].after).toBe('Tom &amp; Jerry & co &#169;'); // Dry Run shows the text itself
  });

  it('rating: XMP always, the EXIF copy only when the file has one', () => {
    const plan = buildMetadataPlan(makeAsset({ exif: { rating: 4 } }), { modules: ['rating'] });
    expect(diffAgainstFile(plan, JPEG, 'embedded').writeTags).toEqual({ 'XMP-xmp:Rating': 4 });
    expect(diffAgainstFile(plan, { ...JPEG, 'XMP-xmp:Rating': 4, 'IFD0:Rating': 1 }, 'embedded').writeTags).toEqual({ 'IFD0:Rating': 4 });
    expect(diffAgainstFile(plan, { ...JPEG, 'XMP-xmp:Rating': 4 }, 'embedded').changes).toEqual([]);
  });

  it('time: EXIF, offsets, XMP and IPTC consistent; equal values are no change', () => {
    const asset = makeAsset({ localDateTime: '2019-03-21T11:04:22.348Z', exif: { dateTimeOriginal: '2019-03-21T16:04:22.348Z', timeZone: 'America/Chicago' } });
    const plan = buildMetadataPlan(asset, { modules: ['time'] });
    const { writeTags } = diffAgainstFile(plan, JPEG, 'embedded');
    expect(writeTags).toEqual({
      'XMP-exif:DateTimeOriginal': '2019:03:21 11:04:22.348-05:00',
      'XMP-xmp:CreateDate': '2019:03:21 11:04:22.348-05:00',
      'XMP-photoshop:DateCreated': '2019:03:21 11:04:22.348-05:00',
      'ExifIFD:DateTimeOriginal': '2019:03:21 11:04:22',
      'ExifIFD:SubSecTimeOriginal': '348',
      'ExifIFD:OffsetTimeOriginal': '-05:00',
      'ExifIFD:CreateDate': '2019:03:21 11:04:22',
      'ExifIFD:SubSecTimeDigitized': '348',
      'ExifIFD:OffsetTimeDigitized': '-05:00',
      'IPTC:DateCreated': '2019:03:21',
      'IPTC:TimeCreated': '11:04:22-05:00',
      'IPTC:CodedCharacterSet': 'UTF8',
    });
    const current = {
      ...JPEG,
      'XMP-exif:DateTimeOriginal': '2019:03:21 11:04:22.348-05:00',
      'XMP-xmp:CreateDate': '2019:03:21 11:04:22.348-05:00',
      'XMP-photoshop:DateCreated': '2019:03:21 11:04:22.348-05:00',
      'ExifIFD:DateTimeOriginal': '2019:03:21 11:04:22',
      'ExifIFD:SubSecTimeOriginal': 348,
      'ExifIFD:OffsetTimeOriginal': '-05:00',
      'ExifIFD:CreateDate': '2019:03:21 11:04:22',
      'ExifIFD:SubSecTimeDigitized': '3480',
      'ExifIFD:OffsetTimeDigitized': '-05:00',
      'IPTC:DateCreated': '2019:03:21',
      'IPTC:TimeCreated': '11:04:22-05:00',
    };
    expect(diffAgainstFile(plan, current, 'embedded').changes).toEqual([]);
  });

  it('time without a zone: written at +00:00 everywhere (GPS must not give it a zone), a stale sub-second value removed', () => {
    const asset = makeAsset({ localDateTime: '2012-08-05T11:39:59.000Z', exif: { dateTimeOriginal: '2012-08-05T11:39:59.000Z', timeZone: null } });
    const plan = buildMetadataPlan(asset, { modules: ['time'] });
    const { writeTags } = diffAgainstFile(plan, { ...JPEG, 'ExifIFD:DateTimeOriginal': '2012:08:05 11:39:59', 'ExifIFD:SubSecTimeOriginal': '85' }, 'embedded');
    expect(writeTags).toEqual({
      'XMP-exif:DateTimeOriginal': '2012:08:05 11:39:59+00:00',
      'XMP-xmp:CreateDate': '2012:08:05 11:39:59+00:00',
      'XMP-photoshop:DateCreated': '2012:08:05 11:39:59+00:00',
      'ExifIFD:SubSecTimeOriginal': null,
      'ExifIFD:OffsetTimeOriginal': '+00:00',
      'ExifIFD:CreateDate': '2012:08:05 11:39:59',
      'ExifIFD:OffsetTimeDigitized': '+00:00',
      'IPTC:CodedCharacterSet': 'UTF8',
      'IPTC:DateCreated': '2012:08:05',
      'IPTC:TimeCreated': '11:39:59+00:00',
    });
  });

  it('time without a zone: a zone-less XMP date or a file offset of another zone is rewritten', () => {
    const asset = makeAsset({ localDateTime: '2012-08-05T11:39:59.000Z', exif: { dateTimeOriginal: '2012-08-05T11:39:59.000Z', timeZone: null } });
    const plan = buildMetadataPlan(asset, { modules: ['time'] });
    const current = {
      ...JPEG,
      'XMP-exif:DateTimeOriginal': '2012:08:05 11:39:59',
      'ExifIFD:DateTimeOriginal': '2012:08:05 11:39:59',
      'ExifIFD:OffsetTimeOriginal': '+08:00',
    };
    const { writeTags } = diffAgainstFile(plan, current, 'embedded');
    expect(writeTags['XMP-exif:DateTimeOriginal']).toBe('2012:08:05 11:39:59+00:00');
    expect(writeTags['ExifIFD:OffsetTimeOriginal']).toBe('+00:00');
    expect(writeTags).not.toHaveProperty('ExifIFD:DateTimeOriginal');
  });

  it('albums: Event replaced only when empty or ours; the user comment only on request', () => {
    const plan = buildMetadataPlan(makeAsset({ albums: ['Trips', 'Japan'] }), { modules: ['albums'], albumsInUserComment: true });
    const fresh = diffAgainstFile(plan, JPEG, 'embedded');
    expect(fresh.writeTags).toMatchObject({
      'XMP-lr:HierarchicalSubject': ['Albums|Trips', 'Albums|Japan'],
      'XMP-iptcExt:Event': 'Trips; Japan',
      'ExifIFD:UserComment': 'Trips; Japan',
    });
    const ours = { ...JPEG, 'XMP-lr:HierarchicalSubject': ['Albums|Old'], 'XMP-iptcExt:Event': 'Old', 'ExifIFD:UserComment': 'Camera notes' };
    const diff = diffAgainstFile(plan, ours, 'embedded');
    expect(diff.writeTags['XMP-iptcExt:Event']).toBe('Trips; Japan');
    expect(diff.writeTags['XMP-lr:HierarchicalSubject']).toEqual(['Albums|Trips', 'Albums|Japan']);
    expect(diff.writeTags).not.toHaveProperty('ExifIFD:UserComment');
    expect(diff.notes.join()).toMatch(/Camera notes/);
    const leftAll = buildMetadataPlan(makeAsset({ albums: [] }), { modules: ['albums'] });
    expect(diffAgainstFile(leftAll, ours, 'embedded').writeTags).toEqual({ 'XMP-lr:HierarchicalSubject': null, 'XMP-iptcExt:Event': null });
    const foreignEvent = diffAgainstFile(leftAll, { ...JPEG, 'XMP-iptcExt:Event': 'Wedding' }, 'embedded');
    expect(foreignEvent.changes).toEqual([]);
    expect(foreignEvent.notes).toEqual([]);
  });

  it('faces: regions for the stored frame of the file, tolerant to Immich flooring', () => {
    const asset = makeAsset({ faces: [face('Anna', [100, 100, 200, 300], 1000, 500)] });
    const plan = buildMetadataPlan(asset, { modules: ['faces'] });
    const current = { ...JPEG, 'File:ImageWidth': 500, 'File:ImageHeight': 1000, 'IFD0:Orientation': 6 };
    const { writeTags, changes } = diffAgainstFile(plan, current, 'embedded');
    const info = writeTags['XMP-mwg-rs:RegionInfo'] as { AppliedToDimensions: object; RegionList: { Area: Record<string, number>; Name: string; Type: string }[] };
    expect(info.AppliedToDimensions).toEqual({ W: 500, H: 1000, Unit: 'pixel' });
    // displayed (100..200, 100..300) of 1000×500 → stored x = y_d, y = 1 - x_d
    const area = info.RegionList[0].Area;
    expect(area.X * 500).toBeCloseTo(200, 0);
    expect(area.Y * 1000).toBeCloseTo(850, 0);
    expect(area.W * 500).toBeCloseTo(200, 0);
    expect(area.H * 1000).toBeCloseTo(100, 0);
    expect(changes[0]).toEqual({ field: 'Face regions (XMP-mwg-rs:RegionInfo)', before: [], after: ['Anna: 100,100–200,300 of 1000×500'] });
    // The Windows region is the same stored-frame box by its top-left corner.
    expect(writeTags['XMP-MP:RegionInfoMP']).toEqual({ Regions: [{ PersonDisplayName: 'Anna', Rectangle: expect.any(String) }] });
    const [x, y, w, h] = ((writeTags['XMP-MP:RegionInfoMP'] as { Regions: { Rectangle: string }[] }).Regions[0].Rectangle).split(', ').map(Number);
    expect([x, y, w, h]).toEqual([area.X - area.W / 2, area.Y - area.H / 2, area.W, area.H].map((v) => Math.round(v * 1e6) / 1e6));
    expect(changes[1]).toEqual({ field: 'Windows people regions (XMP-MP:RegionInfoMP)', before: [], after: ['Anna: 100,100–200,300 of 1000×500'] });

    const floored = { ...current, 'XMP-MP:RegionInfoMP': { Regions: [{ PersonDisplayName: 'Anna', Rectangle: '0.201, 0.8005, 0.4, 0.1' }] }, 'XMP-mwg-rs:RegionInfo': { AppliedToDimensions: { W: 500, H: 1000, Unit: 'pixel' }, RegionList: [{ Name: 'Anna', Type: 'Face', Area: { X: 0.401, Y: 0.8505, W: 0.4, H: 0.1, Unit: 'normalized' } }] } };
    expect(diffAgainstFile(plan, floored, 'embedded').changes).toEqual([]);
    const moved = { ...floored, 'XMP-mwg-rs:RegionInfo': { ...floored['XMP-mwg-rs:RegionInfo'], RegionList: [{ Name: 'Anna', Type: 'Face', Area: { X: 0.45, Y: 0.85, W: 0.4, H: 0.1 } }] } };
    expect(diffAgainstFile(plan, moved, 'embedded').changes).toHaveLength(1);
  });

  it('faces: a sidecar falls back to Immich for the image size and orientation; no size means a note', () => {
    const asset = makeAsset({ faces: [face('Anna', [0, 0, 10, 10], 100, 100)], exif: { exifImageWidth: 100, exifImageHeight: 100 } });
    expect(diffAgainstFile(buildMetadataPlan(asset, { modules: ['faces'] }), {}, 'sidecar').writeTags).toHaveProperty('XMP-mwg-rs:RegionInfo');
    const unknown = makeAsset({ faces: [face('Anna', [0, 0, 10, 10], 100, 100)] });
    const diff = diffAgainstFile(buildMetadataPlan(unknown, { modules: ['faces'] }), {}, 'sidecar');
    expect(diff.writeTags).toEqual({});
    expect(diff.notes.join()).toMatch(/image size is unknown/);
  });

  it("faces: a renamed person's region is replaced, a stranger's stays, no named face removes nothing", () => {
    const region = (Name: string, X: number) => ({ Name, Type: 'Face', Area: { X, Y: 0.5, W: 0.1, H: 0.1, Unit: 'normalized' } });
    const current = {
      ...JPEG,
      'File:ImageWidth': 100,
      'File:ImageHeight': 100,
      'XMP-lr:HierarchicalSubject': ['People|Marie'],
      'XMP-mwg-rs:RegionInfo': { AppliedToDimensions: { W: 100, H: 100, Unit: 'pixel' }, RegionList: [region('Marie', 0.2), region('Stranger', 0.8)] },
    };
    const renamed = buildMetadataPlan(makeAsset({ faces: [face('Marie Curie', [15, 45, 25, 55], 100, 100)] }), { modules: ['faces'] });
    const info = diffAgainstFile(renamed, current, 'embedded').writeTags['XMP-mwg-rs:RegionInfo'] as { RegionList: { Name: string }[] };
    expect(info.RegionList.map((r) => r.Name)).toEqual(['Stranger', 'Marie Curie']);
    const nobody = buildMetadataPlan(makeAsset({ faces: [] }), { modules: ['faces'] });
    expect(diffAgainstFile(nobody, current, 'embedded').changes).toEqual([]);
  });

  it("faces: the Windows regions follow the same ownership rule (renamed replaced, stranger and unnamed kept, DateRegionsValid kept)", () => {
    const current = {
      ...JPEG,
      'File:ImageWidth': 100,
      'File:ImageHeight': 100,
      'XMP-lr:HierarchicalSubject': ['People|Marie'],
      'XMP-MP:RegionInfoMP': {
        DateRegionsValid: '2020:01:01 00:00:00',
        Regions: [{ PersonDisplayName: 'Marie', Rectangle: '0.15, 0.45, 0.1, 0.1' }, { PersonDisplayName: 'Stranger', Rectangle: '0.75, 0.45, 0.1, 0.1' }, { Rectangle: '0.5, 0.5, 0.1, 0.1' }],
      },
    };
    const renamed = buildMetadataPlan(makeAsset({ faces: [face('Marie Curie', [15, 45, 25, 55], 100, 100)] }), { modules: ['faces'] });
    const diff = diffAgainstFile(renamed, current, 'embedded');
    const info = diff.writeTags['XMP-MP:RegionInfoMP'] as { DateRegionsValid: string; Regions: { PersonDisplayName?: string; Rectangle: string }[] };
    expect(info.DateRegionsValid).toBe('2020:01:01 00:00:00');
    expect(info.Regions.map((r) => r.PersonDisplayName ?? '(unnamed)')).toEqual(['Stranger', '(unnamed)', 'Marie Curie']);
    expect(diff.changes.find((c) => c.field.startsWith('Windows'))).toMatchObject({ before: ['Marie: 15,45–25,55 of 100×100'], after: ['Marie Curie: 15,45–25,55 of 100×100'] });
    const replace = buildMetadataPlan(makeAsset({ faces: [face('Marie Curie', [15, 45, 25, 55], 100, 100)] }), { modules: ['faces'], replaceForeignRegions: true });
    expect((diffAgainstFile(replace, current, 'embedded').writeTags['XMP-MP:RegionInfoMP'] as typeof info).Regions.map((r) => r.PersonDisplayName)).toEqual(['Marie Curie']);
    const off = buildMetadataPlan(makeAsset({ faces: [face('Marie Curie', [15, 45, 25, 55], 100, 100)] }), { modules: ['faces'], microsoftRegions: false });
    expect(diffAgainstFile(off, current, 'embedded').writeTags['XMP-MP:RegionInfoMP']).toBeUndefined();
    const nobody = buildMetadataPlan(makeAsset({ faces: [] }), { modules: ['faces'] });
    expect(diffAgainstFile(nobody, current, 'embedded').changes).toEqual([]);
  });

  it('people: while Immich lists nobody, the people in the file are kept (with a note)', () => {
    const plan = buildMetadataPlan(makeAsset({ people: [] }), { modules: ['people'] });
    const current = { ...JPEG, 'XMP-lr:HierarchicalSubject': ['People|Anna'], 'XMP-dc:Subject': 'Anna', 'XMP-iptcExt:PersonInImage': 'Anna' };
    const diff = diffAgainstFile(plan, current, 'embedded');
    expect(diff.changes).toEqual([]);
    expect(diff.notes).toEqual(["Immich lists no people for this asset; the file's people are kept (Anna)"]);
  });

  it('keywords: people, albums and tags share one write per list', () => {
    const plan = buildMetadataPlan(makeAsset({ people: [person('Anna')], albums: ['Trips'], tags: ['Travel/Japan'] }), { modules: ['people', 'albums', 'tags'] });
    const { writeTags } = diffAgainstFile(plan, { ...JPEG, 'IPTC:Keywords': 'mine' }, 'embedded');
    expect(writeTags['XMP-lr:HierarchicalSubject']).toEqual(['mine', 'People|Anna', 'Albums|Trips', 'Travel|Japan']);
    expect(writeTags['XMP-dc:Subject']).toEqual(['mine', 'Anna', 'Japan']);
    expect(writeTags['IPTC:Keywords']).toEqual(['mine', 'Anna', 'Japan']);
    expect(writeTags['XMP-iptcExt:PersonInImage']).toEqual(['Anna']);
    expect(writeTags).not.toHaveProperty('XMP-digiKam:TagsList');
  });
});
