/** People: named, visible people of the asset, as PersonInImage, flat keywords and People|… hierarchies. */
import type { ImmichAssetDetails } from '../../immich/types';
import type { BuildOptions, ModuleOutcome } from '../options';
import type { PeoplePlan } from '../types';
import { unique } from '../keywords';

export function planPeople(asset: ImmichAssetDetails, options: BuildOptions): ModuleOutcome<PeoplePlan> {
  const names = unique(
    asset.people.filter((person) => !person.isHidden).map((person) => person.name.trim()).filter((name) => name !== ''),
  );
  const { personInImage, flatKeywords, hierarchicalKeywords } = options.people;
  if (!personInImage && !flatKeywords && !hierarchicalKeywords) {
    return { skipped: 'every people target (PersonInImage, flat and hierarchical keywords) is turned off' };
  }
  // Planned even with no names: a person removed in Immich must disappear from the file too.
  return { plan: { names, personInImage, flatKeywords, hierarchicalKeywords } };
}
