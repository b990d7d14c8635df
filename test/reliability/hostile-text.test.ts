/**
 * Text from Immich (person names, descriptions, album titles) goes into ExifTool arguments and XMP
 * structures. Whatever it contains (ExifTool list/struct syntax, quotes, newlines, control characters,
 * right-to-left marks, emoji, 10,000 characters, things that look like ExifTool options) it must be
 * written and read back exactly by Immich's read rules, or refused with a reason and the file left
 * byte-identical. It must never set any other tag.
 */
import type { ExifTool } from 'exiftool-vendored';
import { chmodSync, copyFileSync, mkdirSync } from 'fs';
import * as path from 'path';

import { createExifTool } from '../../lib/files/exiftoolPool';
import { writeAssetFile } from '../../lib/files/writer';
import type { ImmichFace } from '../../lib/immich/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { detailsFor, removeTempDirs, sample, sha256, tempDir, tempLeftovers } from './support';
import { hashingExifTool, immichReadIndependent, remainingChanges } from './verify';

jest.setTimeout(180_000);

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

const HOSTILE: Array<[string, string]> = [
  ['ExifTool struct syntax', 'Alice}, {Name=Evil'],
  ['struct syntax with type', 'Bob}, {Type=Pet, Name=Evil}, {Name=Bob'],
  ['list separators', 'a, b; c [d] {e} | f = g'],
  ['an ExifTool option after a space', 'x -Rating=1'],
  ['an ExifTool option after a newline', 'x\n-Rating=1\n-Artist=Evil'],
  ['CR LF and an argument file directive', 'x\r\n-@\r\n/etc/passwd'],
  ['a leading dash', '-Copyright=Evil'],
  ['a tag-copy redirect', '-Artist<Evil'],
  ['quotes and backslashes', `"double" 'single' \`back\` C:\\path\\ \\n`],
  ['ExifTool advanced formatting', '${Make;s/.*/Evil/} $Rating #[CSTR]'],
  ['XML markup', '<rdf:li>Evil</rdf:li> &amp; ]]> <!-- -->'],
  ['control characters', 'a\u0001b\u0007c\u001b[31md\u007f'],
  ['right-to-left text and overrides', 'مرحبا בעולם \u202Egnp.exe\u202C'],
  ['emoji with joiners and flags', '👩‍👩‍👧‍👦 🏳️‍🌈 🇯🇵'],
  ['hierarchy separators', 'Family|Evil/Sub'],
  ['10,000 characters', 'Ж'.repeat(4000) + 'x'.repeat(6000)],
];

/** Tags an injection would aim at; none of them is ours to write in this plan. */
const INJECTION_TARGETS = ['Rating', 'Artist', 'Copyright', 'Make'];

function face(name: string, k: number): ImmichFace {
  return {
    id: `face-${k}`,
    personId: `person-${k}`,
    personName: name,
    personHidden: false,
    x1: 100 + k * 150,
    y1: 100,
    x2: 200 + k * 150,
    y2: 220,
    imageWidth: 840,
    imageHeight: 700,
    sourceType: 'machine-learning',
  };
}

function copySample(): string {
  const file = path.join(tempDir('text'), '2024', '05', 'portrait.jpg');
  mkdirSync(path.dirname(file), { recursive: true });
  copyFileSync(sample('metadata/faces/portrait.jpg'), file);
  chmodSync(file, 0o644);
  return file;
}

async function injectionTargets(file: string): Promise<Record<string, unknown>> {
  const raw = (await checker.readRaw(file, ['-G1', ...INJECTION_TARGETS.map((t) => `-${t}`)])) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (k !== 'SourceFile') out[k] = v;
  return out;
}

describe.each(HOSTILE)('%s', (_label, text) => {
  test('as a description and a person name (keywords, PersonInImage, face region): exact read-back or refusal, nothing else set', async () => {
    const file = copySample();
    const before = sha256(file);
    const targetsBefore = await injectionTargets(file);
    const names = [text, 'Plain Name'];
    const details = detailsFor(`/usr/src/app/upload/library/2024/05/portrait.jpg`, {
      names,
      faces: names.map(face),
      exif: { description: text, rating: null, orientation: '1', exifImageWidth: 840, exifImageHeight: 700 },
    });
    const plan = buildMetadataPlan(details, { modules: ['people', 'faces', 'caption'] });
    const result = await writeAssetFile(exiftool, file, plan, { assetId: details.id, target: 'embedded', dryRun: false, keepModifyTime: false, backup: false });
    expect(tempLeftovers(path.dirname(file))).toEqual([]);
    if (process.env.RELIABILITY_DEBUG) console.log(_label, result.status, result.reason);
    if (result.status !== 'written') {
      // Refused: with a reason naming the asset, and nothing changed.
      expect({ status: result.status, reason: result.reason }).toEqual({ status: 'failed', reason: expect.stringContaining(details.id) });
      expect(sha256(file)).toBe(before);
      return;
    }
    expect(result.verified).toBe(true);
    expect(await remainingChanges(checker, file, plan)).toEqual([]);

    const read = await immichReadIndependent(file);
    expect(read.description).toBe(text.trim());
    expect(read.faces.map((f) => f.name).sort()).toEqual(names.map((n) => n.trim()).sort());
    expect(read.faces.some((f) => f.name === 'Evil')).toBe(false);
    expect(read.tags).not.toContain('Evil');
    expect(read.tags).not.toContain('People/Evil');
    expect(await injectionTargets(file)).toEqual(targetsBefore);
  });

  test('as an album title (Albums| keyword and Event): exact read-back or refusal, nothing else set', async () => {
    const file = copySample();
    const before = sha256(file);
    const targetsBefore = await injectionTargets(file);
    const details = detailsFor(`/usr/src/app/upload/library/2024/05/portrait.jpg`, { albums: [text, 'Holiday'], exif: { rating: null } });
    const plan = buildMetadataPlan(details, { modules: ['albums'] });
    const result = await writeAssetFile(exiftool, file, plan, { assetId: details.id, target: 'embedded', dryRun: false, keepModifyTime: false, backup: false });
    if (result.status !== 'written') {
      expect({ status: result.status, reason: result.reason }).toEqual({ status: 'failed', reason: expect.stringContaining(details.id) });
      expect(sha256(file)).toBe(before);
      return;
    }
    expect(result.verified).toBe(true);
    expect(await remainingChanges(checker, file, plan)).toEqual([]);
    const raw = (await checker.readRaw(file, ['-G1', '-XMP-lr:HierarchicalSubject', '-XMP-iptcExt:Event'])) as Record<string, unknown>;
    const hierarchical = ([] as unknown[]).concat(raw['XMP-lr:HierarchicalSubject'] ?? []).map(String);
    expect(hierarchical).toContain('Albums|Holiday');
    expect(hierarchical.filter((k) => k.startsWith('Albums|'))).toHaveLength(2);
    expect(await injectionTargets(file)).toEqual(targetsBefore);
  });
});
