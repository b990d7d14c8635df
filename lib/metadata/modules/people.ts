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
  const keepUnlistedPeople = unassignedFacesMayBeNamed(asset);
  return { plan: { names, personInImage, flatKeywords, hierarchicalKeywords, ...(keepUnlistedPeople ? { keepUnlistedPeople } : {}) } };
}

/**
 * Faces without a person count as unassigned. On a server with shared face clusters such a face may belong to a
 * person only another cluster member sees, so the people Immich lists may be incomplete: a person the file names
 * is then never removed (it may be that face), only added to.
 */
export function unassignedFacesMayBeNamed(asset: Pick<ImmichAssetDetails, 'faces' | 'sharedFaceClusters'>): boolean {
  return asset.sharedFaceClusters === true && asset.faces.some((face) => face.personId === null);
}
