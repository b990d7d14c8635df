/**
 * The shapes the core works with. They are a normalized subset of Immich's DTOs (v2.x and v3.x):
 * the client converts server responses into these, so nothing downstream cares which version answered.
 */

export type ImmichAssetType = 'IMAGE' | 'VIDEO' | 'AUDIO' | 'OTHER';

export interface ImmichExif {
  dateTimeOriginal: string | null; // ISO instant (UTC) as Immich stores it
  timeZone: string | null; // e.g. "UTC+9", "America/Chicago"; null when Immich does not know
  description: string | null;
  rating: number | null;
  latitude: number | null;
  longitude: number | null;
  orientation: string | null; // EXIF Orientation as Immich reports it ("1".."8")
  exifImageWidth: number | null;
  exifImageHeight: number | null;
}

export interface ImmichAssetSummary {
  id: string;
  type: ImmichAssetType;
  originalPath: string;
  originalFileName: string;
  libraryId: string | null; // set for external-library assets, null for uploads
  updatedAt: string;
  fileCreatedAt: string;
  localDateTime: string; // local wall-clock time written as if it were UTC (Immich convention)
  isFavorite: boolean;
  isTrashed: boolean;
  visibility: string;
  isEdited: boolean;
  width: number | null;
  height: number | null;
  exif: ImmichExif | null; // present when the search asked withExif, or after Get Asset Details
  people: ImmichPerson[] | null; // present when the search asked withPeople, or after Get Asset Details
}

export interface ImmichPerson {
  id: string;
  name: string;
  isHidden: boolean;
  updatedAt: string | null;
}

/** A face box in the displayed (EXIF-rotated, edited when isEdited) frame of imageWidth × imageHeight. */
export interface ImmichFace {
  id: string;
  personId: string | null;
  personName: string | null; // null for unassigned faces or unnamed people
  personHidden: boolean;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  imageWidth: number;
  imageHeight: number;
  sourceType: 'machine-learning' | 'exif' | 'manual' | string;
}

/** One edit made in Immich's editor (GET /assets/{id}/edits); a crop is in pixels of the displayed original. */
export type ImmichAssetEdit =
  | { action: 'crop'; x: number; y: number; width: number; height: number }
  | { action: 'rotate'; angle: number }
  | { action: 'mirror'; axis: 'horizontal' | 'vertical' };

export interface ImmichAssetDetails extends ImmichAssetSummary {
  exif: ImmichExif;
  people: ImmichPerson[];
  faces: ImmichFace[];
  tags: string[]; // full tag values, hierarchy separated by "/" (Immich's TagResponseDto.value)
  albums: string[]; // album names
  serverMajor: number;
  /**
   * The server has shared face clusters (Immich v3.2 and newer): a face of a person another member of the
   * cluster owns comes back with `person: null`, so an unassigned face may be someone the asset's people omit.
   */
  sharedFaceClusters?: boolean;
  /**
   * Immich's edits of an edited asset (isEdited), in order; absent when not read. Immich serves the face boxes of an
   * edited asset in the edited frame, so the faces module needs these to map them back onto the original file.
   */
  edits?: ImmichAssetEdit[];
  /** Why the edits of an edited asset could not be read (e.g. the API key lacks asset.edit.get). */
  editsUnavailable?: string;
}

/* ---- added by the Immich client (lib/immich/client.ts) ---- */

export type ImmichVisibility = 'archive' | 'timeline' | 'hidden' | 'locked';

export interface ImmichServerVersion {
  major: number;
  minor: number;
  patch: number;
}

/** What a user can filter a search by (maps onto Immich's MetadataSearchDto). Dates are ISO strings. */
/** One page of POST /search/metadata: `next` is the token of the following page, null on the last one. */
export interface ImmichSearchPage {
  items: ImmichAssetSummary[];
  next: string | null;
}

export interface ImmichSearchFilters {
  type?: ImmichAssetType;
  updatedAfter?: string; // inclusive (Immich compares >=)
  updatedBefore?: string;
  takenAfter?: string;
  takenBefore?: string;
  albumIds?: string[];
  personIds?: string[];
  tagIds?: string[];
  isFavorite?: boolean;
  visibility?: ImmichVisibility;
  /** Trashed assets are excluded unless this is true. */
  includeTrashed?: boolean;
  /** Ask for EXIF in the search result. Immich inner-joins EXIF: assets not yet extracted are left out. */
  withExif?: boolean;
  withPeople?: boolean;
  order?: 'asc' | 'desc';
}

/**
 * asset id → names (albums) or values (tags), built without a request per asset. Plain JSON so that
 * lib/sync can keep it in workflow static data with a TTL.
 */
export interface ImmichMembershipMap {
  kind: 'albums' | 'tags';
  builtAt: string; // ISO instant
  /** How many albums/tags were read to build it. */
  sourceCount: number;
  byAsset: Record<string, string[]>;
}
