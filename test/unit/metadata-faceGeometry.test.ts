import fc from 'fast-check';
import {
  boxToMpRectangle,
  boxToMwgArea,
  displayedDimensions,
  displayedToStored,
  editedBoxToOriginal,
  editedDimensions,
  EditNotInvertibleError,
  formatMpRectangle,
  isSideways,
  mpRectangleToBox,
  originalPointToEdited,
  parseMpRectangle,
  type ImageEdit,
  mwgAreaToBox,
  normalizeBox,
  storedToDisplayed,
  toOrientation,
  type ExifOrientation,
} from '../../lib/metadata/faceGeometry';
import type { NormalizedBox } from '../../lib/metadata/types';

const ORIENTATIONS: ExifOrientation[] = [1, 2, 3, 4, 5, 6, 7, 8];

const boxArb = fc
  .tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }))
  .map(([a, b, c, d]): NormalizedBox => ({ x1: Math.min(a, c), y1: Math.min(b, d), x2: Math.max(a, c), y2: Math.max(b, d) }));

function close(a: NormalizedBox, b: NormalizedBox) {
  for (const k of ['x1', 'y1', 'x2', 'y2'] as const) expect(a[k]).toBeCloseTo(b[k], 12);
}

describe('faceGeometry', () => {
  it.each(ORIENTATIONS)('orientation %i: displayed → stored → displayed is the identity', (o) => {
    fc.assert(fc.property(boxArb, (box) => close(storedToDisplayed(displayedToStored(box, o), o), box)));
  });

  it.each(ORIENTATIONS)('orientation %i: stored → displayed → stored is the identity', (o) => {
    fc.assert(fc.property(boxArb, (box) => close(displayedToStored(storedToDisplayed(box, o), o), box)));
  });

  // A face in the stored top-left corner, and where a viewer shows it (EXIF 2.32, Orientation).
  const corner: NormalizedBox = { x1: 0, y1: 0, x2: 0.1, y2: 0.2 };
  it.each<[ExifOrientation, NormalizedBox]>([
    [1, { x1: 0, y1: 0, x2: 0.1, y2: 0.2 }],
    [2, { x1: 0.9, y1: 0, x2: 1, y2: 0.2 }], // mirrored left-right
    [3, { x1: 0.9, y1: 0.8, x2: 1, y2: 1 }], // upside down
    [4, { x1: 0, y1: 0.8, x2: 0.1, y2: 1 }], // mirrored top-bottom
    [5, { x1: 0, y1: 0, x2: 0.2, y2: 0.1 }], // transposed
    [6, { x1: 0.8, y1: 0, x2: 1, y2: 0.1 }], // turned 90° clockwise: top-left goes top-right
    [7, { x1: 0.8, y1: 0.9, x2: 1, y2: 1 }], // transverse
    [8, { x1: 0, y1: 0.9, x2: 0.2, y2: 1 }], // turned 90° counter-clockwise: top-left goes bottom-left
  ])('orientation %i shows the stored top-left corner where a viewer does', (o, displayed) => {
    close(storedToDisplayed(corner, o), displayed);
  });

  it('swaps dimensions for the quarter turns only', () => {
    expect(ORIENTATIONS.filter(isSideways)).toEqual([5, 6, 7, 8]);
    expect(displayedDimensions(700, 840, 6)).toEqual({ width: 840, height: 700 });
    expect(displayedDimensions(840, 700, 3)).toEqual({ width: 840, height: 700 });
  });

  it('converts between corner boxes and MWG centre areas', () => {
    fc.assert(fc.property(boxArb, (box) => close(mwgAreaToBox(boxToMwgArea(box)), box)));
    expect(boxToMwgArea({ x1: 0.2, y1: 0.4, x2: 0.6, y2: 0.5 })).toEqual({ X: expect.closeTo(0.4, 12), Y: expect.closeTo(0.45, 12), W: expect.closeTo(0.4, 12), H: expect.closeTo(0.1, 12) });
    expect(normalizeBox({ x1: 84, y1: 70, x2: 420, y2: 350 }, 840, 700)).toEqual({ x1: 0.1, y1: 0.1, x2: 0.5, y2: 0.5 });
  });

  it('treats anything that is not an EXIF orientation as "as stored"', () => {
    expect(toOrientation('6')).toBe(6);
    expect(toOrientation(8)).toBe(8);
    for (const junk of [0, 9, '', null, undefined, 'Rotate 90 CW', 2.5]) expect(toOrientation(junk)).toBe(1);
  });
});

describe('Microsoft People Tagging rectangles', () => {
  test('top-left corner plus size, parsed with or without spaces, and a broken one is null', () => {
    const box = { x1: 0.25, y1: 0.1, x2: 0.5, y2: 0.6 };
    expect(formatMpRectangle(boxToMpRectangle(box))).toBe('0.25, 0.1, 0.25, 0.5');
    expect(mpRectangleToBox(parseMpRectangle('0.25,0.1,0.25,0.5')!)).toEqual(box);
    expect(parseMpRectangle('0.25, 0.1, 0.25')).toBeNull();
    expect(parseMpRectangle('a, b, c, d')).toBeNull();
    expect(parseMpRectangle(undefined)).toBeNull();
  });
});

describe('edits made in Immich', () => {
  const W = 840;
  const H = 700;
  const chains: ImageEdit[][] = [
    [{ action: 'crop', x: 100, y: 50, width: 500, height: 400 }],
    [{ action: 'rotate', angle: 90 }],
    [{ action: 'rotate', angle: -90 }],
    [{ action: 'mirror', axis: 'horizontal' }, { action: 'rotate', angle: 270 }],
    [{ action: 'rotate', angle: 180 }, { action: 'mirror', axis: 'vertical' }, { action: 'crop', x: 10, y: 20, width: 300, height: 200 }],
  ];
  test.each(chains.map((c) => [JSON.stringify(c), c]))('%s: mapping back undoes the forward move', (_label, edits) => {
    const box = { x1: 300, y1: 150, x2: 400, y2: 290 };
    const size = editedDimensions(edits as ImageEdit[], W, H);
    const [ax, ay] = originalPointToEdited([box.x1, box.y1], edits as ImageEdit[], W, H);
    const [bx, by] = originalPointToEdited([box.x2, box.y2], edits as ImageEdit[], W, H);
    const edited = normalizeBox({ x1: Math.min(ax, bx), y1: Math.min(ay, by), x2: Math.max(ax, bx), y2: Math.max(ay, by) }, size.width, size.height);
    const back = editedBoxToOriginal(edited, edits as ImageEdit[], W, H);
    expect(back.x1 * W).toBeCloseTo(box.x1, 6);
    expect(back.y1 * H).toBeCloseTo(box.y1, 6);
    expect(back.x2 * W).toBeCloseTo(box.x2, 6);
    expect(back.y2 * H).toBeCloseTo(box.y2, 6);
  });

  test('a quarter turn swaps the edited size; a crop sets it; a straightening angle has no exact inverse', () => {
    expect(editedDimensions([{ action: 'rotate', angle: 90 }], W, H)).toEqual({ width: H, height: W });
    expect(editedDimensions([{ action: 'crop', x: 0, y: 0, width: 10, height: 20 }, { action: 'rotate', angle: 270 }], W, H)).toEqual({ width: 20, height: 10 });
    expect(() => editedDimensions([{ action: 'rotate', angle: 33 }], W, H)).toThrow(EditNotInvertibleError);
  });
});
