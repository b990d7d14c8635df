/**
 * The few raster operations a face preview needs, on plain RGBA buffers: decode and encode JPEG (jpeg-js, pure
 * JavaScript, so the package installs without a native build), shrink, turn by EXIF orientation, draw boxes and
 * labels. Nothing here knows about faces or files.
 */
import * as jpeg from 'jpeg-js';

import type { ExifOrientation } from '../metadata/faceGeometry';
import { LABEL_FONT_ASCENT, LABEL_FONT_DESCENT, LABEL_FONT_GLYPHS, LABEL_FONT_OFFSET_X } from './labelFont';

export interface Raster {
  width: number;
  height: number;
  /** RGBA, row by row. */
  data: Uint8Array;
}

export type Rgb = readonly [number, number, number];

/** jpeg-js keeps the whole decoded image in memory: refuse what would take more than this. */
const MAX_DECODE_MEGAPIXELS = 40;

export function decodeJpeg(bytes: Buffer): Raster {
  const image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_DECODE_MEGAPIXELS, maxMemoryUsageInMB: 640 });
  return { width: image.width, height: image.height, data: image.data };
}

export function encodeJpeg(raster: Raster, quality = 85): Buffer {
  return jpeg.encode({ width: raster.width, height: raster.height, data: raster.data }, quality).data;
}

/** Shrinks so the long side is at most `longSide`, averaging the source pixels each target pixel covers. */
export function shrinkToFit(source: Raster, longSide: number): Raster {
  const scale = Math.min(1, longSide / Math.max(source.width, source.height));
  if (scale === 1) return source;
  const width = Math.max(1, Math.round(source.width * scale));
  const height = Math.max(1, Math.round(source.height * scale));
  const data = new Uint8Array(width * height * 4);
  for (let ty = 0; ty < height; ty++) {
    const sy0 = Math.floor((ty * source.height) / height);
    const sy1 = Math.max(sy0 + 1, Math.floor(((ty + 1) * source.height) / height));
    for (let tx = 0; tx < width; tx++) {
      const sx0 = Math.floor((tx * source.width) / width);
      const sx1 = Math.max(sx0 + 1, Math.floor(((tx + 1) * source.width) / width));
      let r = 0, g = 0, b = 0;
      for (let sy = sy0; sy < sy1; sy++) {
        let i = (sy * source.width + sx0) * 4;
        for (let sx = sx0; sx < sx1; sx++, i += 4) {
          r += source.data[i];
          g += source.data[i + 1];
          b += source.data[i + 2];
        }
      }
      const n = (sy1 - sy0) * (sx1 - sx0);
      const o = (ty * width + tx) * 4;
      data[o] = r / n;
      data[o + 1] = g / n;
      data[o + 2] = b / n;
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

/**
 * The stored pixels as a viewer shows them. For each displayed pixel, the stored pixel it comes from, per the
 * EXIF definitions (e.g. 6: the stored top row becomes the right column).
 */
export function orient(stored: Raster, orientation: ExifOrientation): Raster {
  if (orientation === 1) return stored;
  const sideways = orientation >= 5;
  const width = sideways ? stored.height : stored.width;
  const height = sideways ? stored.width : stored.height;
  const data = new Uint8Array(width * height * 4);
  const W = stored.width - 1;
  const H = stored.height - 1;
  const source: Record<ExifOrientation, (x: number, y: number) => [number, number]> = {
    1: (x, y) => [x, y],
    2: (x, y) => [W - x, y],
    3: (x, y) => [W - x, H - y],
    4: (x, y) => [x, H - y],
    5: (x, y) => [y, x],
    6: (x, y) => [y, H - x],
    7: (x, y) => [W - y, H - x],
    8: (x, y) => [W - y, x],
  };
  const from = source[orientation];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [sx, sy] = from(x, y);
      const i = (sy * stored.width + sx) * 4;
      const o = (y * width + x) * 4;
      data[o] = stored.data[i];
      data[o + 1] = stored.data[i + 1];
      data[o + 2] = stored.data[i + 2];
      data[o + 3] = 255;
    }
  }
  return { width, height, data };
}

function blend(raster: Raster, x: number, y: number, color: Rgb, alpha = 1): void {
  if (x < 0 || y < 0 || x >= raster.width || y >= raster.height || alpha <= 0) return;
  const i = (y * raster.width + x) * 4;
  for (let c = 0; c < 3; c++) raster.data[i + c] = Math.round(raster.data[i + c] * (1 - alpha) + color[c] * alpha);
}

export function fillRect(raster: Raster, x0: number, y0: number, x1: number, y1: number, color: Rgb, alpha = 1): void {
  for (let y = Math.max(0, y0); y < Math.min(raster.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(raster.width, x1); x++) blend(raster, x, y, color, alpha);
  }
}

/**
 * A box outline `thickness` pixels wide, drawn just outside the rectangle [x0, x1) × [y0, y1) so the pixels it
 * frames stay untouched. A dash length of 0 draws a solid line.
 */
export function strokeRect(raster: Raster, x0: number, y0: number, x1: number, y1: number, color: Rgb, thickness: number, dash = 0): void {
  const on = (t: number) => dash === 0 || Math.floor(t / dash) % 2 === 0;
  for (let k = 1; k <= thickness; k++) {
    for (let x = x0 - k; x < x1 + k; x++) {
      if (!on(x - x0)) continue;
      blend(raster, x, y0 - k, color);
      blend(raster, x, y1 - 1 + k, color);
    }
    for (let y = y0 - k; y < y1 + k; y++) {
      if (!on(y - y0)) continue;
      blend(raster, x0 - k, y, color);
      blend(raster, x1 - 1 + k, y, color);
    }
  }
}

interface Glyph {
  advance: number;
  width: number;
  coverage: Uint8Array;
}

let glyphs: Map<number, Glyph> | null = null;

function glyphFor(code: number): Glyph | undefined {
  if (!glyphs) {
    glyphs = new Map();
    for (const [cp, advance, width, packed] of LABEL_FONT_GLYPHS) {
      const bytes = Buffer.from(packed, 'base64');
      const coverage = new Uint8Array(width * (LABEL_FONT_ASCENT + LABEL_FONT_DESCENT));
      for (let i = 0; i < coverage.length; i++) coverage[i] = i % 2 === 0 ? bytes[i >> 1] >> 4 : bytes[i >> 1] & 0x0f;
      glyphs.set(cp, { advance, width, coverage });
    }
  }
  return glyphs.get(code) ?? glyphs.get(0x3f); // "?" for what the label font does not have
}

export const LABEL_HEIGHT = LABEL_FONT_ASCENT + LABEL_FONT_DESCENT;

export function textWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += glyphFor(ch.codePointAt(0)!)?.advance ?? 0;
  return width;
}

/** Text with its top-left corner at (x, y). */
export function drawText(raster: Raster, x: number, y: number, text: string, color: Rgb): void {
  let penX = x;
  for (const ch of text) {
    const glyph = glyphFor(ch.codePointAt(0)!);
    if (!glyph) continue;
    for (let gy = 0; gy < LABEL_HEIGHT; gy++) {
      for (let gx = 0; gx < glyph.width; gx++) {
        const coverage = glyph.coverage[gy * glyph.width + gx];
        if (coverage > 0) blend(raster, penX + gx + LABEL_FONT_OFFSET_X, y + gy, color, coverage / 15);
      }
    }
    penX += glyph.advance;
  }
}
