/** Write Metadata's face previews: which items get one, and how it rides on the n8n item (a binary property). */
import type { ExifTool } from 'exiftool-vendored';
import * as path from 'path';
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { assertAllowed, type PathGuard } from '../../lib/files/pathGuard';
import { checkRealPathInside, mapAssetPath, type PathMapping } from '../../lib/files/pathMapping';
import type { AssetWriteResult } from '../../lib/files/types';
import type { ImmichAssetDetails } from '../../lib/immich/types';
import type { MetadataPlan } from '../../lib/metadata/types';
import { renderFacePreview, type FacePreview } from '../../lib/preview/facePreview';

export type FacePreviewMode = 'dryRun' | 'always' | 'never';

export const FACE_PREVIEW_PROPERTY = 'facePreview';

export function wantsFacePreview(mode: FacePreviewMode, dryRun: boolean, plan: MetadataPlan): boolean {
  if (mode === 'never' || (mode === 'dryRun' && !dryRun)) return false;
  return (plan.faces?.faces.length ?? 0) > 0;
}

/** After the write (or dry run): the media file Immich's path maps to, with the sidecar the result names. */
export async function facePreviewFor(
  exiftool: ExifTool,
  asset: ImmichAssetDetails & { metadataPlan: MetadataPlan },
  settings: { libraryPath: string; mapping: PathMapping; pathGuard?: PathGuard },
  result: AssetWriteResult,
): Promise<FacePreview | null> {
  if (result.status === 'failed' || result.status === 'skipped') return null;
  const mapped = mapAssetPath(asset.id, asset.originalPath, settings.libraryPath, settings.mapping);
  if (!mapped.ok) return null;
  const inside = await checkRealPathInside(asset.id, settings.libraryPath, mapped.path);
  if (!inside.ok) return null;
  const sidecar = (result.files ?? [result.file]).find((f): f is string => typeof f === 'string' && /\.xmp$/i.test(f));
  try {
    await assertAllowed(settings.pathGuard, mapped.path, ...(sidecar ? [sidecar] : []));
    return await renderFacePreview(exiftool, mapped.path, asset.metadataPlan, { sidecar });
  } catch (error) {
    // A preview is an aid: a file it cannot draw still gets its metadata written.
    return { ok: false, reason: `no face preview for ${mapped.path}: ${(error as Error).message}` };
  }
}

export async function attachFacePreview(ctx: IExecuteFunctions, item: INodeExecutionData, preview: FacePreview | null | undefined): Promise<void> {
  if (!preview) return;
  if (!preview.ok) {
    item.json.facePreviewSkipped = preview.reason;
    return;
  }
  const file = typeof item.json.file === 'string' ? item.json.file : 'photo.jpg';
  const name = `${path.basename(file).replace(/\.[^.]*$/, '')}-faces.jpg`;
  item.binary = { ...(item.binary ?? {}), [FACE_PREVIEW_PROPERTY]: await ctx.helpers.prepareBinaryData(preview.jpeg, name, 'image/jpeg') };
  item.json.facePreview = {
    binaryProperty: FACE_PREVIEW_PROPERTY,
    width: preview.width,
    height: preview.height,
    orientation: preview.orientation,
    pixelsFrom: preview.source,
    boxes: preview.boxes as unknown as IDataObject[],
  };
}
