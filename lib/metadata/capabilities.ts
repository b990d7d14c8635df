/** Which metadata groups ExifTool can write into a target, by the FileType it reports. */

export type TargetKind = 'embedded' | 'sidecar';

export interface TargetCapabilities {
  exif: boolean;
  iptc: boolean;
  xmp: boolean;
  video: boolean;
}

const IPTC_TYPES = new Set(['JPEG', 'TIFF', 'PSD', 'DNG', 'EPS', 'PSB']);
const EXIF_TYPES = new Set([
  'JPEG', 'TIFF', 'PSD', 'DNG', 'PNG', 'WEBP', 'HEIC', 'HEIF', 'AVIF', 'JXL', 'CR2', 'CR3', 'NEF', 'ARW', 'ORF', 'RW2', 'PEF', 'RAF',
]);
const VIDEO_TYPES = new Set(['MP4', 'MOV', 'M4V', '3GP', '3G2', 'AVI', 'MKV', 'WEBM', 'MTS', 'M2TS']);

/** Numeric form: "WEBP", where the printed form says "Extended WEBP". */
export const FILE_TYPE_TAG = 'File:FileType#';

export function capabilitiesFor(fileType: unknown, target: TargetKind): TargetCapabilities {
  const type = typeof fileType === 'string' ? (fileType.trim().toUpperCase().split(/\s+/).pop() ?? '') : '';
  const video = VIDEO_TYPES.has(type);
  if (target === 'sidecar' || type === 'XMP') return { exif: false, iptc: false, xmp: true, video: false };
  if (!type) {
    // FileType unknown (not read): EXIF and XMP are the safe common ground of every still format we handle.
    return { exif: true, iptc: false, xmp: true, video: false };
  }
  return { exif: EXIF_TYPES.has(type), iptc: IPTC_TYPES.has(type), xmp: true, video };
}
