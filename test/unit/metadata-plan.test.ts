import { buildMetadataPlan, DEFAULT_BUILD_OPTIONS, MetadataPlanError } from '../../lib/metadata/plan';
import { ALL_MODULES } from '../../lib/metadata/types';
import { face, makeAsset, person } from '../integration/roundtrip-support';

describe('buildMetadataPlan', () => {
  it('uses the seed defaults and returns plain JSON', () => {
    const plan = buildMetadataPlan(makeAsset({ exif: { rating: 2 } }));
    expect(plan.modules).toEqual(DEFAULT_BUILD_OPTIONS.modules);
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
    expect(plan.rating).toEqual({ rating: 2 });
  });

  it('refuses unknown modules and assets without details, naming the asset', () => {
    expect(() => buildMetadataPlan(makeAsset(), { modules: ['peple' as never] })).toThrow(/Unknown metadata module.*peple/);
    const bare = { ...makeAsset({ originalFileName: 'IMG_1.jpg' }), exif: null } as never;
    expect(() => buildMetadataPlan(bare)).toThrow(MetadataPlanError);
    expect(() => buildMetadataPlan(bare)).toThrow(/asset-1 \(IMG_1.jpg\).*Get Asset Details/);
    const noFaces = { ...makeAsset(), faces: undefined } as never;
    expect(() => buildMetadataPlan(noFaces, { modules: ['faces'] })).toThrow(/"faces" list/);
  });

  describe('people', () => {
    it('takes named, visible people once, and plans even when there are none (to remove stale ones)', () => {
      const plan = buildMetadataPlan(makeAsset({ people: [person('Anna'), person(' '), person('Bob', true), person('Anna')] }), { modules: ['people'] });
      expect(plan.people).toEqual({ names: ['Anna'], personInImage: true, flatKeywords: true, hierarchicalKeywords: true });
      expect(buildMetadataPlan(makeAsset(), { modules: ['people'] }).people?.names).toEqual([]);
    });

    it('honours the per-target switches', () => {
      const plan = buildMetadataPlan(makeAsset({ people: [person('Anna')] }), { modules: ['people'], people: { flatKeywords: false } });
      expect(plan.people).toMatchObject({ personInImage: true, flatKeywords: false, hierarchicalKeywords: true });
      const off = buildMetadataPlan(makeAsset(), { modules: ['people'], people: { personInImage: false, flatKeywords: false, hierarchicalKeywords: false } });
      expect(off.people).toBeUndefined();
      expect(off.skipped[0].module).toBe('people');
    });
  });

  describe('faces', () => {
    it('normalizes boxes in the displayed frame, one per person, exif preferred, hidden and unnamed left out', () => {
      const asset = makeAsset({
        faces: [
          face('Anna', [100, 50, 200, 150], 1000, 500),
          face('Anna', [110, 55, 210, 160], 1000, 500, 'exif'),
          { ...face('Hidden', [0, 0, 10, 10], 100, 100), personHidden: true },
          face(null, [0, 0, 10, 10], 100, 100),
          face('Broken', [10, 10, 10, 20], 100, 100),
        ],
        exif: { exifImageWidth: 500, exifImageHeight: 1000, orientation: '6' },
      });
      const plan = buildMetadataPlan(asset, { modules: ['faces'] });
      expect(plan.faces!.faces).toEqual([
        { name: 'Anna', personId: 'person-Anna', sourceType: 'exif', displayed: { x1: 0.11, y1: 0.11, x2: 0.21, y2: 0.32 } },
      ]);
      expect(plan.faces).toMatchObject({ fallbackStoredWidth: 500, fallbackStoredHeight: 1000, fallbackOrientation: 6, replaceForeignRegions: false });
      expect(plan.notes.join()).toMatch(/Broken/);
    });

    it('skips edited assets and videos with a reason', () => {
      expect(buildMetadataPlan(makeAsset({ isEdited: true }), { modules: ['faces'] }).skipped[0].reason).toMatch(/edited/);
      expect(buildMetadataPlan(makeAsset({ type: 'VIDEO' }), { modules: ['faces'] }).skipped[0].reason).toMatch(/still images/);
    });
  });

  describe('gps', () => {
    it('plans a position, including south and west', () => {
      expect(buildMetadataPlan(makeAsset({ exif: { latitude: -33.9, longitude: -70.1 } }), { modules: ['gps'] }).gps).toEqual({ latitude: -33.9, longitude: -70.1 });
    });
    it('does nothing for a missing or impossible position', () => {
      expect(buildMetadataPlan(makeAsset({ exif: { latitude: null, longitude: 5 } }), { modules: ['gps'] }).gps).toBeUndefined();
      const bad = buildMetadataPlan(makeAsset({ exif: { latitude: 91, longitude: 5 } }), { modules: ['gps'] });
      expect(bad.gps).toBeUndefined();
      expect(bad.skipped[0].reason).toMatch(/out of range/);
    });
  });

  describe('caption', () => {
    it('keeps the file when Immich has no description, unless asked to clear', () => {
      expect(buildMetadataPlan(makeAsset({ exif: { description: '  ' } }), { modules: ['caption'] }).caption).toBeUndefined();
      expect(buildMetadataPlan(makeAsset({ exif: { description: '' } }), { modules: ['caption'], clearEmptyCaption: true }).caption).toEqual({ description: '' });
    });
    it('does not spread camera defaults', () => {
      const plan = buildMetadataPlan(makeAsset({ exif: { description: 'SONY DSC' } }), { modules: ['caption'] });
      expect(plan.caption).toBeUndefined();
      expect(plan.skipped[0].reason).toMatch(/camera default/);
    });
    it('trims like Immich', () => {
      expect(buildMetadataPlan(makeAsset({ exif: { description: ' Hi ' } }), { modules: ['caption'] }).caption).toEqual({ description: 'Hi' });
    });
  });

  describe('time', () => {
    it('derives the offset from localDateTime minus the instant', () => {
      const asset = makeAsset({ localDateTime: '2019-03-21T11:04:22.348Z', exif: { dateTimeOriginal: '2019-03-21T16:04:22.348Z', timeZone: 'America/Chicago' } });
      expect(buildMetadataPlan(asset, { modules: ['time'] }).time).toEqual({ local: '2019-03-21T11:04:22.348', offsetMinutes: -300 });
      const kolkata = makeAsset({ localDateTime: '2020-01-01T05:30:00.000Z', exif: { dateTimeOriginal: '2020-01-01T00:00:00.000Z', timeZone: 'UTC+5:30' } });
      expect(buildMetadataPlan(kolkata, { modules: ['time'] }).time?.offsetMinutes).toBe(330);
    });
    it('reads zone-less ISO strings as UTC, whatever the machine zone', () => {
      const asset = makeAsset({ localDateTime: '2019-03-21T11:04:22.348', exif: { dateTimeOriginal: '2019-03-21T16:04:22.348', timeZone: 'UTC-5' } });
      expect(buildMetadataPlan(asset, { modules: ['time'] }).time).toEqual({ local: '2019-03-21T11:04:22.348', offsetMinutes: -300 });
      const offsetForm = makeAsset({ localDateTime: '2019-03-21T11:04:22.348+00:00', exif: { dateTimeOriginal: '2019-03-21T16:04:22.348+00:00', timeZone: 'UTC-5' } });
      expect(buildMetadataPlan(offsetForm, { modules: ['time'] }).time?.offsetMinutes).toBe(-300);
    });

    it('writes +00:00 when Immich does not know the zone (it took the wall clock as UTC)', () => {
      const asset = makeAsset({ localDateTime: '2012-08-05T11:39:59.000Z', exif: { dateTimeOriginal: '2012-08-05T11:39:59.000Z', timeZone: null } });
      expect(buildMetadataPlan(asset, { modules: ['time'] }).time).toEqual({ local: '2012-08-05T11:39:59.000', offsetMinutes: 0 });
      // with GPS in Immich too: the position does not turn into an offset
      const withGps = makeAsset({ ...asset, exif: { ...asset.exif, latitude: 31.2304, longitude: 121.4737 } });
      expect(buildMetadataPlan(withGps, { modules: ['time', 'gps'] }).time).toEqual({ local: '2012-08-05T11:39:59.000', offsetMinutes: 0 });
    });
    it('skips missing times and impossible offsets with reasons', () => {
      const reason = (a: Parameters<typeof makeAsset>[0]) => buildMetadataPlan(makeAsset(a), { modules: ['time'] }).skipped[0]?.reason;
      expect(reason({})).toMatch(/no capture time/);
      expect(reason({ localDateTime: '2020-01-03T00:00:00.000Z', exif: { dateTimeOriginal: '2020-01-01T00:00:00.000Z', timeZone: 'X' } })).toMatch(/not a real time zone/);
      expect(reason({ localDateTime: '+042603-05-04T04:12:48.000Z', exif: { dateTimeOriginal: '+042603-05-04T04:12:48.000Z' } })).toMatch(/0001–9999/);
    });
  });

  describe('rating', () => {
    it.each([
      [null, false, undefined],
      [0, false, undefined],
      [7, false, undefined],
      [3, false, 3],
      [-1, false, -1],
      [3, true, 5],
      [null, true, 5],
    ])('rating %p, favourite %p → %p (with favourite-as-5)', (rating, isFavorite, wanted) => {
      const plan = buildMetadataPlan(makeAsset({ isFavorite, exif: { rating } }), { modules: ['rating'], favoriteAsFiveStars: true });
      expect(plan.rating?.rating).toBe(wanted);
    });
    it('a favourite is not 5 stars unless asked', () => {
      expect(buildMetadataPlan(makeAsset({ isFavorite: true }), { modules: ['rating'] }).rating).toBeUndefined();
    });
  });

  describe('albums and tags', () => {
    it('plans album names (even none) and the user-comment option', () => {
      expect(buildMetadataPlan(makeAsset({ albums: ['Trips', ' ', 'Trips'] }), { modules: ['albums'], albumsInUserComment: true }).albums).toEqual({ names: ['Trips'], userComment: true });
      expect(buildMetadataPlan(makeAsset(), { modules: ['albums'] }).albums).toEqual({ names: [], userComment: false });
    });
    it('drops echoes of our own People/ and Albums/ roots from Immich tags', () => {
      const plan = buildMetadataPlan(makeAsset({ tags: ['People/Anna', 'Albums/Trips', 'Travel/Japan', 'Peoples', 'People/Family/Eve'] }), { modules: ['tags'] });
      expect(plan.tags).toEqual({ values: ['Travel/Japan', 'Peoples', 'People/Family/Eve'] });
    });
  });

  it('plans every module in a fixed order', () => {
    const plan = buildMetadataPlan(makeAsset(), { modules: ['tags', 'people', 'faces'] });
    expect(plan.modules).toEqual(['people', 'faces', 'tags']);
    expect(ALL_MODULES).toHaveLength(8);
  });
});
