import fc from 'fast-check';
import {
  fromHierarchicalSubject,
  hierarchyValue,
  leavesUnder,
  mergeKeywords,
  mergeOwned,
  toHierarchicalSubject,
  toStringList,
  type KeywordIntent,
  type KeywordLists,
} from '../../lib/metadata/keywords';
import { iptcKeyword, truncateUtf8 } from '../../lib/metadata/text';

const empty: KeywordLists = { hierarchicalSubject: [], tagsList: [], subject: [], iptcKeywords: [], personInImage: [] };
const noIntent: KeywordIntent = { managedRoots: [], hierarchy: [], flat: [], flatOwnerRoots: [], personInImage: null, personOwnerRoots: ['People'] };
const settings = { forceTagsList: false, bootstrapFromFlat: true, iptcKeyword };

function peopleIntent(names: string[]): KeywordIntent {
  return {
    ...noIntent,
    managedRoots: ['People'],
    hierarchy: names.map((n) => hierarchyValue(['People', n])),
    flat: names,
    flatOwnerRoots: ['People'],
    personInImage: names,
  };
}

describe('hierarchy encodings', () => {
  it("HierarchicalSubject round-trips Immich's tag values (Immich's own reading rule)", () => {
    const level = fc.string({ minLength: 1 }).filter((s) => !s.includes('/'));
    fc.assert(
      fc.property(fc.array(level, { minLength: 1, maxLength: 4 }), (levels) => {
        const value = levels.join('/');
        expect(fromHierarchicalSubject(toHierarchicalSubject(value))).toBe(value);
      }),
    );
    expect(toHierarchicalSubject('People/Marie Curie')).toBe('People|Marie Curie');
    expect(fromHierarchicalSubject('Music|AC/DC')).toBe('Music/AC|DC');
  });

  it('a name with "/" stays one level', () => {
    expect(hierarchyValue(['People', 'AC/DC'])).toBe('People/AC|DC');
    expect(toHierarchicalSubject(hierarchyValue(['People', 'AC/DC']))).toBe('People|AC/DC');
  });

  it('normalizes ExifTool list values', () => {
    expect(toStringList(undefined)).toEqual([]);
    expect(toStringList('one')).toEqual(['one']);
    expect(toStringList([2019, 'x'])).toEqual(['2019', 'x']);
  });

  it('finds the leaves under a root in both hierarchy lists', () => {
    const leaves = leavesUnder({ hierarchicalSubject: ['People|Anna', 'Places|Rome', 'People', 'People|Family|Eve'], tagsList: ['People/Bob'] }, ['People']);
    expect([...leaves].sort()).toEqual(['Anna', 'Bob']);
  });
});

describe('mergeOwned', () => {
  it('keeps foreign entries in order, drops stale ours, appends new ones once', () => {
    const ours = (e: string) => e.startsWith('P:');
    expect(mergeOwned(['x', 'P:old', 'y', 'P:keep', 'x'], ['P:keep', 'P:new', 'P:new'], ours)).toEqual(['x', 'y', 'P:keep', 'P:new']);
  });
});

describe('mergeKeywords', () => {
  it('replaces a renamed person everywhere and keeps everything else', () => {
    const file: KeywordLists = {
      hierarchicalSubject: ['People|Marie Curie', 'Places|Paris'],
      tagsList: ['People/Marie Curie', 'Places/Paris'],
      subject: ['Marie Curie', 'Paris'],
      iptcKeywords: ['Marie Curie', 'Paris'],
      personInImage: ['Marie Curie', 'A Stranger'],
    };
    expect(mergeKeywords(file, peopleIntent(['Marie Skłodowska-Curie']), settings)).toEqual({
      hierarchicalSubject: ['Places|Paris', 'People|Marie Skłodowska-Curie'],
      tagsList: ['Places/Paris', 'People/Marie Skłodowska-Curie'],
      subject: ['Paris', 'Marie Skłodowska-Curie'],
      iptcKeywords: ['Paris', 'Marie Skłodowska-Curie'],
      personInImage: ['A Stranger', 'Marie Skłodowska-Curie'],
    });
  });

  it("leaves deeper entries under our roots alone: we only ever write <root>|<name>", () => {
    const file = { ...empty, hierarchicalSubject: ['People|Family|Eve', 'People|Old'], tagsList: ['People/Family/Eve', 'People/Old'], subject: ['Eve', 'Old'] };
    const merged = mergeKeywords(file, peopleIntent(['New']), settings);
    expect(merged.hierarchicalSubject).toEqual(['People|Family|Eve', 'People|New']);
    expect(merged.tagsList).toEqual(['People/Family/Eve', 'People/New']);
    expect(merged.subject).toEqual(['Eve', 'New']);
  });

  it('never removes a flat keyword that is not the leaf of our hierarchy', () => {
    const file = { ...empty, subject: ['Anna'], iptcKeywords: ['Anna'], personInImage: ['Anna'] };
    const merged = mergeKeywords(file, peopleIntent([]), settings);
    expect(merged.subject).toEqual(['Anna']);
    expect(merged.iptcKeywords).toEqual(['Anna']);
    expect(merged.personInImage).toEqual(['Anna']);
  });

  it('seeds a new hierarchy from the flat keywords so Immich keeps them as tags', () => {
    const file = { ...empty, iptcKeywords: ['Frost', 'Yard'] };
    const merged = mergeKeywords(file, peopleIntent(['Anna']), settings);
    expect(merged.hierarchicalSubject).toEqual(['Frost', 'Yard', 'People|Anna']);
    expect(merged.subject).toEqual(['Frost', 'Yard', 'Anna']);
    expect(merged.tagsList).toEqual([]); // the file had none: not created for an embedded target
  });

  it('does not create a twin list it would not otherwise write', () => {
    const file = { ...empty, hierarchicalSubject: ['People|Anna'], subject: ['Anna', 'x'], personInImage: ['Anna'] };
    const albumsOnly: KeywordIntent = { ...noIntent, managedRoots: ['Albums'], hierarchy: ['Albums/Trips'] };
    expect(mergeKeywords(file, albumsOnly, settings).iptcKeywords).toEqual([]);
    // a list that gets a new keyword anyway starts from its twin
    expect(mergeKeywords(file, peopleIntent(['Anna', 'Bob']), settings).iptcKeywords).toEqual(['Anna', 'x', 'Bob']);
  });

  it('does not seed anything for a sidecar, but writes its TagsList to mask the original', () => {
    const file = { ...empty, subject: ['Frost'] };
    const merged = mergeKeywords(file, peopleIntent(['Anna']), { ...settings, forceTagsList: true, bootstrapFromFlat: false });
    expect(merged.hierarchicalSubject).toEqual(['People|Anna']);
    expect(merged.tagsList).toEqual(['People/Anna']);
  });

  it("adds Immich tags but never removes the file's other hierarchy entries", () => {
    const intent: KeywordIntent = { ...noIntent, hierarchy: ['Travel/Japan'], flat: ['Japan'] };
    const file = { ...empty, hierarchicalSubject: ['Old|Entry'] };
    const merged = mergeKeywords(file, intent, settings);
    expect(merged.hierarchicalSubject).toEqual(['Old|Entry', 'Travel|Japan']);
    expect(merged.subject).toEqual(['Japan']);
  });

  it('cuts IPTC keywords to 64 bytes and still recognizes our cut entries later', () => {
    const long = 'Ж'.repeat(40); // 80 bytes
    const first = mergeKeywords(empty, peopleIntent([long]), settings);
    expect(first.iptcKeywords).toEqual(['Ж'.repeat(32)]);
    const second = mergeKeywords(first, peopleIntent([]), settings);
    expect(second.iptcKeywords).toEqual([]);
    expect(second.subject).toEqual([]);
  });
});

describe('truncateUtf8', () => {
  it('never splits a character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.integer({ min: 0, max: 80 }), (text, max) => {
        const cut = truncateUtf8(text, max);
        expect(Buffer.byteLength(cut, 'utf8')).toBeLessThanOrEqual(Math.max(max, 0));
        expect(text.startsWith(cut)).toBe(true);
        expect(Buffer.from(cut, 'utf8').toString('utf8')).toBe(cut);
      }),
    );
    expect(truncateUtf8('日本日本', 7)).toBe('日本');
  });
});
