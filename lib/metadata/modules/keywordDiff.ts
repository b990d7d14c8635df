/** The keyword lists people, albums and tags share, diffed together so each list is written once. */
import type { DiffContext } from '../diffContext';
import { hierarchyValue, leavesUnder, mergeKeywords, sameList, toStringList, unique, type KeywordIntent, type KeywordLists } from '../keywords';
import { iptcKeyword } from '../text';
import { ALBUMS_ROOT, PEOPLE_ROOT, type MetadataPlan } from '../types';
import { tagLeaf } from './tags';

export const KEYWORD_TAGS = {
  embedded: ['XMP-lr:HierarchicalSubject', 'XMP-digiKam:TagsList', 'XMP-dc:Subject', 'IPTC:Keywords', 'XMP-iptcExt:PersonInImage'],
  sidecar: ['XMP-lr:HierarchicalSubject', 'XMP-digiKam:TagsList', 'XMP-dc:Subject', 'XMP-iptcExt:PersonInImage'],
};

export function hasKeywordModules(plan: MetadataPlan): boolean {
  return Boolean(plan.people || plan.albums || plan.tags);
}

export function keywordIntent(plan: MetadataPlan): KeywordIntent {
  const intent: KeywordIntent = {
    managedRoots: [],
    hierarchy: [],
    flat: [],
    flatOwnerRoots: [],
    personInImage: null,
    personOwnerRoots: [PEOPLE_ROOT],
  };
  // No people at all usually means Immich has not recognized anyone yet, not that everyone left: the file's
  // People| entries (ours, or digiKam's under the same root) are then kept rather than wiped.
  if (plan.people && plan.people.names.length > 0) {
    const { names, hierarchicalKeywords, flatKeywords, personInImage } = plan.people;
    if (hierarchicalKeywords) {
      intent.managedRoots.push(PEOPLE_ROOT);
      intent.hierarchy.push(...names.map((name) => hierarchyValue([PEOPLE_ROOT, name])));
    }
    if (flatKeywords) {
      intent.flat.push(...names);
      intent.flatOwnerRoots.push(PEOPLE_ROOT);
    }
    if (personInImage) intent.personInImage = [...names];
  }
  if (plan.albums) {
    intent.managedRoots.push(ALBUMS_ROOT);
    intent.hierarchy.push(...plan.albums.names.map((name) => hierarchyValue([ALBUMS_ROOT, name])));
  }
  if (plan.tags) {
    intent.hierarchy.push(...plan.tags.values);
    intent.flat.push(...plan.tags.values.map(tagLeaf));
  }
  return intent;
}

export function readKeywordLists(ctx: DiffContext): KeywordLists {
  return {
    hierarchicalSubject: toStringList(ctx.read('XMP-lr:HierarchicalSubject')),
    tagsList: toStringList(ctx.read('XMP-digiKam:TagsList')),
    subject: toStringList(ctx.read('XMP-dc:Subject')),
    iptcKeywords: ctx.capabilities.iptc ? toStringList(ctx.read('IPTC:Keywords')) : [],
    personInImage: toStringList(ctx.read('XMP-iptcExt:PersonInImage')),
  };
}

/** The file's people Immich does not list, when they must be kept (PeoplePlan.keepUnlistedPeople). */
function keptUnlistedPeople(plan: MetadataPlan, current: KeywordLists): string[] {
  if (!plan.people?.keepUnlistedPeople) return [];
  const listed = new Set(plan.people.names);
  return unique([...leavesUnder(current, [PEOPLE_ROOT]), ...current.personInImage]).filter((name) => !listed.has(name));
}

export function diffKeywords(planned: MetadataPlan, ctx: DiffContext): void {
  const current = readKeywordLists(ctx);
  const unlisted = keptUnlistedPeople(planned, current);
  const plan = unlisted.length > 0 && planned.people ? { ...planned, people: { ...planned.people, names: [...planned.people.names, ...unlisted] } } : planned;
  if (unlisted.length > 0) ctx.note(`Immich shows faces without a person (a shared face cluster may own them); the file's people Immich does not list are kept (${unlisted.join(', ')})`);
  else if (plan.people && plan.people.names.length === 0) {
    const kept = [...leavesUnder(current, [PEOPLE_ROOT])];
    if (kept.length > 0) ctx.note(`Immich lists no people for this asset; the file's people are kept (${kept.join(', ')})`);
  }
  const merged = mergeKeywords(current, keywordIntent(plan), {
    forceTagsList: ctx.target === 'sidecar',
    bootstrapFromFlat: ctx.target === 'embedded',
    iptcKeyword,
  });
  const lists: [keyof KeywordLists, string, string][] = [
    ['hierarchicalSubject', 'XMP-lr:HierarchicalSubject', 'Keywords (hierarchical)'],
    ['tagsList', 'XMP-digiKam:TagsList', 'Keywords (digiKam tags)'],
    ['subject', 'XMP-dc:Subject', 'Keywords'],
    ['personInImage', 'XMP-iptcExt:PersonInImage', 'People'],
  ];
  if (ctx.capabilities.iptc) lists.push(['iptcKeywords', 'IPTC:Keywords', 'Keywords']);
  for (const [key, tag, field] of lists) {
    if (sameList(current[key], merged[key])) continue;
    ctx.write(tag, merged[key].length > 0 ? merged[key] : null, field, current[key]);
  }
  const cut = merged.iptcKeywords.length > 0 && keywordIntent(plan).flat.some((k) => iptcKeyword(k) !== k);
  if (ctx.capabilities.iptc && cut) ctx.note('some IPTC keywords were cut to 64 bytes (the IPTC limit); XMP keeps them whole');
}
