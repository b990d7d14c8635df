import { DEFAULT_MODULES, type ModuleName } from './types';

export interface BuildOptions {
  modules: ModuleName[];
  people: { personInImage: boolean; flatKeywords: boolean; hierarchicalKeywords: boolean };
  /** The seed's behaviour: a favourite becomes 5 stars. Never lowers a rating. */
  favoriteAsFiveStars: boolean;
  /** An empty Immich description wipes the file's only when this is on. */
  clearEmptyCaption: boolean;
  /** Album names also into EXIF:UserComment (where cameras keep notes, so off by default). */
  albumsInUserComment: boolean;
  /** Drop regions that are not ours (other types, unnamed) when writing face regions. */
  replaceForeignRegions: boolean;
  /** With face regions, also write them as Microsoft People Tagging regions (what Windows shows). */
  microsoftRegions: boolean;
}

/** What callers pass: any subset, people switches included. */
export type BuildOptionsInput = Partial<Omit<BuildOptions, 'people'>> & { people?: Partial<BuildOptions['people']> };

export const DEFAULT_BUILD_OPTIONS: BuildOptions = Object.freeze({
  modules: Object.freeze([...DEFAULT_MODULES]) as ModuleName[],
  people: Object.freeze({ personInImage: true, flatKeywords: true, hierarchicalKeywords: true }),
  favoriteAsFiveStars: false,
  clearEmptyCaption: false,
  albumsInUserComment: false,
  replaceForeignRegions: false,
  microsoftRegions: true,
}) as BuildOptions;

/** Outcome of planning one module: a plan, or the reason there is nothing to write. */
export interface ModuleOutcome<T> {
  plan?: T;
  skipped?: string;
  notes?: string[];
}
