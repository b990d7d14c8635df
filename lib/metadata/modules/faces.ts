/**
 * Faces: MWG-RS RegionInfo, one named Face region per person, relative to the STORED pixels
 * (AppliedToDimensions), converted from Immich's displayed-frame boxes through EXIF Orientation; and the same boxes
 * as Microsoft People Tagging regions (XMP-MP RegionInfo, what Windows reads), in the same frame: ExifTool's
 * convert_regions config and digiKam's writer both turn one into the other without any orientation step, only
 * centre ↔ top-left corner.
 */
import type { ImmichAssetDetails, ImmichFace } from '../../immich/types';
import type { DiffContext } from '../diffContext';
import {
  boxToMpRectangle,
  boxToMwgArea,
  displayedDimensions,
  editedBoxToOriginal,
  editedDimensions,
  EditNotInvertibleError,
  formatMpRectangle,
  mpRectangleToBox,
  parseMpRectangle,
  displayedToStored,
  mwgAreaToBox,
  normalizeBox,
  storedToDisplayed,
  toOrientation,
  type ExifOrientation,
  type MwgArea,
} from '../faceGeometry';
import { leavesUnder, toStringList } from '../keywords';
import type { BuildOptions, ModuleOutcome } from '../options';
import { PEOPLE_ROOT, type FacesPlan, type NormalizedBox, type PlannedFace } from '../types';
import { unassignedFacesMayBeNamed } from './people';

/** Immich floors to whole pixels when it reads regions, so an echo of our own write may be 1 px off. */
export const FACE_TOLERANCE_PX = 1.5;
/** Moves each edge a quarter pixel into its pixel so Immich's floor() lands on the same whole pixel. */
const FLOOR_GUARD_PX = 0.25;

export const MP_REGION_TAG = 'XMP-MP:RegionInfoMP';

export const FACE_TAGS = {
  embedded: ['XMP-mwg-rs:RegionInfo', MP_REGION_TAG, 'ImageWidth#', 'ImageHeight#', 'Orientation#', 'XMP-lr:HierarchicalSubject', 'XMP-digiKam:TagsList'],
  sidecar: ['XMP-mwg-rs:RegionInfo', MP_REGION_TAG, 'XMP-lr:HierarchicalSubject', 'XMP-digiKam:TagsList'],
};

function preferred(a: ImmichFace, b: ImmichFace): ImmichFace {
  // An exif face is what the file already says; preferring it keeps re-runs from flip-flopping.
  if (a.sourceType === 'exif') return a;
  if (b.sourceType === 'exif') return b;
  return a;
}

export function planFaces(asset: ImmichAssetDetails, options: BuildOptions): ModuleOutcome<FacesPlan> {
  if (asset.type !== 'IMAGE') return { skipped: 'face regions are written for still images only' };
  const edited = editedFrame(asset);
  if ('skipped' in edited) return { skipped: edited.skipped };
  const notes: string[] = [];
  const byPerson = new Map<string, ImmichFace>();
  for (const face of asset.faces) {
    const name = face.personName?.trim();
    if (!name || face.personHidden) continue;
    if (!(face.imageWidth > 0 && face.imageHeight > 0 && face.x2 > face.x1 && face.y2 > face.y1)) {
      notes.push(`face ${face.id} of ${name} has an empty or invalid box; not written`);
      continue;
    }
    const key = face.personId ?? `name:${name}`;
    const other = byPerson.get(key);
    byPerson.set(key, other ? preferred(other, face) : face);
  }
  const faces: PlannedFace[] = [...byPerson.values()].map((face) => ({
    name: face.personName!.trim(),
    personId: face.personId,
    sourceType: face.sourceType,
    displayed: clampBox(edited.toOriginal(normalizeBox(face, face.imageWidth, face.imageHeight))),
  }));
  return {
    plan: {
      faces,
      replaceForeignRegions: options.replaceForeignRegions,
      ...(unassignedFacesMayBeNamed(asset) ? { keepUnlistedPeople: true } : {}),
      microsoftRegions: options.microsoftRegions,
      fallbackStoredWidth: asset.exif.exifImageWidth,
      fallbackStoredHeight: asset.exif.exifImageHeight,
      fallbackOrientation: asset.exif.orientation === null ? null : toOrientation(asset.exif.orientation),
    },
    notes,
  };
}

/**
 * Immich keeps face boxes in the displayed original and serves them (GET /faces, the faces nested in an asset) moved
 * into the edited image by the asset's edits (server/src/utils/transform.ts, transformFaceBoundingBox, called from
 * mapFaces with the asset's edits and its oriented EXIF size). Undoing the edits brings them back onto the original.
 */
function editedFrame(asset: ImmichAssetDetails): { toOriginal: (box: NormalizedBox) => NormalizedBox } | { skipped: string } {
  const same = { toOriginal: (box: NormalizedBox) => box };
  if (!asset.isEdited) return same;
  const why = 'the asset was edited in Immich, so its face boxes are in the edited frame';
  if (asset.editsUnavailable) return { skipped: `${why}, and its edits could not be read: ${asset.editsUnavailable}` };
  if (!asset.edits) return { skipped: `${why}, and its edits were not read (use the output of Get Asset Details)` };
  const edits = asset.edits;
  if (edits.length === 0) return same;
  const { exifImageWidth: width, exifImageHeight: height } = asset.exif;
  if (!(width && height && width > 0 && height > 0)) return { skipped: `${why}, and Immich does not know the original's size to map them back` };
  const original = displayedDimensions(width, height, toOrientation(asset.exif.orientation));
  try {
    editedDimensions(edits, original.width, original.height);
  } catch (error) {
    if (error instanceof EditNotInvertibleError) return { skipped: `${why}, and ${error.message}` };
    throw error;
  }
  return { toOriginal: (box) => editedBoxToOriginal(box, edits, original.width, original.height) };
}

function clampBox(box: NormalizedBox): NormalizedBox {
  const c = (v: number) => Math.min(1, Math.max(0, v));
  return { x1: c(box.x1), y1: c(box.y1), x2: c(box.x2), y2: c(box.y2) };
}

interface Region {
  Area?: { X?: number; Y?: number; W?: number; H?: number; Unit?: string };
  Name?: string;
  Type?: string;
  [key: string]: unknown;
}

interface RegionInfo {
  AppliedToDimensions?: { W?: number; H?: number; Unit?: string };
  RegionList?: Region[] | Region;
  [key: string]: unknown;
}

const round7 = (v: number) => Math.round(v * 1e7) / 1e7;

/** The MWG area we write for a displayed-frame box, with the floor guard applied in the displayed frame. */
export function regionArea(displayed: NormalizedBox, storedWidth: number, storedHeight: number, orientation: ExifOrientation) {
  const { width, height } = displayedDimensions(storedWidth, storedHeight, orientation);
  const guard = (v: number, size: number) => (Math.round(v * size * 1e4) / 1e4 + FLOOR_GUARD_PX) / size;
  const guarded: NormalizedBox = {
    x1: guard(displayed.x1, width),
    y1: guard(displayed.y1, height),
    x2: guard(displayed.x2, width),
    y2: guard(displayed.y2, height),
  };
  const area = boxToMwgArea(displayedToStored(guarded, orientation));
  return { X: round7(area.X), Y: round7(area.Y), W: round7(area.W), H: round7(area.H), Unit: 'normalized' };
}

function describe(name: string, box: NormalizedBox, width: number, height: number): string {
  const px = (v: number, size: number) => Math.round(v * size);
  return `${name}: ${px(box.x1, width)},${px(box.y1, height)}–${px(box.x2, width)},${px(box.y2, height)} of ${width}×${height}`;
}

function positiveNumber(value: unknown): number | null {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : null;
}

export function diffFaces(plan: FacesPlan, ctx: DiffContext): void {
  // Like people: no named face at all is more likely "not recognized yet" than "everyone left the photo".
  if (plan.faces.length === 0) return;
  const embedded = ctx.target === 'embedded';
  const storedWidth = (embedded ? positiveNumber(ctx.read('ImageWidth')) : null) ?? plan.fallbackStoredWidth;
  const storedHeight = (embedded ? positiveNumber(ctx.read('ImageHeight')) : null) ?? plan.fallbackStoredHeight;
  // The file is the truth for its own orientation (no tag = as stored); a sidecar cannot tell, Immich can.
  const orientation = toOrientation(embedded ? ctx.read('Orientation') : plan.fallbackOrientation);
  if (!storedWidth || !storedHeight) {
    ctx.note('face regions skipped: the image size is unknown (neither the file nor Immich gives it)');
    return;
  }

  const { owned, kept } = faceNames(plan, ctx);
  diffMwgRegions(plan, ctx, owned, kept, storedWidth, storedHeight, orientation);
  if (plan.microsoftRegions) diffMicrosoftRegions(plan, ctx, owned, kept, storedWidth, storedHeight, orientation);
}

/**
 * `owned`: names whose regions we write (and replace): the people we planned and the file's People| keywords.
 * `kept`: with keepUnlistedPeople, the file's people we did not plan: their regions stay, even with replaceForeignRegions.
 */
function faceNames(plan: FacesPlan, ctx: DiffContext): { owned: Set<string>; kept: Set<string> } {
  const filePeople = leavesUnder(
    {
      hierarchicalSubject: toStringList(ctx.read('XMP-lr:HierarchicalSubject')),
      tagsList: toStringList(ctx.read('XMP-digiKam:TagsList')),
    },
    [PEOPLE_ROOT],
  );
  const planned = new Set(plan.faces.map((face) => face.name));
  if (plan.keepUnlistedPeople) return { owned: planned, kept: new Set([...filePeople].filter((name) => !planned.has(name))) };
  for (const name of planned) filePeople.add(name);
  return { owned: filePeople, kept: new Set() };
}

function diffMwgRegions(
  plan: FacesPlan,
  ctx: DiffContext,
  ownedNames: Set<string>,
  keptNames: Set<string>,
  storedWidth: number,
  storedHeight: number,
  orientation: ExifOrientation,
): void {
  const info = (ctx.read('XMP-mwg-rs:RegionInfo') ?? null) as RegionInfo | null;
  const regions: Region[] = info?.RegionList === undefined ? [] : Array.isArray(info.RegionList) ? info.RegionList : [info.RegionList];
  const isOurs = (r: Region) => typeof r.Name === 'string' && ownedNames.has(r.Name) && (r.Type === undefined || r.Type === 'Face');
  const isKept = (r: Region) => typeof r.Name === 'string' && keptNames.has(r.Name);
  const ours = regions.filter(isOurs);
  const foreign = regions.filter((r) => !isOurs(r) && (!plan.replaceForeignRegions || isKept(r)));

  const wanted: Region[] = plan.faces.map((face) => ({
    Area: regionArea(face.displayed, storedWidth, storedHeight, orientation),
    Name: face.name,
    Type: 'Face',
  }));

  const dims = info?.AppliedToDimensions;
  const sameDims = Number(dims?.W) === storedWidth && Number(dims?.H) === storedHeight;
  const nothingDropped = foreign.length + ours.length === regions.length;
  if (sameDims && nothingDropped && sameRegions(ours, wanted, storedWidth, storedHeight)) return;

  const display = displayedDimensions(storedWidth, storedHeight, orientation);
  const describeRegions = (list: Region[], w: number, h: number) =>
    list.flatMap((r) => {
      const area = numericArea(r.Area);
      return area && r.Name ? [describe(r.Name, storedToDisplayed(mwgAreaToBox(area), orientation), w, h)] : [];
    });
  const beforeDims = displayedDimensions(Number(dims?.W) || storedWidth, Number(dims?.H) || storedHeight, orientation);
  const before = describeRegions(ours, beforeDims.width, beforeDims.height);
  const after = describeRegions(wanted, display.width, display.height);

  // Foreign regions are normalized too, so they stay valid under the new AppliedToDimensions.
  const value = { AppliedToDimensions: { W: storedWidth, H: storedHeight, Unit: 'pixel' }, RegionList: [...foreign, ...wanted] };
  // Dry Run shows boxes in the displayed frame, not the structure.
  ctx.write('XMP-mwg-rs:RegionInfo', value, 'Face regions', before, after);
}

interface MpRegion {
  PersonDisplayName?: string;
  Rectangle?: string;
  [key: string]: unknown;
}

interface MpRegionInfo {
  Regions?: MpRegion[] | MpRegion;
  [key: string]: unknown;
}

/** Microsoft People Tagging regions: the same boxes as our MWG regions, top-left corner instead of centre. */
function diffMicrosoftRegions(
  plan: FacesPlan,
  ctx: DiffContext,
  ownedNames: Set<string>,
  keptNames: Set<string>,
  storedWidth: number,
  storedHeight: number,
  orientation: ExifOrientation,
): void {
  const info = (ctx.read(MP_REGION_TAG) ?? null) as MpRegionInfo | null;
  const regions: MpRegion[] = info?.Regions === undefined ? [] : Array.isArray(info.Regions) ? info.Regions : [info.Regions];
  const isOurs = (r: MpRegion) => typeof r.PersonDisplayName === 'string' && ownedNames.has(r.PersonDisplayName);
  const isKept = (r: MpRegion) => typeof r.PersonDisplayName === 'string' && keptNames.has(r.PersonDisplayName);
  const ours = regions.filter(isOurs);
  const foreign = regions.filter((r) => !isOurs(r) && (!plan.replaceForeignRegions || isKept(r)));
  const wanted: MpRegion[] = plan.faces.map((face) => {
    const area = regionArea(face.displayed, storedWidth, storedHeight, orientation);
    return { PersonDisplayName: face.name, Rectangle: formatMpRectangle(boxToMpRectangle(mwgAreaToBox(area))) };
  });
  const toArea = (r: MpRegion): Region['Area'] => {
    const rect = parseMpRectangle(r.Rectangle);
    return rect ? { ...boxToMwgArea(mpRectangleToBox(rect)), Unit: 'normalized' } : undefined;
  };
  const asMwg = (list: MpRegion[]): Region[] => list.map((r) => ({ Name: r.PersonDisplayName, Area: toArea(r) }));
  const nothingDropped = foreign.length + ours.length === regions.length;
  if (nothingDropped && sameRegions(asMwg(ours), asMwg(wanted), storedWidth, storedHeight)) return;

  const display = displayedDimensions(storedWidth, storedHeight, orientation);
  const describeRegions = (list: MpRegion[]) =>
    list.flatMap((r) => {
      const rect = parseMpRectangle(r.Rectangle);
      return rect && r.PersonDisplayName ? [describe(r.PersonDisplayName, storedToDisplayed(mpRectangleToBox(rect), orientation), display.width, display.height)] : [];
    });
  // Other fields of the structure (DateRegionsValid) stay as they were.
  ctx.write(MP_REGION_TAG, { ...(info ?? {}), Regions: [...foreign, ...wanted] }, 'Windows people regions', describeRegions(ours), describeRegions(wanted));
}

function sameRegions(current: Region[], wanted: Region[], width: number, height: number): boolean {
  if (current.length !== wanted.length) return false;
  const remaining = [...current];
  for (const w of wanted) {
    const i = remaining.findIndex((c) => c.Name === w.Name && nearArea(c.Area, w.Area, width, height));
    if (i < 0) return false;
    remaining.splice(i, 1);
  }
  return true;
}

/** A normalized MWG area with all four numbers, or null. */
function numericArea(area: Region['Area']): MwgArea | null {
  if (!area || (area.Unit !== undefined && area.Unit !== 'normalized')) return null;
  const { X, Y, W, H } = area;
  return typeof X === 'number' && typeof Y === 'number' && typeof W === 'number' && typeof H === 'number' ? { X, Y, W, H } : null;
}

function nearArea(a: Region['Area'], b: Region['Area'], width: number, height: number): boolean {
  const areaA = numericArea(a);
  const areaB = numericArea(b);
  if (!areaA || !areaB) return false;
  const boxA = mwgAreaToBox(areaA);
  const boxB = mwgAreaToBox(areaB);
  return (
    Math.abs(boxA.x1 - boxB.x1) * width <= FACE_TOLERANCE_PX &&
    Math.abs(boxA.x2 - boxB.x2) * width <= FACE_TOLERANCE_PX &&
    Math.abs(boxA.y1 - boxB.y1) * height <= FACE_TOLERANCE_PX &&
    Math.abs(boxA.y2 - boxB.y2) * height <= FACE_TOLERANCE_PX
  );
}
