/** The outcome of one asset in Write Metadata (and the command line). */

export type WriteStatus = 'written' | 'unchanged' | 'skipped' | 'failed';

export interface FieldChange {
  field: string; // human-readable field, e.g. "Rating", "Keywords", "Face regions"
  before: unknown;
  after: unknown;
  file?: string; // set when an asset's result covers more than one file (original + sidecar)
}

export interface AssetWriteResult {
  assetId: string;
  file: string | null; // the local file (or sidecar) we wrote or would write
  status: WriteStatus;
  reason?: string; // for skipped and failed: what happened and what to do
  changes: FieldChange[];
  dryRun: boolean;
  verified?: boolean; // true when tags read back and the image data hash is unchanged
  files?: string[]; // every file this result covers, when more than one (original + its sidecar)
  notes?: string[]; // what the diff decided not to do (e.g. kept a foreign description), for the user
  fromIndex?: boolean; // unchanged by the sync index (same plan, same file signature): ExifTool was not asked
}
