/** What Build Metadata Tags decides from an asset: Immich's truth per module, before looking at the file. */
import type { ImmichAssetType } from '../immich/types';

export const ALL_MODULES = ['people', 'faces', 'gps', 'caption', 'time', 'rating', 'albums', 'tags'] as const;
export type ModuleName = (typeof ALL_MODULES)[number];
/** The seed's `--all`: every module except albums and face coordinates (and tags, which is past the seed). */
export const DEFAULT_MODULES: ModuleName[] = ['people', 'gps', 'caption', 'time', 'rating'];

/** A face box, normalized to 0..1 of its frame (x to the right, y down), corners not centre. */
export interface NormalizedBox {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

/** One named face as Immich shows it, normalized in the DISPLAYED (EXIF-rotated) frame. */
export interface PlannedFace {
  name: string;
  personId: string | null;
  sourceType: string;
  displayed: NormalizedBox;
}

export interface PeoplePlan {
  names: string[];
  personInImage: boolean;
  flatKeywords: boolean;
  hierarchicalKeywords: boolean;
  /** Immich shows faces without a person that a shared face cluster may own: the file's other people are kept. */
  keepUnlistedPeople?: boolean;
}

export interface FacesPlan {
  faces: PlannedFace[];
  replaceForeignRegions: boolean;
  /** As PeoplePlan.keepUnlistedPeople: regions named after a person the file names are kept, not replaced. */
  keepUnlistedPeople?: boolean;
  /** Also Microsoft People Tagging regions (XMP-MP RegionInfo), which Windows reads. */
  microsoftRegions: boolean;
  /** Immich's view of the stored image, used when the target (a sidecar) cannot tell us. */
  fallbackStoredWidth: number | null;
  fallbackStoredHeight: number | null;
  fallbackOrientation: number | null;
}

export interface GpsPlan {
  latitude: number;
  longitude: number;
}

export interface CaptionPlan {
  description: string; // '' only when clearEmptyCaption asked for wiping
}

export interface TimePlan {
  /** Local wall clock "YYYY-MM-DDTHH:mm:ss.SSS" (no zone). */
  local: string;
  /** Minutes east of UTC; 0 also when Immich does not know the zone (it took the wall clock as UTC). */
  offsetMinutes: number;
}

export interface RatingPlan {
  rating: number; // -1 (rejected) or 1..5
}

export interface AlbumsPlan {
  names: string[];
  userComment: boolean;
}

export interface TagsPlan {
  /** Immich tag values, "/"-separated hierarchy, without our own roots. */
  values: string[];
}

export interface SkippedModule {
  module: ModuleName;
  reason: string;
}

/**
 * What Immich says about one asset, per module: plain JSON (it travels inside n8n items).
 * A module is absent when it was not requested or has nothing to write; `skipped` says why.
 */
export interface MetadataPlan {
  schemaVersion: 1;
  assetId: string;
  fileName: string;
  assetType: ImmichAssetType;
  modules: ModuleName[];
  people?: PeoplePlan;
  faces?: FacesPlan;
  gps?: GpsPlan;
  caption?: CaptionPlan;
  time?: TimePlan;
  rating?: RatingPlan;
  albums?: AlbumsPlan;
  tags?: TagsPlan;
  skipped: SkippedModule[];
  notes: string[];
}

/** Hierarchy roots we own in keyword lists (ARCHITECTURE.md, ownership rule). */
export const PEOPLE_ROOT = 'People';
export const ALBUMS_ROOT = 'Albums';
