/** Write Metadata's core: which tags to read from a target, and what must change so it holds Immich's truth. */
import type { FieldChange } from '../files/types';
import type { TargetKind } from './capabilities';
import { FILE_TYPE_TAG } from './capabilities';
import { DiffContext } from './diffContext';
import { ALBUM_TAGS, diffAlbumTexts } from './modules/albums';
import { CAPTION_TAGS, diffCaption } from './modules/caption';
import { diffFaces, FACE_TAGS } from './modules/faces';
import { diffGps, GPS_TAGS } from './modules/gps';
import { diffKeywords, hasKeywordModules, KEYWORD_TAGS } from './modules/keywordDiff';
import { diffRating, RATING_TAGS } from './modules/rating';
import { diffTime, TIME_TAGS } from './modules/time';
import type { MetadataPlan } from './types';

export type { TargetKind };

export interface MetadataDiff {
  changes: FieldChange[];
  writeTags: Record<string, unknown>;
  /** Things the diff decided not to do (kept foreign text, cut IPTC keywords…), for the item's output. */
  notes: string[];
}

/** Tag names (ExifTool read arguments, "#" = numeric) the writer reads before diffing; pass them to readRequest(). */
export function tagsToRead(plan: MetadataPlan, target: TargetKind): string[] {
  const tags: string[] = [FILE_TYPE_TAG];
  const add = (family: { embedded: string[]; sidecar: string[] }) => tags.push(...family[target]);
  if (hasKeywordModules(plan)) add(KEYWORD_TAGS);
  if (plan.faces) add(FACE_TAGS);
  if (plan.gps) add(GPS_TAGS);
  if (plan.caption) add(CAPTION_TAGS);
  if (plan.time) add(TIME_TAGS);
  if (plan.rating) add(RATING_TAGS);
  if (plan.albums) add(ALBUM_TAGS);
  return [...new Set(tags)];
}

export function diffAgainstFile(plan: MetadataPlan, current: Record<string, unknown>, target: TargetKind): MetadataDiff {
  const ctx = new DiffContext(current ?? {}, target);
  if (hasKeywordModules(plan)) diffKeywords(plan, ctx);
  if (plan.albums) diffAlbumTexts(plan.albums, ctx);
  if (plan.faces) diffFaces(plan.faces, ctx);
  if (plan.gps) diffGps(plan.gps, ctx);
  if (plan.caption) diffCaption(plan.caption, ctx);
  if (plan.time) diffTime(plan.time, ctx);
  if (plan.rating) diffRating(plan.rating, ctx);
  const writeTags = { ...ctx.writeTags };
  if (Object.keys(writeTags).some((tag) => tag.startsWith('IPTC:'))) {
    // Without it, ExifTool writes IPTC as Latin-1 and "Мария Кюри" turns into question marks.
    writeTags['IPTC:CodedCharacterSet'] = 'UTF8';
  }
  return { changes: ctx.changes, writeTags, notes: ctx.notes };
}
