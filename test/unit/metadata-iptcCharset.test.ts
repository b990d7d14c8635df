import { diffAgainstFile, tagsToRead } from '../../lib/metadata/diff';
import { undeclaredIptcText, isUtf8Declared } from '../../lib/metadata/iptcCharset';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { makeAsset, person } from '../integration/roundtrip-support';

/** What ExifTool shows for UTF-8 bytes it decodes as cp1252. */
function asCp1252Read(text: string): string {
  return new TextDecoder('windows-1252').decode(Buffer.from(text, 'utf8'));
}

describe('undeclared IPTC text', () => {
  it.each(['Мария Кюри', '日本', 'Zürich — “quotes” œ €'])('recovers UTF-8 read as Latin-1: %s', (text) => {
    expect(undeclaredIptcText(asCp1252Read(text))).toBe(text);
  });
  it('keeps real Latin-1 and ASCII as read', () => {
    expect(undeclaredIptcText('José')).toBe('José');
    expect(undeclaredIptcText('Zürich')).toBe('Zürich');
    expect(undeclaredIptcText('plain')).toBe('plain');
  });
  it('knows the spellings of UTF-8: printed, and as stored (ISO 2022 ESC % G, what a read with -n gives)', () => {
    expect(isUtf8Declared('UTF8')).toBe(true);
    expect(isUtf8Declared('UTF-8')).toBe(true);
    expect(isUtf8Declared('\x1b%G')).toBe(true);
    expect(isUtf8Declared(undefined)).toBe(false);
    expect(isUtf8Declared('%G')).toBe(false);
    expect(isUtf8Declared('\x1b%@')).toBe(false);
  });
});

describe('declaring UTF-8 when writing IPTC', () => {
  const plan = buildMetadataPlan(makeAsset({ people: [person('Мария')] }), { modules: ['people'] });
  it('reads the IPTC group when it may write IPTC', () => {
    expect(tagsToRead(plan, 'embedded')).toContain('IPTC:all');
    expect(tagsToRead(plan, 'sidecar')).not.toContain('IPTC:all');
  });
  it('re-encodes the other IPTC strings of an undeclared file, and merges keywords by their real text', () => {
    const current = {
      'File:FileType': 'JPEG',
      'IPTC:By-line': 'José',
      'IPTC:City': asCp1252Read('Киев'),
      'IPTC:Keywords': [asCp1252Read('Київ'), 'plain'],
      'IPTC:ApplicationRecordVersion': 4,
    };
    const { writeTags, changes, notes } = diffAgainstFile(plan, current, 'embedded');
    expect(writeTags['IPTC:Keywords']).toEqual(['Київ', 'plain', 'Мария']);
    expect(writeTags).toMatchObject({ 'IPTC:CodedCharacterSet': 'UTF8', 'IPTC:By-line': 'José', 'IPTC:City': 'Киев' });
    expect(writeTags).not.toHaveProperty('IPTC:ApplicationRecordVersion');
    expect(changes).toContainEqual({ field: 'IPTC character set (IPTC:CodedCharacterSet)', before: null, after: 'UTF8' });
    expect(notes.join()).toMatch(/IPTC:By-line, IPTC:City/);
  });
  it('an undeclared keyword that already reads as ours (once decoded) is no change', () => {
    const current = { 'File:FileType': 'JPEG', 'IPTC:Keywords': asCp1252Read('Мария'), 'XMP-dc:Subject': 'Мария', 'XMP-lr:HierarchicalSubject': 'People|Мария', 'XMP-iptcExt:PersonInImage': 'Мария' };
    expect(diffAgainstFile(plan, current, 'embedded').changes).toEqual([]);
  });

  it('touches nothing else when the file already says UTF-8', () => {
    const current = { 'File:FileType': 'JPEG', 'IPTC:CodedCharacterSet': 'UTF8', 'IPTC:By-line': 'José' };
    const { writeTags, changes } = diffAgainstFile(plan, current, 'embedded');
    expect(writeTags).toEqual({ 'XMP-lr:HierarchicalSubject': ['People|Мария'], 'XMP-dc:Subject': ['Мария'], 'XMP-iptcExt:PersonInImage': ['Мария'], 'IPTC:Keywords': ['Мария'], 'IPTC:CodedCharacterSet': 'UTF8' });
    expect(changes.map((c) => c.field)).not.toContain('IPTC character set (IPTC:CodedCharacterSet)');
  });
});
