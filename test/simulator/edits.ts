/**
 * Immich's editor edits (crop, rotate, mirror) as the simulator keeps them, and how Immich moves a stored face box
 * into the edited image when it serves it. Written from Immich's server/src/utils/transform.ts
 * (transformFaceBoundingBox): faces are stored in the displayed original; the box is scaled to the oriented EXIF size,
 * the first crop is applied first, then each rotation (a general rotation matrix about the frame's centre,
 * clockwise on screen) and mirror in list order. Deliberately a separate implementation from lib/metadata's inverse,
 * so the round trip through both is a real check.
 */
import { uuidFrom } from './library';

export type SimEdit =
  | { action: 'crop'; parameters: { x: number; y: number; width: number; height: number } }
  | { action: 'rotate'; parameters: { angle: number } }
  | { action: 'mirror'; parameters: { axis: 'horizontal' | 'vertical' } };

export interface PixelBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  imageWidth: number;
  imageHeight: number;
}

type Matrix = [number, number, number, number, number, number]; // a b c d e f: x' = a x + c y + e, y' = b x + d y + f

const multiply = (m: Matrix, n: Matrix): Matrix => [
  m[0] * n[0] + m[2] * n[1],
  m[1] * n[0] + m[3] * n[1],
  m[0] * n[2] + m[2] * n[3],
  m[1] * n[2] + m[3] * n[3],
  m[0] * n[4] + m[2] * n[5] + m[4],
  m[1] * n[4] + m[3] * n[5] + m[5],
];
const translate = (x: number, y: number): Matrix => [1, 0, 0, 1, x, y];
const rotate = (radians: number): Matrix => [Math.cos(radians), Math.sin(radians), -Math.sin(radians), Math.cos(radians), 0, 0];
const apply = (m: Matrix, [x, y]: [number, number]): [number, number] => [m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]];

/** A stored face box as Immich serves it for an asset with these edits; the original is `original` (oriented) pixels. */
export function editedFaceBox(box: PixelBox, edits: readonly SimEdit[], original: { width: number; height: number }): PixelBox {
  if (edits.length === 0) return box;
  const sx = original.width / box.imageWidth;
  const sy = original.height / box.imageHeight;
  let points: [number, number][] = [
    [box.x1 * sx, box.y1 * sy],
    [box.x2 * sx, box.y2 * sy],
  ];
  let width = original.width;
  let height = original.height;
  const crop = edits.find((e) => e.action === 'crop');
  if (crop && crop.action === 'crop') {
    points = points.map(([x, y]) => [x - crop.parameters.x, y - crop.parameters.y]);
    width = crop.parameters.width;
    height = crop.parameters.height;
  }
  for (const edit of edits) {
    let m: Matrix;
    if (edit.action === 'rotate') {
      const angle = edit.parameters.angle;
      const [newWidth, newHeight] = angle === 90 || angle === 270 ? [height, width] : [width, height];
      m = multiply(translate(newWidth / 2, newHeight / 2), multiply(rotate((angle * Math.PI) / 180), translate(-width / 2, -height / 2)));
      width = newWidth;
      height = newHeight;
    } else if (edit.action === 'mirror') {
      const flip: Matrix = edit.parameters.axis === 'horizontal' ? [-1, 0, 0, 1, 0, 0] : [1, 0, 0, -1, 0, 0];
      m = multiply(translate(width / 2, height / 2), multiply(flip, translate(-width / 2, -height / 2)));
    } else continue;
    points = points.map((p) => apply(m, p));
  }
  const [[ax, ay], [bx, by]] = points;
  // The spec declares the box as integers.
  return {
    x1: Math.round(Math.min(ax, bx)),
    y1: Math.round(Math.min(ay, by)),
    x2: Math.round(Math.max(ax, bx)),
    y2: Math.round(Math.max(ay, by)),
    imageWidth: width,
    imageHeight: height,
  };
}

/** AssetEditsResponseDto for GET /assets/{id}/edits. */
export function assetEditsDto(assetId: string, edits: readonly SimEdit[]): Record<string, unknown> {
  return {
    assetId,
    edits: edits.map((edit, i) => ({ id: uuidFrom(`edit:${assetId}:${i}`), action: edit.action, parameters: { ...edit.parameters } })),
  };
}
