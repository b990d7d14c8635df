/** What Build Metadata Tags decides from an asset: Immich's truth per module, before looking at the file. */

export const ALL_MODULES = ['people', 'faces', 'gps', 'caption', 'time', 'rating', 'albums', 'tags'] as const;
export type ModuleName = (typeof ALL_MODULES)[number];
/** The seed's `--all`: every module except albums and face coordinates (and tags, which is past the seed). */
export const DEFAULT_MODULES: ModuleName[] = ['people', 'gps', 'caption', 'time', 'rating'];
