/** Caption: the description, in every place a reader may take it from, so they all agree. */
import type { ImmichAssetDetails } from '../../immich/types';
import type { DiffContext } from '../diffContext';
import type { BuildOptions, ModuleOutcome } from '../options';
import { IPTC_CAPTION_MAX_BYTES, sameText, truncateUtf8 } from '../text';
import type { CaptionPlan } from '../types';

/** Descriptions cameras put in by default; Immich shows them, but they are not anyone's caption. */
const CAMERA_DEFAULT_DESCRIPTIONS = new Set(
  ['SONY DSC', 'OLYMPUS DIGITAL CAMERA', 'DIGITAL CAMERA', 'KONICA MINOLTA DIGITAL CAMERA', 'MINOLTA DIGITAL CAMERA', 'DCIM', 'SAMSUNG', 'DCF 1.0', 'Default'].map(
    (s) => s.toUpperCase(),
  ),
);

export function planCaption(asset: ImmichAssetDetails, options: BuildOptions): ModuleOutcome<CaptionPlan> {
  const description = (asset.exif.description ?? '').trim();
  if (description === '') {
    return options.clearEmptyCaption
      ? { plan: { description: '' } }
      : { skipped: 'Immich has no description; the file keeps its own (turn on "Clear Empty Caption" to wipe it)' };
  }
  if (CAMERA_DEFAULT_DESCRIPTIONS.has(description.toUpperCase())) {
    return { skipped: `the description "${description}" is a camera default, not a caption; not copied into XMP/IPTC` };
  }
  return { plan: { description } };
}

export const CAPTION_TAGS = {
  embedded: ['XMP-dc:Description', 'IPTC:Caption-Abstract', 'IFD0:ImageDescription', 'XMP-tiff:ImageDescription'],
  // Immich reads ImageDescription before Description, and a sidecar only overrides what it holds:
  // XMP-tiff:ImageDescription is the sidecar's ImageDescription, masking camera junk in the original.
  sidecar: ['XMP-dc:Description', 'XMP-tiff:ImageDescription'],
};

export function diffCaption(plan: CaptionPlan, ctx: DiffContext): void {
  const wanted = plan.description;
  const set = (tag: string, value: string) => {
    const current = ctx.read(tag);
    if (wanted === '') {
      if (!sameText(current, '')) ctx.write(tag, null, 'Caption');
    } else if (!sameText(current, value)) {
      ctx.write(tag, value, 'Caption');
    }
  };
  if (ctx.target === 'sidecar') {
    set('XMP-dc:Description', wanted);
    set('XMP-tiff:ImageDescription', wanted);
    return;
  }
  set('XMP-dc:Description', wanted);
  if (ctx.capabilities.exif) set('IFD0:ImageDescription', wanted);
  if (ctx.read('XMP-tiff:ImageDescription') !== undefined) set('XMP-tiff:ImageDescription', wanted);
  if (ctx.capabilities.iptc) {
    const iptc = truncateUtf8(wanted, IPTC_CAPTION_MAX_BYTES);
    if (iptc !== wanted) ctx.note(`IPTC:Caption-Abstract holds at most ${IPTC_CAPTION_MAX_BYTES} bytes; the caption was cut there`);
    set('IPTC:Caption-Abstract', iptc);
  }
}
