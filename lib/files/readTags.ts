/**
 * The two reads the writer does. The compared tags are read with `readRaw` and exactly the names
 * the diff asks for: `ExifTool.read()` always appends `-all` (a full read of every tag), which on
 * the no-change path of a large library would be most of the run's cost.
 */
import type { ExifTool } from 'exiftool-vendored';

import { readRequest } from '../metadata/readOptions';
import { HTML4_ENTITIES } from './htmlEntities';

export type RawTags = Record<string, unknown> & { errors?: string[]; warnings?: string[] };

/**
 * `-E` makes ExifTool print every non-ASCII character as an HTML entity (named or numeric). Without it, a long value
 * (e.g. kilobytes of CJK keywords) reaches us with U+FFFD wherever a multi-byte character straddles
 * two chunks of ExifTool's output; the diff would then write that garbage back. ASCII cannot be split.
 */
export const ASCII_OUTPUT = '-E';

export async function readSelectedTags(exiftool: ExifTool, file: string, tagNames: readonly string[]): Promise<RawTags> {
  const request = readRequest(selectEachTagOnce(tagNames));
  const raw = (await exiftool.readRaw(file, { ...request, readArgs: [ASCII_OUTPUT, ...request.readArgs] })) as RawTags;
  return decodeValues(raw) as RawTags;
}

/**
 * ExifTool escapes a value once per selection that matches it: `-IPTC:Keywords` next to `-IPTC:all`
 * comes back as `&amp;#x41c;`. A tag already covered by its group's `all` is therefore not named
 * again (numeric `#` requests stay: they change the value's form, and numbers are never escaped).
 */
export function selectEachTagOnce(tagNames: readonly string[]): string[] {
  const wholeGroups = new Set(tagNames.filter((t) => /:all$/i.test(t)).map((t) => t.slice(0, t.indexOf(':')).toLowerCase()));
  return [...new Set(tagNames)].filter((tag) => {
    const colon = tag.indexOf(':');
    if (colon < 0 || /:all$/i.test(tag) || tag.endsWith('#')) return true;
    return !wholeGroups.has(tag.slice(0, colon).toLowerCase());
  });
}

const ENTITY = /&(#x[0-9a-f]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/gi;

export function decodeEntities(text: string): string {
  return text.replace(ENTITY, (whole, body: string) => {
    let code: number | undefined;
    if (body[0] === '#') code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    else code = HTML4_ENTITIES[body];
    return code !== undefined && Number.isInteger(code) && code >= 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

export function decodeValues(value: unknown): unknown {
  if (typeof value === 'string') return decodeEntities(value);
  if (Array.isArray(value)) return value.map(decodeValues);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) out[key] = decodeValues(inner);
    return out;
  }
  return value;
}

/** Tags minus the bookkeeping fields exiftool-vendored adds to every read. */
export function tagValuesOnly(tags: RawTags): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (key !== 'SourceFile' && key !== 'errors' && key !== 'warnings') values[key] = value;
  }
  return values;
}
