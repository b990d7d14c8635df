/**
 * Keyword lists under the ownership rule (docs/ARCHITECTURE.md): entries under our roots are replaced by the
 * current state, everything else the file had stays. Hierarchies are kept in Immich's tag form internally
 * ("People/Marie Curie": "/" between levels, a level never contains "/"), and encoded per list.
 */

/** A name as one hierarchy level: "/" would split it, so it becomes "|" (what Immich does reading HierarchicalSubject). */
export function nameToLevel(name: string): string {
  return name.replaceAll('/', '|');
}

export function hierarchyValue(levels: string[]): string {
  return levels.map(nameToLevel).join('/');
}

/** Immich tag form → XMP-lr:HierarchicalSubject entry ("|" between levels). */
export function toHierarchicalSubject(value: string): string {
  return value
    .split('/')
    .map((level) => level.replaceAll('|', '/'))
    .join('|');
}

/** XMP-lr:HierarchicalSubject entry → Immich tag form (Immich's own reading rule). */
export function fromHierarchicalSubject(entry: string): string {
  return entry
    .split('|')
    .map((level) => level.replaceAll('/', '|'))
    .join('/');
}

/** The last level of a HierarchicalSubject entry as written (a person's or album's name). */
export function hierarchicalSubjectLeaf(entry: string): string {
  const levels = entry.split('|');
  return levels[levels.length - 1];
}

export function rootOf(value: string): string {
  return value.split('/')[0];
}

/** We only ever write <root>/<name>: deeper entries under the same root (digiKam's People/Family/Anna) are the user's. */
export function isOwnedValue(value: string, roots: ReadonlySet<string>): boolean {
  const levels = value.split('/');
  return levels.length === 2 && roots.has(levels[0]) && levels[1] !== '';
}

/** ExifTool returns one-element lists as a scalar and numeric keywords as numbers. */
export function toStringList(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => String(v)).filter((v) => v.length > 0);
}

export function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** Keep what is not ours, drop what is ours but no longer wanted, append what is wanted and missing. */
export function mergeOwned(current: string[], wanted: string[], isOurs: (entry: string) => boolean): string[] {
  const wantedSet = new Set(wanted);
  const kept = unique(current).filter((entry) => !isOurs(entry) || wantedSet.has(entry));
  const keptSet = new Set(kept);
  return [...kept, ...unique(wanted).filter((entry) => !keptSet.has(entry))];
}

export function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export interface KeywordLists {
  hierarchicalSubject: string[]; // "|"-separated entries
  tagsList: string[]; // "/"-separated entries
  subject: string[]; // XMP-dc:Subject
  iptcKeywords: string[];
  personInImage: string[];
}

export interface KeywordIntent {
  /** Roots whose entries are replaced by `hierarchy` (e.g. People, Albums). */
  managedRoots: string[];
  /** Wanted hierarchy values in Immich tag form (under managed roots, and Immich's own tags). */
  hierarchy: string[];
  /** Wanted flat keywords. */
  flat: string[];
  /** Roots whose leaves, found in the file, are flat keywords we wrote (People when flat keywords are on). */
  flatOwnerRoots: string[];
  /** Wanted XMP-iptcExt:PersonInImage names; null leaves the list alone. */
  personInImage: string[] | null;
  /** Roots whose leaves own PersonInImage names (People). */
  personOwnerRoots: string[];
}

export interface MergeSettings {
  /** Write a TagsList even when the file has none (a sidecar must mask the original's TagsList). */
  forceTagsList: boolean;
  /** Seed a new hierarchy with the file's flat keywords so Immich keeps reading them as tags, and a new
   * flat list (XMP or IPTC) with its twin. Only for embedded targets: a sidecar does not see the original. */
  bootstrapFromFlat: boolean;
  /** Limit each IPTC keyword to what IPTC allows (64 bytes). */
  iptcKeyword: (keyword: string) => string;
}

/** Names (leaves as written) of the file's entries under the given roots, from both hierarchy lists. */
export function leavesUnder(lists: Pick<KeywordLists, 'hierarchicalSubject' | 'tagsList'>, roots: string[]): Set<string> {
  const leaves = new Set<string>();
  const rootSet = new Set(roots);
  for (const entry of lists.hierarchicalSubject) {
    const levels = entry.split('|');
    if (levels.length === 2 && rootSet.has(levels[0])) leaves.add(levels[1]);
  }
  for (const entry of lists.tagsList) {
    const levels = entry.split('/');
    if (levels.length === 2 && rootSet.has(levels[0])) leaves.add(levels[1]);
  }
  return leaves;
}

/** The lists the file should hold after our write (same order as before, our additions appended). */
export function mergeKeywords(file: KeywordLists, intent: KeywordIntent, settings: MergeSettings): KeywordLists {
  const managed = new Set(intent.managedRoots);
  const hierarchy = unique(intent.hierarchy);

  let baseHierarchy = file.hierarchicalSubject;
  const fileHasHierarchy = file.hierarchicalSubject.length > 0 || file.tagsList.length > 0;
  if (!fileHasHierarchy && settings.bootstrapFromFlat && hierarchy.length > 0) {
    // Immich reads tags from the flat keywords only while no hierarchy exists; keep them as tags.
    const flat = file.subject.length > 0 ? file.subject : file.iptcKeywords;
    baseHierarchy = flat.map(toHierarchicalSubject);
  }
  const hierarchicalSubject = mergeOwned(baseHierarchy, hierarchy.map(toHierarchicalSubject), (entry) =>
    isOwnedValue(fromHierarchicalSubject(entry), managed),
  );

  const writeTagsList = file.tagsList.length > 0 || (settings.forceTagsList && (hierarchy.length > 0 || hierarchicalSubject.length > 0));
  let tagsList = file.tagsList;
  if (writeTagsList) {
    const base = file.tagsList.length > 0 ? file.tagsList : hierarchicalSubject.map(fromHierarchicalSubject);
    tagsList = mergeOwned(base, hierarchy, (entry) => isOwnedValue(entry, managed));
  }

  const ownedFlat = leavesUnder(file, intent.flatOwnerRoots);
  // MWG keeps XMP and IPTC keywords in step: a list we create starts from its twin, or readers that
  // prefer the new one would lose the old keywords.
  // Only when that list is written anyway: a list we would not touch is not created just to mirror its twin.
  const seeded = (own: string[], twin: string[], wanted: string[], isOurs: (k: string) => boolean) => {
    const merged = mergeOwned(own, wanted, isOurs);
    if (own.length > 0 || !settings.bootstrapFromFlat || sameList(merged, own)) return merged;
    return mergeOwned(twin, wanted, isOurs);
  };
  const subject = seeded(file.subject, file.iptcKeywords, intent.flat, (k) => ownedFlat.has(k));
  const ownedIptc = new Set([...ownedFlat].map(settings.iptcKeyword));
  const iptcKeywords = seeded(file.iptcKeywords, file.subject.map(settings.iptcKeyword), intent.flat.map(settings.iptcKeyword), (k) =>
    ownedIptc.has(k),
  );

  let personInImage = file.personInImage;
  if (intent.personInImage !== null) {
    const ownedNames = leavesUnder(file, intent.personOwnerRoots);
    personInImage = mergeOwned(file.personInImage, intent.personInImage, (name) => ownedNames.has(name));
  }

  return { hierarchicalSubject, tagsList, subject, iptcKeywords, personInImage };
}
