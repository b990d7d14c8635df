/**
 * A small picture of a photo as viewers display it, with the face regions a write leaves in the file: the
 * planned ones (from Immich) solid with the person's name, the ones already in the file that stay (someone
 * else's regions) dashed. The regions are the ones the writer's own diff produces, so what is drawn is what
 * is (or would be) written.
 */
import type { ExifTool } from 'exiftool-vendored';
import { promises as fs } from 'fs';

import { readSelectedTags, decodeValues, tagValuesOnly } from '../files/readTags';
import { FILE_TYPE_TAG, type TargetKind } from '../metadata/capabilities';
import { diffAgainstFile, tagsToRead } from '../metadata/diff';
import { mwgAreaToBox, storedToDisplayed, toOrientation, type ExifOrientation } from '../metadata/faceGeometry';
import { readValue } from '../metadata/readOptions';
import type { MetadataPlan, NormalizedBox } from '../metadata/types';
import { decodeJpeg, encodeJpeg, fillRect, LABEL_HEIGHT, orient, shrinkToFit, strokeRect, drawText, textWidth, type Raster, type Rgb } from './raster';

export const PREVIEW_LONG_SIDE = 480;

export type PreviewBoxKind = 'planned' | 'kept';

/** One drawn box, in the preview's pixels (x1, y1 inclusive; x2, y2 exclusive). */
export interface PreviewBox {
  name: string;
  kind: PreviewBoxKind;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export type FacePreview =
  | { ok: true; jpeg: Buffer; width: number; height: number; orientation: ExifOrientation; source: PixelSource; boxes: PreviewBox[] }
  | { ok: false; reason: string };

export type PixelSource = 'image' | 'PreviewImage' | 'ThumbnailImage';

export interface FacePreviewOptions {
  /** The XMP sidecar that is (or would be) written instead of the file itself; its regions win. */
  sidecar?: string;
  longSide?: number;
}

const PLANNED_COLOR: Rgb = [255, 214, 0];
const KEPT_COLOR: Rgb = [0, 200, 255];
const LABEL_BACKGROUND: Rgb = [0, 0, 0];
const STROKE = 2;
const DASH = 5;

/** Decoding a JPEG larger than this costs seconds in pure JavaScript; an embedded preview is used instead. */
const MAX_FULL_DECODE_PIXELS = 12_000_000;
/** An embedded preview whose shape differs more than this from the image is letterboxed or cropped: useless. */
const ASPECT_TOLERANCE = 0.02;

interface Region {
  Area?: { X?: unknown; Y?: unknown; W?: unknown; H?: unknown; Unit?: unknown };
  Name?: unknown;
  Type?: unknown;
}

/** Named as the face diff names them (any group), so the pixels are turned by the orientation the regions use. */
const PIXEL_TAGS = ['ImageWidth#', 'ImageHeight#', 'Orientation#', 'ThumbnailLength#', 'PreviewImageLength#'];

export async function renderFacePreview(exiftool: ExifTool, mediaFile: string, plan: MetadataPlan, options: FacePreviewOptions = {}): Promise<FacePreview> {
  const skip = (reason: string): FacePreview => ({ ok: false, reason: `no face preview for ${mediaFile}: ${reason}` });
  if (plan.assetType !== 'IMAGE') return skip('previews are drawn for still images only');
  if (!plan.faces || plan.faces.faces.length === 0) return skip('there are no named faces to write');

  const facesOnly: MetadataPlan = { ...plan, modules: ['faces'], faces: plan.faces, skipped: [], notes: [] };
  for (const module of ['people', 'gps', 'caption', 'time', 'rating', 'albums', 'tags'] as const) delete facesOnly[module];

  const media = tagValuesOnly(await readSelectedTags(exiftool, mediaFile, [...new Set([...tagsToRead(facesOnly, 'embedded'), ...PIXEL_TAGS])]));
  const fileType = String(readValue(media, FILE_TYPE_TAG) ?? '');
  let current = media;
  let target: TargetKind = 'embedded';
  if (options.sidecar && (await exists(options.sidecar))) {
    current = { ...media, ...tagValuesOnly(await readSelectedTags(exiftool, options.sidecar, tagsToRead(facesOnly, 'sidecar'))) };
    target = 'sidecar';
  } else if (options.sidecar) {
    target = 'sidecar';
  }

  const regions = regionsAfterWrite(facesOnly, current, target);
  const plannedNames = new Set(plan.faces.faces.map((f) => f.name));
  const orientation = toOrientation(readValue(media, 'Orientation'));

  const pixels = await storedPixels(exiftool, mediaFile, fileType, media);
  if (!pixels.ok) return skip(pixels.reason);
  const displayed = orient(shrinkToFit(pixels.raster, options.longSide ?? PREVIEW_LONG_SIDE), orientation);

  const boxes: PreviewBox[] = [];
  for (const region of regions) {
    const stored = normalizedBox(region);
    if (!stored || typeof region.Name !== 'string') continue;
    const box = storedToDisplayed(stored, orientation);
    const planned = plannedNames.has(region.Name) && (region.Type === undefined || region.Type === 'Face');
    boxes.push({
      name: region.Name,
      kind: planned ? 'planned' : 'kept',
      x1: Math.round(box.x1 * displayed.width),
      y1: Math.round(box.y1 * displayed.height),
      x2: Math.round(box.x2 * displayed.width),
      y2: Math.round(box.y2 * displayed.height),
    });
  }
  // Kept boxes first, so the planned ones (what this write is about) are drawn on top.
  const drawOrder = [...boxes].sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'kept' ? -1 : 1));
  for (const box of drawOrder) drawBox(displayed, box);
  for (const box of drawOrder) drawLabel(displayed, box);

  return { ok: true, jpeg: encodeJpeg(displayed), width: displayed.width, height: displayed.height, orientation, source: pixels.source, boxes };
}

/** The RegionList the file holds after the write: the diff's new value, or the file's own when nothing changes. */
function regionsAfterWrite(plan: MetadataPlan, current: Record<string, unknown>, target: TargetKind): Region[] {
  const { writeTags } = diffAgainstFile(plan, current, target);
  const written = writeTags['XMP-mwg-rs:RegionInfo'];
  // Values bound for ExifTool carry entity escapes ("&" as "&#38;", twice inside a structure); undo them to show names.
  const info = (written !== undefined ? decodeValues(decodeValues(written)) : readValue(current, 'XMP-mwg-rs:RegionInfo')) as
    | { RegionList?: Region[] | Region }
    | null
    | undefined;
  const list = info?.RegionList;
  return list === undefined ? [] : Array.isArray(list) ? list : [list];
}

function normalizedBox(region: Region): NormalizedBox | null {
  const area = region.Area;
  if (!area || (area.Unit !== undefined && area.Unit !== 'normalized')) return null;
  const [X, Y, W, H] = [area.X, area.Y, area.W, area.H].map(Number);
  if (![X, Y, W, H].every(Number.isFinite) || W <= 0 || H <= 0) return null;
  return mwgAreaToBox({ X, Y, W, H });
}

type Pixels = { ok: true; raster: Raster; source: PixelSource } | { ok: false; reason: string };

async function storedPixels(exiftool: ExifTool, file: string, fileType: string, tags: Record<string, unknown>): Promise<Pixels> {
  const width = Number(readValue(tags, 'ImageWidth'));
  const height = Number(readValue(tags, 'ImageHeight'));
  const type = fileType.toUpperCase();
  if (type === 'HEIC' || type === 'HEIF' || type === 'AVIF') {
    return { ok: false, reason: `${type} pixels are not JPEG (and its embedded thumbnail is ${type} too), so they are not decoded here` };
  }
  if (type === 'JPEG' && width * height > 0 && width * height <= MAX_FULL_DECODE_PIXELS) {
    return { ok: true, raster: decodeJpeg(await fs.readFile(file)), source: 'image' };
  }
  const candidates: { tag: PixelSource; present: boolean }[] = [
    { tag: 'PreviewImage', present: Number(readValue(tags, 'PreviewImageLength')) > 0 || type !== 'JPEG' },
    { tag: 'ThumbnailImage', present: Number(readValue(tags, 'ThumbnailLength')) > 0 },
  ];
  const problems: string[] = [];
  for (const candidate of candidates) {
    if (!candidate.present) continue;
    let raster: Raster;
    try {
      const bytes = await exiftool.extractBinaryTagToBuffer(candidate.tag, file);
      raster = decodeJpeg(bytes);
    } catch (error) {
      problems.push(`${candidate.tag}: ${(error as Error).message}`);
      continue;
    }
    if (width > 0 && height > 0 && Math.abs(raster.width / raster.height - width / height) > ASPECT_TOLERANCE * (width / height)) {
      problems.push(`${candidate.tag} is ${raster.width}×${raster.height}, not the shape of the ${width}×${height} image`);
      continue;
    }
    return { ok: true, raster, source: candidate.tag };
  }
  const why = problems.length > 0 ? ` (${problems.join('; ')})` : '';
  return { ok: false, reason: `the ${type || 'file'} has no embedded JPEG preview of the image's shape${why}` };
}

function drawBox(raster: Raster, box: PreviewBox): void {
  const color = box.kind === 'planned' ? PLANNED_COLOR : KEPT_COLOR;
  strokeRect(raster, box.x1, box.y1, box.x2, box.y2, color, STROKE, box.kind === 'planned' ? 0 : DASH);
}

/** The name on a dark band just above the box (below it at the top edge), never over the face itself. */
function drawLabel(raster: Raster, box: PreviewBox): void {
  const text = box.kind === 'planned' ? box.name : `${box.name} (kept)`;
  const width = textWidth(text) + 6;
  const height = LABEL_HEIGHT + 2;
  const x = Math.max(0, Math.min(raster.width - width, box.x1 - STROKE));
  const above = box.y1 - STROKE - height;
  const y = above >= 0 ? above : Math.min(raster.height - height, box.y2 + STROKE);
  fillRect(raster, x, y, x + width, y + height, LABEL_BACKGROUND, 0.7);
  drawText(raster, x + 3, y + 1, text, box.kind === 'planned' ? PLANNED_COLOR : KEPT_COLOR);
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch {
    return false;
  }
}
