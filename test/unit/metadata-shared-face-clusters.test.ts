/**
 * Faces without a person (`person: null`) count as unassigned. On a server with shared face clusters (Immich v3.2+)
 * such a face may be a person only another cluster member sees: a person the file names is then never removed —
 * not from the keywords, PersonInImage or the face regions — while additions still happen.
 */
import { diffAgainstFile } from '../../lib/metadata/diff';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import type { ImmichAssetDetails } from '../../lib/immich/types';
import type { BuildOptions } from '../../lib/metadata/options';
import { face, makeAsset, person } from '../integration/roundtrip-support';

const FILE = { 'File:FileType': 'JPEG', 'File:ImageWidth': 1000, 'File:ImageHeight': 500 };
const OPTIONS: Partial<BuildOptions> = { modules: ['people', 'faces'] };

const anna = face('Anna', [100, 100, 200, 300], 1000, 500);
const bob = face('Bob', [500, 100, 600, 300], 1000, 500);
/** Bob's face as a v3.2 server shows it when Bob's person belongs to a shared face cluster. */
const bobUnassigned = { ...bob, personId: null, personName: null };

/** The file as a first sync wrote it, naming Anna and Bob. */
function fileNamingAnnaAndBob(): Record<string, unknown> {
  const plan = buildMetadataPlan(makeAsset({ people: [person('Anna'), person('Bob')], faces: [anna, bob] }), OPTIONS);
  return { ...FILE, ...diffAgainstFile(plan, FILE, 'embedded').writeTags };
}

function diffNow(asset: Partial<ImmichAssetDetails>, options: Partial<BuildOptions> = {}) {
  return diffAgainstFile(buildMetadataPlan(makeAsset(asset), { ...OPTIONS, ...options }), fileNamingAnnaAndBob(), 'embedded');
}

const regionNames = (value: unknown) => ((value as { RegionList: Array<{ Name: string }> }).RegionList ?? []).map((r) => r.Name).sort();

test('the file names both people; with shared clusters, Bob shown unassigned is kept: nothing to write', () => {
  const file = fileNamingAnnaAndBob();
  expect(regionNames(file['XMP-mwg-rs:RegionInfo'])).toEqual(['Anna', 'Bob']);
  const diff = diffNow({ sharedFaceClusters: true, people: [person('Anna')], faces: [anna, bobUnassigned] });
  expect(diff.writeTags).toEqual({});
  expect(diff.notes.join(' ')).toMatch(/faces without a person .*kept \(Bob\)/);
});

test('with shared clusters a newly named person is still added, Bob still kept, even with replaceForeignRegions', () => {
  const carl = face('Carl', [700, 100, 800, 300], 1000, 500);
  const diff = diffNow({ sharedFaceClusters: true, people: [person('Anna'), person('Carl')], faces: [anna, bobUnassigned, carl] }, { replaceForeignRegions: true });
  expect([...(diff.writeTags['XMP-iptcExt:PersonInImage'] as string[])].sort()).toEqual(['Anna', 'Bob', 'Carl']);
  expect(diff.writeTags['XMP-lr:HierarchicalSubject']).toEqual(expect.arrayContaining(['People|Anna', 'People|Bob', 'People|Carl']));
  expect(regionNames(diff.writeTags['XMP-mwg-rs:RegionInfo'])).toEqual(['Anna', 'Bob', 'Carl']);
});

test('without shared clusters (v3.1) an unassigned face is just unassigned: Bob, no longer on the asset, is removed', () => {
  const diff = diffNow({ people: [person('Anna')], faces: [anna, bobUnassigned] });
  expect(diff.writeTags['XMP-iptcExt:PersonInImage']).toEqual(['Anna']);
  expect(regionNames(diff.writeTags['XMP-mwg-rs:RegionInfo'])).toEqual(['Anna']);
});

test('with shared clusters but no face without a person, a removed person leaves the file as before', () => {
  const diff = diffNow({ sharedFaceClusters: true, people: [person('Anna')], faces: [anna] });
  expect(diff.writeTags['XMP-lr:HierarchicalSubject']).toEqual(['People|Anna']);
  expect(regionNames(diff.writeTags['XMP-mwg-rs:RegionInfo'])).toEqual(['Anna']);
});
