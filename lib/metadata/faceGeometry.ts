/**
 * Face boxes between the two frames of an image: the STORED pixels (what MWG-RS regions describe) and the
 * DISPLAYED frame (after EXIF Orientation, what Immich's face boxes describe). Pure, normalized 0..1.
 */
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
