/** Rating: Immich's stars (or rejection); nothing when Immich has none, so the file's rating survives. */
import type { ImmichAssetDetails } from '../../immich/types';
import type { DiffContext } from '../diffContext';
import type { BuildOptions, ModuleOutcome } from '../options';
import type { RatingPlan } from '../types';

function validRating(value: number | null): number | null {
  if (value === null || !Number.isInteger(value)) return null;
  return value === -1 || (value >= 1 && value <= 5) ? value : null;
}

export function planRating(asset: ImmichAssetDetails, options: BuildOptions): ModuleOutcome<RatingPlan> {
  const rating = validRating(asset.exif.rating);
  if (options.favoriteAsFiveStars && asset.isFavorite) {
    // 5 is the top of the scale, so this can only raise what Immich has.
    return { plan: { rating: 5 } };
  }
  if (rating === null) return { skipped: 'Immich has no rating; the file keeps its own' };
  return { plan: { rating } };
}

export const RATING_TAGS = { embedded: ['XMP-xmp:Rating#', 'IFD0:Rating#'], sidecar: ['XMP-xmp:Rating#'] };

export function diffRating(plan: RatingPlan, ctx: DiffContext): void {
  const differs = (value: unknown) => value === undefined || Number(value) !== plan.rating;
  if (differs(ctx.read('XMP-xmp:Rating'))) ctx.write('XMP-xmp:Rating', plan.rating, 'Rating');
  // The EXIF copy (Windows) is only kept in step when the file has one; readers may prefer it.
  const exif = ctx.read('IFD0:Rating');
  if (ctx.target === 'embedded' && ctx.capabilities.exif && exif !== undefined && differs(exif)) {
    ctx.write('IFD0:Rating', plan.rating, 'Rating');
  }
}
