/** Pure parts of the client: request body mapping, DTO conversion, bounded concurrency. */
import fc from 'fast-check';
import { searchBody } from '../../lib/immich/client';
import { mapWithConcurrency, settleWithConcurrency } from '../../lib/immich/concurrency';
import { facesFromV2, facesFromV3, toSummary, type AssetDto } from '../../lib/immich/dto';

test('searchBody: defaults exclude trash and sort oldest first; empty filters are left out', () => {
  expect(searchBody({})).toEqual({ order: 'asc', withDeleted: false });
  expect(searchBody({ albumIds: [], personIds: [' '], takenAfter: '', withExif: false, isFavorite: false })).toEqual({ order: 'asc', withDeleted: false, isFavorite: false });
  expect(searchBody({ includeTrashed: true, updatedAfter: '2024-05-01T10:00:00+02:00' })).toEqual({ order: 'asc', withDeleted: true, updatedAfter: '2024-05-01T08:00:00.000Z' });
});

const asset: AssetDto = {
  id: 'a',
  type: 'IMAGE',
  originalPath: '/x/a.jpg',
  originalFileName: 'a.jpg',
  updatedAt: '2024-01-01T00:00:00.000Z',
  fileCreatedAt: '2024-01-01T00:00:00.000Z',
  localDateTime: '2024-01-01T00:00:00.000Z',
  isFavorite: false,
  isTrashed: false,
  isArchived: true,
  people: [{ id: 'p1', name: 'Ana', isHidden: false, faces: [{ id: 'f1', boundingBoxX1: 1, boundingBoxY1: 2, boundingBoxX2: 3, boundingBoxY2: 4, imageWidth: 10, imageHeight: 20, sourceType: 'exif' }] }],
  unassignedFaces: [{ id: 'f2', boundingBoxX1: 5, boundingBoxY1: 6, boundingBoxX2: 7, boundingBoxY2: 8, imageWidth: 10, imageHeight: 20 }],
  exifInfo: { orientation: 6 as unknown as string, rating: 3 },
};

test('v1/v2 DTOs: archive flag becomes visibility, numeric orientation becomes text, nested faces are read', () => {
  const summary = toSummary(asset);
  expect(summary.visibility).toBe('archive');
  expect(summary.isEdited).toBe(false);
  expect(summary.exif?.orientation).toBe('6');
  expect(facesFromV2(asset)).toEqual([
    { id: 'f1', personId: 'p1', personName: 'Ana', personHidden: false, x1: 1, y1: 2, x2: 3, y2: 4, imageWidth: 10, imageHeight: 20, sourceType: 'exif' },
    { id: 'f2', personId: null, personName: null, personHidden: false, x1: 5, y1: 6, x2: 7, y2: 8, imageWidth: 10, imageHeight: 20, sourceType: 'machine-learning' },
  ]);
  expect(facesFromV3([{ id: 'f3', boundingBoxX1: 0, boundingBoxY1: 0, boundingBoxX2: 1, boundingBoxY2: 1, imageWidth: 2, imageHeight: 2, sourceType: 'manual', person: { id: 'p2', name: '  ', isHidden: true } }])[0]).toMatchObject({
    personId: 'p2',
    personName: null,
    personHidden: true,
    sourceType: 'manual',
  });
});

test('mapWithConcurrency keeps order and never exceeds the limit', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.nat(5), { maxLength: 40 }), fc.integer({ min: 1, max: 6 }), async (delays, limit) => {
      let inFlight = 0;
      let peak = 0;
      const out = await mapWithConcurrency(delays, limit, async (d, i) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        for (let k = 0; k < d; k++) await Promise.resolve();
        inFlight--;
        return i * 2;
      });
      expect(out).toEqual(delays.map((_d, i) => i * 2));
      expect(peak).toBeLessThanOrEqual(limit);
    }),
  );
});

test('settleWithConcurrency reports failures per item', async () => {
  const out = await settleWithConcurrency([1, 2, 3], 2, async (n) => {
    if (n === 2) throw new Error('two');
    return n;
  });
  expect(out.map((r) => (r.ok ? r.value : r.error.message))).toEqual([1, 'two', 3]);
});
