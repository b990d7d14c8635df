/** Write Metadata's core: which tags to read from a target, and what must change so it holds Immich's truth. */
import type { FieldChange } from '../files/types';
import type { TargetKind } from './capabilities';
import { FILE_TYPE_TAG } from './capabilities';
import { DiffContext } from './diffContext';
import { hasNonAscii, IPTC_CHARSET_TAG } from './iptcCharset';
import { ALBUM_TAGS, diffAlbumTexts } from './modules/albums';
import { CAPTION_TAGS, diffCaption } from './modules/caption';
import { diffFaces, FACE_TAGS } from './modules/faces';
import { diffGps, GPS_TAGS } from './modules/gps';
import { diffKeywords, hasKeywordModules, KEYWORD_TAGS } from './modules/keywordDiff';
import { diffRating, RATING_TAGS } from './modules/rating';
import { diffTime, TIME_TAGS } from './modules/time';
import { MetadataPlanError } from './plan';
import type { MetadataPlan } from './types';

/** Plans travel through n8n items and may be edited or stale: fail clearly instead of half-diffing. */
export function assertMetadataPlan(plan: unknown): asserts plan is MetadataPlan {
  const p = plan as Partial<MetadataPlan> | null;
  if (!p || typeof p !== 'object' || p.schemaVersion !== 1 || !Array.isArray(p.modules) || !Array.isArray(p.skipped)) {
    const asset = p && typeof p === 'object' && typeof p.assetId === 'string' ? ` of asset ${p.assetId}` : '';
    throw new MetadataPlanError(
      `The metadata plan${asset} is not one this version builds (schemaVersion ${String(p?.schemaVersion)}): run "Build Metadata Tags" again`,
    );
  }
}

export type { TargetKind };

const IPTC_ALL = 'IPTC:all';

export interface MetadataDiff {
  changes: FieldChange[];
  writeTags: Record<string, unknown>;
  /** Things the diff decided not to do (kept foreign text, cut IPTC keywords…), for the item's output. */
  notes: string[];
}

/** Tag names (ExifTool read arguments, "#" = numeric) the writer reads before diffing; pass them to readRequest(). */
export function tagsToRead(plan: MetadataPlan, target: TargetKind): string[] {
  assertMetadataPlan(plan);
  const tags: string[] = [FILE_TYPE_TAG];
  const add = (family: { embedded: string[]; sidecar: string[] }) => tags.push(...family[target]);
  if (hasKeywordModules(plan)) add(KEYWORD_TAGS);
  if (plan.faces) add(FACE_TAGS);
  if (plan.gps) add(GPS_TAGS);
  if (plan.caption) add(CAPTION_TAGS);
  if (plan.time) add(TIME_TAGS);
  if (plan.rating) add(RATING_TAGS);
  if (plan.albums) add(ALBUM_TAGS);
  // Writing any IPTC means declaring UTF-8, which needs the file's other IPTC strings (a small group).
  if (target === 'embedded' && tags.some((tag) => tag.startsWith('IPTC:'))) tags.push(IPTC_ALL);
  return [...new Set(tags)];
}

export function diffAgainstFile(plan: MetadataPlan, current: Record<string, unknown>, target: TargetKind): MetadataDiff {
  assertMetadataPlan(plan);
  const ctx = new DiffContext(current ?? {}, target);
  if (hasKeywordModules(plan)) diffKeywords(plan, ctx);
  if (plan.albums) diffAlbumTexts(plan.albums, ctx);
  if (plan.faces) diffFaces(plan.faces, ctx);
  if (plan.gps) diffGps(plan.gps, ctx);
  if (plan.caption) diffCaption(plan.caption, ctx);
  if (plan.time) diffTime(plan.time, ctx);
  if (plan.rating) diffRating(plan.rating, ctx);
  if (Object.keys(ctx.writeTags).some((tag) => tag.startsWith('IPTC:'))) declareIptcUtf8(ctx);
  const writeTags = Object.fromEntries(Object.entries(ctx.writeTags).map(([tag, value]) => [tag, protectEntities(value)]));
  return { changes: ctx.changes, writeTags, notes: ctx.notes };
}

const ENTITY = /&(?=#\d+;|#x[0-9a-f]+;|[a-z][a-z0-9]*;)/gi;

/**
 * exiftool-vendored's write() passes values through ExifTool's -E (HTML entity decoding) without escaping "&",
 * so a caption that literally says "Tom &amp; Jerry" would be written as "Tom & Jerry" and never match again.
 * Only "&" that starts an entity is escaped; everything else reaches ExifTool unchanged. Text inside a
 * structure (RegionInfo) is decoded twice (the argument, then the serialized structure), so it is escaped twice.
 */
function protectEntities(value: unknown, layers = 1): unknown {
  if (typeof value === 'string') {
    let out = value;
    for (let i = 0; i < layers; i++) out = out.replace(ENTITY, '&#38;');
    return out;
  }
  if (Array.isArray(value)) return value.map((v) => protectEntities(v, layers));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, protectEntities(v, 2)]));
  }
  return value;
}

/**
 * Without CodedCharacterSet=UTF8, ExifTool writes IPTC as Latin-1 and "Мария Кюри" turns into question marks.
 * Declaring it re-labels every IPTC string in the file, so the ones we do not change are written again in UTF-8.
 */
function declareIptcUtf8(ctx: DiffContext): void {
  if (ctx.iptcIsUtf8) {
    ctx.writeSilently(IPTC_CHARSET_TAG, 'UTF8');
    return;
  }
  const reencoded: string[] = [];
  for (const key of ctx.iptcTags()) {
    if (key === IPTC_CHARSET_TAG || key in ctx.writeTags) continue;
    const value = ctx.read(key);
    if (hasNonAscii(value)) {
      ctx.writeSilently(key, value);
      reencoded.push(key);
    }
  }
  ctx.write(IPTC_CHARSET_TAG, 'UTF8', 'IPTC character set', ctx.read(IPTC_CHARSET_TAG) ?? null);
  if (reencoded.length > 0) ctx.note(`re-encoded ${reencoded.join(', ')} as UTF-8 (unchanged text)`);
}
