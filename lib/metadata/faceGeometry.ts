/**
 * Face boxes between the two frames of an image: the STORED pixels (what MWG-RS regions describe) and the
 * DISPLAYED frame (after EXIF Orientation, what Immich's face boxes describe). Pure, normalized 0..1.
 */
import type { ImmichAssetEdit } from '../immich/types';
import type { NormalizedBox } from './types';

export type ExifOrientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

/** Anything that is not a valid EXIF orientation means "as stored", the way readers treat it. */
export function toOrientation(value: unknown): ExifOrientation {
  const n = typeof value === 'string' ? Number.parseInt(value, 10) : Number(value);
  return Number.isInteger(n) && n >= 1 && n <= 8 ? (n as ExifOrientation) : 1;
}

/** Orientations 5–8 turn the image a quarter, so width and height swap. */
export function isSideways(orientation: ExifOrientation): boolean {
  return orientation >= 5;
}

export function displayedDimensions(
  storedWidth: number,
  storedHeight: number,
  orientation: ExifOrientation,
): { width: number; height: number } {
  return isSideways(orientation)
    ? { width: storedHeight, height: storedWidth }
    : { width: storedWidth, height: storedHeight };
}

type Point = [number, number];

/** Where a stored-frame point lands in the displayed frame. */
function storedPointToDisplayed([x, y]: Point, orientation: ExifOrientation): Point {
  switch (orientation) {
    case 1:
      return [x, y];
    case 2:
      return [1 - x, y];
    case 3:
      return [1 - x, 1 - y];
    case 4:
      return [x, 1 - y];
    case 5:
      return [y, x];
    case 6:
      return [1 - y, x];
    case 7:
      return [1 - y, 1 - x];
    case 8:
      return [y, 1 - x];
  }
}

/** The inverse of storedPointToDisplayed. */
function displayedPointToStored([x, y]: Point, orientation: ExifOrientation): Point {
  switch (orientation) {
    case 1:
      return [x, y];
    case 2:
      return [1 - x, y];
    case 3:
      return [1 - x, 1 - y];
    case 4:
      return [x, 1 - y];
    case 5:
      return [y, x];
    case 6:
      return [y, 1 - x];
    case 7:
      return [1 - y, 1 - x];
    case 8:
      return [1 - y, x];
  }
}

function mapBox(box: NormalizedBox, map: (p: Point) => Point): NormalizedBox {
  const [ax, ay] = map([box.x1, box.y1]);
  const [bx, by] = map([box.x2, box.y2]);
  return { x1: Math.min(ax, bx), y1: Math.min(ay, by), x2: Math.max(ax, bx), y2: Math.max(ay, by) };
}

export function displayedToStored(box: NormalizedBox, orientation: ExifOrientation): NormalizedBox {
  return mapBox(box, (p) => displayedPointToStored(p, orientation));
}

export function storedToDisplayed(box: NormalizedBox, orientation: ExifOrientation): NormalizedBox {
  return mapBox(box, (p) => storedPointToDisplayed(p, orientation));
}

/** MWG-RS areas are centre + size. */
export interface MwgArea {
  X: number;
  Y: number;
  W: number;
  H: number;
}

export function boxToMwgArea(box: NormalizedBox): MwgArea {
  return { X: (box.x1 + box.x2) / 2, Y: (box.y1 + box.y2) / 2, W: box.x2 - box.x1, H: box.y2 - box.y1 };
}

export function mwgAreaToBox(area: MwgArea): NormalizedBox {
  return { x1: area.X - area.W / 2, y1: area.Y - area.H / 2, x2: area.X + area.W / 2, y2: area.Y + area.H / 2 };
}

/** A pixel box in a frame of width × height, normalized. */
export function normalizeBox(
  px: { x1: number; y1: number; x2: number; y2: number },
  width: number,
  height: number,
): NormalizedBox {
  return { x1: px.x1 / width, y1: px.y1 / height, x2: px.x2 / width, y2: px.y2 / height };
}

/** Microsoft People Tagging (MP) rectangles are the top-left corner plus size, in the same frame as MWG areas. */
export interface MpRectangle {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function boxToMpRectangle(box: NormalizedBox): MpRectangle {
  return { x: box.x1, y: box.y1, w: box.x2 - box.x1, h: box.y2 - box.y1 };
}

export function mpRectangleToBox(rect: MpRectangle): NormalizedBox {
  return { x1: rect.x, y1: rect.y, x2: rect.x + rect.w, y2: rect.y + rect.h };
}

/** "x, y, w, h" as Windows and ExifTool's convert_regions config write it; null when it is not four numbers. */
export function parseMpRectangle(text: unknown): MpRectangle | null {
  if (typeof text !== 'string') return null;
  const parts = text.split(',').map((part) => Number(part.trim()));
  if (parts.length !== 4 || parts.some((n) => !Number.isFinite(n))) return null;
  const [x, y, w, h] = parts;
  return { x, y, w, h };
}

export function formatMpRectangle(rect: MpRectangle): string {
  const r = (v: number) => String(Math.round(v * 1e6) / 1e6);
  return `${r(rect.x)}, ${r(rect.y)}, ${r(rect.w)}, ${r(rect.h)}`;
}

export type ImageEdit = ImmichAssetEdit;

export class EditNotInvertibleError extends Error {}

type QuarterTurn = 0 | 90 | 180 | 270;

function quarterTurn(angle: number): QuarterTurn {
  const turn = (((Math.round(angle) % 360) + 360) % 360) as number;
  if (Math.abs(angle - Math.round(angle)) > 1e-9 || turn % 90 !== 0) {
    throw new EditNotInvertibleError(`a rotation by ${angle}° (only quarter turns can be mapped back exactly)`);
  }
  return turn as QuarterTurn;
}

/** Clockwise quarter turn of a vector in a y-down frame. */
function turnVector([x, y]: Point, turn: QuarterTurn): Point {
  switch (turn) {
    case 0:
      return [x, y];
    case 90:
      return [-y, x];
    case 180:
      return [-x, -y];
    case 270:
      return [y, -x];
  }
}

interface EditStep {
  edit: Exclude<ImageEdit, { action: 'crop' }>;
  before: { width: number; height: number };
  after: { width: number; height: number };
}

/**
 * Immich's own order (server/src/utils/transform.ts): the first crop is applied first, in pixels of the displayed
 * original, whatever its place in the list; then every rotation and mirror in list order, each about the centre of
 * the frame it turns.
 */
function editSteps(edits: readonly ImageEdit[], width: number, height: number) {
  const crop = edits.find((e): e is Extract<ImageEdit, { action: 'crop' }> => e.action === 'crop');
  let size = crop ? { width: crop.width, height: crop.height } : { width, height };
  const steps: EditStep[] = [];
  for (const edit of edits) {
    if (edit.action === 'crop') continue;
    const before = size;
    if (edit.action === 'rotate' && quarterTurn(edit.angle) % 180 !== 0) size = { width: before.height, height: before.width };
    steps.push({ edit, before, after: size });
  }
  return { crop, steps, edited: size };
}

/** The size of the edited image, for a displayed original of width × height. */
export function editedDimensions(edits: readonly ImageEdit[], width: number, height: number): { width: number; height: number } {
  return editSteps(edits, width, height).edited;
}

/** Where a point of the displayed original lands in the edited image (pixels); the forward direction, for tests. */
export function originalPointToEdited(point: Point, edits: readonly ImageEdit[], width: number, height: number): Point {
  const { crop, steps } = editSteps(edits, width, height);
  let [x, y] = crop ? [point[0] - crop.x, point[1] - crop.y] : point;
  for (const { edit, before, after } of steps) {
    if (edit.action === 'mirror') {
      if (edit.axis === 'horizontal') x = before.width - x;
      else y = before.height - y;
    } else {
      const [dx, dy] = turnVector([x - before.width / 2, y - before.height / 2], quarterTurn(edit.angle));
      [x, y] = [dx + after.width / 2, dy + after.height / 2];
    }
  }
  return [x, y];
}

/**
 * A face box of the EDITED image (normalized) mapped back onto the displayed original of width × height
 * (normalized): the inverse of the edit chain. Throws EditNotInvertibleError for edits that have no exact inverse.
 */
export function editedBoxToOriginal(box: NormalizedBox, edits: readonly ImageEdit[], width: number, height: number): NormalizedBox {
  const { crop, steps, edited } = editSteps(edits, width, height);
  const back = ([px, py]: Point): Point => {
    let [x, y] = [px * edited.width, py * edited.height];
    for (const { edit, before, after } of [...steps].reverse()) {
      if (edit.action === 'mirror') {
        if (edit.axis === 'horizontal') x = before.width - x;
        else y = before.height - y;
      } else {
        const undo = ((360 - quarterTurn(edit.angle)) % 360) as QuarterTurn;
        const [dx, dy] = turnVector([x - after.width / 2, y - after.height / 2], undo);
        [x, y] = [dx + before.width / 2, dy + before.height / 2];
      }
    }
    if (crop) [x, y] = [x + crop.x, y + crop.y];
    return [x / width, y / height];
  };
  return mapBox(box, back);
}
