/** Tags: Immich's own tags as hierarchies plus their leaf as a flat keyword (never our People/Albums echoes). */
import type { ImmichAssetDetails } from '../../immich/types';
import { isOwnedValue, unique } from '../keywords';
import type { ModuleOutcome } from '../options';
import { ALBUMS_ROOT, PEOPLE_ROOT, type TagsPlan } from '../types';

export function planTags(asset: ImmichAssetDetails): ModuleOutcome<TagsPlan> {
  const values = unique(
    asset.tags
      .map((value) => value.split('/').map((level) => level.trim()).filter((level) => level !== '').join('/'))
      .filter((value) => value !== ''),
  );
  // Immich made these from our own People|/Albums| hierarchies: writing them back would duplicate them.
  const roots = new Set([PEOPLE_ROOT, ALBUMS_ROOT]);
  const own = values.filter((value) => isOwnedValue(value, roots));
  const kept = values.filter((value) => !own.includes(value));
  if (kept.length === 0) return { skipped: 'the asset has no Immich tags (besides our own People/ and Albums/ echoes)' };
  return { plan: { values: kept } };
}

export function tagLeaf(value: string): string {
  const levels = value.split('/');
  return levels[levels.length - 1];
}
