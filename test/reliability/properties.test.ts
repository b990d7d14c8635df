/**
 * Property-based tests (fast-check, fixed seeds so failures reproduce):
 *  - the tag builder with real ExifTool: after a write the file holds the plan (the diff is empty, a
 *    second write is "unchanged") and every foreign keyword the file had is still there;
 *  - face boxes: displayed → stored (what we write) → displayed (Immich's reading rule) is the
 *    identity within 1 px, for all 8 orientations;
 *  - path mapping: whatever the server sends and whatever symlinks the library holds, a path that is
 *    accepted is inside the real library root.
 */
import type { ExifTool, WriteTags } from 'exiftool-vendored';
import fc from 'fast-check';
import { copyFileSync, chmodSync, existsSync, lstatSync, mkdirSync, readlinkSync, realpathSync, symlinkSync } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { checkRealPathInside, isInside, mapAssetPath, type PathMapping } from '../../lib/files/pathMapping';
import { writeAssetFile } from '../../lib/files/writer';
import type { ImmichFace } from '../../lib/immich/types';
import { diffAgainstFile } from '../../lib/metadata/diff';
import { displayedDimensions, type ExifOrientation } from '../../lib/metadata/faceGeometry';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { interpretTags } from '../helpers/immichRead';
import { detailsFor, removeTempDirs, sample, tempDir } from './support';
import { hashingExifTool, remainingChanges } from './verify';

jest.setTimeout(600_000);

let exiftool: ExifTool;
let checker: ExifTool;
beforeAll(() => {
  exiftool = createExifTool({ maxProcs: 2 });
  checker = hashingExifTool();
});
afterAll(async () => {
  await Promise.all([exiftool.end(), checker.end()]);
  removeTempDirs();
});

/* ---------------- tag builder + writer, real ExifTool ---------------- */

/** Printable text as people type it (any script), no control characters, not blank. */
const word = fc
  .string({ unit: fc.oneof(fc.constantFrom(...Array.from('abcXYZ éøßЖж東京مر👩‍🔬 -_.\'&')), fc.constantFrom('Ä', 'ñ', 'ł', '李', 'א')), minLength: 1, maxLength: 14 })
  .map((s) => s.trim())
  .filter((s) => s.length > 0 && !s.includes('|') && !s.includes('/'));

const foreignKeyword = word.filter((w) => !/^(People|Albums)$/i.test(w));

const assetArb = fc.record({
  names: fc.uniqueArray(word, { maxLength: 4, selector: (s) => s.toLowerCase() }),
  description: fc.oneof(fc.constant(''), word),
  rating: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 5 })),
  gps: fc.oneof(fc.constant(null), fc.record({ latitude: fc.double({ min: -89.9, max: 89.9, noNaN: true }), longitude: fc.double({ min: -179.9, max: 179.9, noNaN: true }) })),
  takenMs: fc.integer({ min: Date.parse('1990-01-01T00:00:00Z'), max: Date.parse('2035-12-31T00:00:00Z') }),
  offsetHours: fc.integer({ min: -11, max: 13 }),
  foreignFlat: fc.uniqueArray(foreignKeyword, { maxLength: 4 }),
  foreignHierarchical: fc.uniqueArray(fc.tuple(foreignKeyword, foreignKeyword).map(([a, b]) => `${a}|${b}`), { maxLength: 3 }),
});

async function seededCopy(foreignFlat: string[], foreignHierarchical: string[]): Promise<string> {
  const file = path.join(tempDir('prop'), '2024', '05', 'photo.jpg');
  mkdirSync(path.dirname(file), { recursive: true });
  copyFileSync(sample('metadata/rating/mongolels.jpg'), file);
  chmodSync(file, 0o644);
  if (foreignFlat.length + foreignHierarchical.length > 0) {
    const tags: Record<string, unknown> = {};
    if (foreignFlat.length) {
      tags['XMP-dc:Subject'] = foreignFlat;
      tags['IPTC:Keywords'] = foreignFlat;
      tags['IPTC:CodedCharacterSet'] = 'UTF8';
    }
    if (foreignHierarchical.length) tags['XMP-lr:HierarchicalSubject'] = foreignHierarchical;
    await checker.write(file, tags as WriteTags, { writeArgs: ['-overwrite_original'] });
  }
  return file;
}

async function keywordLists(file: string): Promise<{ subject: string[]; hierarchical: string[]; iptc: string[] }> {
  const raw = (await checker.readRaw(file, ['-G1', '-XMP-dc:Subject', '-XMP-lr:HierarchicalSubject', '-IPTC:Keywords'])) as Record<string, unknown>;
  const list = (v: unknown): string[] => ([] as unknown[]).concat(v ?? []).map(String);
  return { subject: list(raw['XMP-dc:Subject']), hierarchical: list(raw['XMP-lr:HierarchicalSubject']), iptc: list(raw['IPTC:Keywords']) };
}

test('property: after a write the file holds the plan (empty diff, second write unchanged) and keeps every foreign keyword', async () => {
  await fc.assert(
    fc.asyncProperty(assetArb, async (a) => {
      const file = await seededCopy(a.foreignFlat, a.foreignHierarchical);
      const sign = a.offsetHours < 0 ? '-' : '+';
      const details = detailsFor('/usr/src/app/upload/library/2024/05/photo.jpg', {
        names: a.names,
        exif: {
          description: a.description,
          rating: a.rating,
          latitude: a.gps?.latitude ?? null,
          longitude: a.gps?.longitude ?? null,
          dateTimeOriginal: new Date(a.takenMs).toISOString(),
          timeZone: `UTC${sign}${Math.abs(a.offsetHours)}`,
        },
      });
      const plan = buildMetadataPlan(details, { modules: ['people', 'gps', 'caption', 'time', 'rating'] });
      const opts = { assetId: details.id, target: 'embedded' as const, dryRun: false, keepModifyTime: false, backup: false };
      const first = await writeAssetFile(exiftool, file, plan, opts);
      expect({ status: first.status, reason: first.reason }).toEqual({ status: expect.stringMatching(/^(written|unchanged)$/), reason: undefined });
      if (first.status === 'written') expect(first.verified).toBe(true);
      expect(await remainingChanges(checker, file, plan)).toEqual([]);
      const second = await writeAssetFile(exiftool, file, plan, opts);
      expect({ status: second.status, changes: second.changes }).toEqual({ status: 'unchanged', changes: [] });

      const lists = await keywordLists(file);
      for (const k of a.foreignFlat) {
        expect(lists.subject).toContain(k);
        expect(lists.iptc).toContain(k);
      }
      for (const k of a.foreignHierarchical) expect(lists.hierarchical).toContain(k);
      for (const name of a.names) expect(lists.hierarchical).toContain(`People|${name}`);
      expect(lists.hierarchical.filter((k) => k.startsWith('People|'))).toHaveLength(a.names.length);
    }),
    { numRuns: Number(process.env.RELIABILITY_RUNS ?? 15), seed: 4242, endOnFailure: true },
  );
});

test('property: renaming and removing people replaces only our People| entries; foreign keywords stay', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(word, { minLength: 1, maxLength: 3, selector: (s) => s.toLowerCase() }),
      fc.uniqueArray(word, { maxLength: 3, selector: (s) => s.toLowerCase() }),
      fc.uniqueArray(foreignKeyword, { minLength: 1, maxLength: 3 }),
      async (before, after, foreign) => {
        const file = await seededCopy(foreign, foreign.map((f) => `Places|${f}`));
        const write = async (names: string[]) => {
          const details = detailsFor('/usr/src/app/upload/library/2024/05/photo.jpg', { names });
          const plan = buildMetadataPlan(details, { modules: ['people'] });
          const r = await writeAssetFile(exiftool, file, plan, { assetId: details.id, target: 'embedded', dryRun: false, keepModifyTime: false, backup: false });
          expect(r.status).not.toBe('failed');
        };
        await write(before);
        await write(after);
        const lists = await keywordLists(file);
        // No people in Immich at all keeps the file's (Immich may not have recognised anyone yet).
        const expectedPeople = after.length > 0 ? after : before;
        expect(lists.hierarchical.filter((k) => k.startsWith('People|')).sort()).toEqual(expectedPeople.map((n) => `People|${n}`).sort());
        for (const f of foreign) {
          expect(lists.subject).toContain(f);
          expect(lists.iptc).toContain(f);
          expect(lists.hierarchical).toContain(`Places|${f}`);
        }
        // A dropped person leaves no flat keyword behind (unless it is also foreign or still wanted).
        for (const gone of before.filter((n) => !expectedPeople.includes(n) && !foreign.includes(n))) expect(lists.subject).not.toContain(gone);
      },
    ),
    { numRuns: Number(process.env.RELIABILITY_RUNS ?? 10), seed: 777, endOnFailure: true },
  );
});

/* ---------------- face regions: displayed → stored → displayed ---------------- */

test('property: a face box written for any of the 8 orientations reads back in Immich within 1 px', () => {
  const arb = fc
    .record({
      orientation: fc.integer({ min: 1, max: 8 }),
      storedW: fc.integer({ min: 16, max: 9000 }),
      storedH: fc.integer({ min: 16, max: 9000 }),
      fx: fc.double({ min: 0, max: 0.9, noNaN: true }),
      fy: fc.double({ min: 0, max: 0.9, noNaN: true }),
      fw: fc.double({ min: 0.02, max: 1, noNaN: true }),
      fh: fc.double({ min: 0.02, max: 1, noNaN: true }),
    })
    .map((r) => {
      const shown = displayedDimensions(r.storedW, r.storedH, r.orientation as ExifOrientation);
      const x1 = Math.floor(r.fx * shown.width);
      const y1 = Math.floor(r.fy * shown.height);
      const x2 = Math.min(shown.width, x1 + Math.max(2, Math.floor(r.fw * (shown.width - x1))));
      const y2 = Math.min(shown.height, y1 + Math.max(2, Math.floor(r.fh * (shown.height - y1))));
      return { ...r, shown, box: { x1, y1, x2, y2 } };
    })
    .filter((r) => r.box.x2 > r.box.x1 && r.box.y2 > r.box.y1);

  fc.assert(
    fc.property(arb, ({ orientation, storedW, storedH, shown, box }) => {
      const face: ImmichFace = { id: 'f1', personId: 'p1', personName: 'Ada', personHidden: false, ...box, imageWidth: shown.width, imageHeight: shown.height, sourceType: 'manual' };
      const details = detailsFor('/usr/src/app/upload/library/2024/05/photo.jpg', {
        names: ['Ada'],
        faces: [face],
        exif: { orientation: String(orientation), exifImageWidth: storedW, exifImageHeight: storedH },
      });
      const plan = buildMetadataPlan(details, { modules: ['faces'] });
      // The file as ExifTool reads it before the write: its stored size and orientation, no regions.
      const current = { 'File:FileType': 'JPEG', 'File:ImageWidth': storedW, 'File:ImageHeight': storedH, 'IFD0:Orientation': orientation };
      const { writeTags } = diffAgainstFile(plan, current, 'embedded');
      const region = writeTags['XMP-mwg-rs:RegionInfo'];
      expect(region).toBeDefined();
      const read = interpretTags({ RegionInfo: region, Orientation: orientation });
      expect(read.faces).toHaveLength(1);
      const got = read.faces[0];
      expect({ w: got.imageWidth, h: got.imageHeight }).toEqual({ w: shown.width, h: shown.height });
      for (const [a, b] of [
        [got.boundingBoxX1, box.x1],
        [got.boundingBoxY1, box.y1],
        [got.boundingBoxX2, box.x2],
        [got.boundingBoxY2, box.y2],
      ]) {
        expect(Math.abs(a - b)).toBeLessThanOrEqual(1);
      }
    }),
    { numRuns: 3000, seed: 8 },
  );
});

/* ---------------- path mapping never escapes the root ---------------- */

const segmentArb = fc.oneof(
  fc.constantFrom('..', '.', '', '...', '..\\..', '%2e%2e', '\u0000', '~', 'a', 'b', 'link', 'loop', 'dangling', 'out', 'x.jpg', '2024', ' ', '\n'),
  fc.string({ maxLength: 5 }),
);

test('property: mapAssetPath only ever returns a path strictly inside the library root (both mappings)', () => {
  const root = '/srv/library';
  const mappingArb: fc.Arbitrary<PathMapping> = fc.oneof(
    fc.integer({ min: 1, max: 6 }).map((segments) => ({ mode: 'lastSegments' as const, segments })),
    fc.constantFrom('.', 'sub', '/srv/library/sub', '/srv/library').map((localPrefix) => ({ mode: 'prefix' as const, immichPrefix: '/usr/src/app/upload', localPrefix })),
  );
  fc.assert(
    fc.property(fc.array(segmentArb, { maxLength: 10 }), fc.boolean(), mappingArb, (segments, underPrefix, mapping) => {
      const originalPath = (underPrefix ? '/usr/src/app/upload/' : '/') + segments.join('/');
      const mapped = mapAssetPath('asset-1', originalPath, root, mapping);
      if (!mapped.ok) {
        expect(mapped.reason).toContain('asset-1');
        expect(mapped.reason).not.toMatch(/\u0000/);
        return;
      }
      expect(isInside(root, mapped.path)).toBe(true);
      expect(path.resolve(mapped.path)).toBe(mapped.path); // no "..", ".", or "//" left to resolve later
      expect(mapped.path).not.toMatch(/\u0000/);
    }),
    { numRuns: 20000, seed: 31337 },
  );
});

/** Independent oracle: where would a write to `p` land? Follows symlinks with the file system itself. */
function landingPlace(p: string): string {
  if (existsSync(p)) return realpathSync(p);
  let link: string | null = null;
  try {
    if (lstatSync(p).isSymbolicLink()) link = readlinkSync(p);
  } catch {
    // does not exist at all
  }
  if (link !== null) return landingPlace(path.resolve(path.dirname(p), link));
  const parent = path.dirname(p);
  if (parent === p) return p;
  return path.join(landingPlace(parent), path.basename(p));
}

test('property: with random symlinks in the library (in, out, dangling, loops), an accepted path lands inside the real root', async () => {
  const world = tempDir('prop-links');
  const root = path.join(world, 'library');
  const outside = path.join(world, 'outside');
  mkdirSync(path.join(root, 'a', 'b'), { recursive: true });
  mkdirSync(path.join(outside, 'a'), { recursive: true });
  const targets = [outside, path.join(outside, 'a'), path.join(root, 'a'), path.join(root, 'a', 'b'), path.join(world, 'nowhere'), '../../outside', '..', '.', 'loop'];
  const linkNames = ['link', 'loop', 'dangling', 'out'];

  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ where: fc.constantFrom('', 'a', 'a/b'), name: fc.constantFrom(...linkNames), target: fc.constantFrom(...targets) }), { maxLength: 5 }),
      fc.array(fc.constantFrom('a', 'b', ...linkNames, 'x.jpg', 'x.jpg.xmp'), { minLength: 1, maxLength: 6 }),
      async (links, segments) => {
        // A fresh layout per run: remove the previous links, create these.
        for (const where of ['', 'a', 'a/b']) {
          for (const name of linkNames) {
            const p = path.join(root, where, name);
            try {
              if (lstatSync(p).isSymbolicLink()) require('fs').unlinkSync(p);
            } catch {
              // not there
            }
          }
        }
        for (const l of links) {
          const p = path.join(root, l.where, l.name);
          if (!existsSync(p) && !isSymlink(p)) symlinkSync(l.target === 'loop' ? p : l.target, p);
        }
        const mapped = mapAssetPath('asset-1', `/usr/src/app/upload/${segments.join('/')}`, root, { mode: 'prefix', immichPrefix: '/usr/src/app/upload', localPrefix: '.' });
        if (!mapped.ok) return;
        const checked = await checkRealPathInside('asset-1', root, mapped.path);
        if (!checked.ok) return;
        let landing: string;
        try {
          landing = landingPlace(mapped.path);
        } catch (error) {
          // A loop the oracle cannot resolve: the product must have refused it.
          throw new Error(`accepted ${mapped.path}, which the file system cannot resolve (${(error as Error).message})`);
        }
        expect({ path: mapped.path, inside: isInside(realpathSync(root), landing) }).toEqual({ path: mapped.path, inside: true });
      },
    ),
    { numRuns: 400, seed: 99 },
  );
});

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
