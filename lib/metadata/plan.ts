/** Build Metadata Tags: what Immich says about an asset, per module. Pure; the result is plain JSON. */
import type { ImmichAssetDetails } from '../immich/types';
import { planAlbums } from './modules/albums';
import { planCaption } from './modules/caption';
import { planFaces } from './modules/faces';
import { planGps } from './modules/gps';
import { planPeople } from './modules/people';
import { planRating } from './modules/rating';
import { planTags } from './modules/tags';
import { planTime } from './modules/time';
import { DEFAULT_BUILD_OPTIONS, type BuildOptions, type BuildOptionsInput, type ModuleOutcome } from './options';
import { ALL_MODULES, type MetadataPlan, type ModuleName } from './types';

export { DEFAULT_BUILD_OPTIONS };
export type { BuildOptions, BuildOptionsInput };

export class MetadataPlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetadataPlanError';
  }
}

export function resolveBuildOptions(options: BuildOptionsInput = {}): BuildOptions {
  const modules = options.modules ?? DEFAULT_BUILD_OPTIONS.modules;
  const unknown = modules.filter((m) => !(ALL_MODULES as readonly string[]).includes(m));
  if (unknown.length > 0) {
    throw new MetadataPlanError(`Unknown metadata module(s): ${unknown.join(', ')}. Use any of: ${ALL_MODULES.join(', ')}`);
  }
  return {
    ...DEFAULT_BUILD_OPTIONS,
    ...options,
    modules: ALL_MODULES.filter((m) => modules.includes(m)),
    people: { ...DEFAULT_BUILD_OPTIONS.people, ...(options.people ?? {}) },
  };
}

function assetLabel(asset: Partial<ImmichAssetDetails>): string {
  return `asset ${asset.id ?? '(no id)'}${asset.originalFileName ? ` (${asset.originalFileName})` : ''}`;
}

/** Fails early, naming the asset, when the input is not what Get Asset Details emits. */
function checkDetails(asset: ImmichAssetDetails, modules: ModuleName[]): void {
  const label = assetLabel(asset);
  if (!asset || typeof asset !== 'object' || typeof asset.id !== 'string') {
    throw new MetadataPlanError(`Build Metadata Tags needs Immich asset details; got ${JSON.stringify(asset)?.slice(0, 80)}`);
  }
  if (!asset.exif) {
    throw new MetadataPlanError(`${label} has no EXIF info: put "Get Asset Details" before "Build Metadata Tags"`);
  }
  const lists: [ModuleName, keyof ImmichAssetDetails][] = [
    ['people', 'people'],
    ['faces', 'faces'],
    ['albums', 'albums'],
    ['tags', 'tags'],
  ];
  for (const [module, field] of lists) {
    if (modules.includes(module) && !Array.isArray(asset[field])) {
      throw new MetadataPlanError(`${label} has no "${field}" list, which the ${module} module needs: use "Get Asset Details" output`);
    }
  }
}

export function buildMetadataPlan(asset: ImmichAssetDetails, options: BuildOptionsInput = {}): MetadataPlan {
  const resolved = resolveBuildOptions(options);
  checkDetails(asset, resolved.modules);
  const plan: MetadataPlan = {
    schemaVersion: 1,
    assetId: asset.id,
    fileName: asset.originalFileName,
    assetType: asset.type,
    modules: resolved.modules,
    skipped: [],
    notes: [],
  };
  const take = <T>(module: ModuleName, outcome: ModuleOutcome<T>, assign: (value: T) => void) => {
    if (outcome.plan !== undefined) assign(outcome.plan);
    if (outcome.skipped) plan.skipped.push({ module, reason: outcome.skipped });
    plan.notes.push(...(outcome.notes ?? []));
  };
  for (const module of resolved.modules) {
    switch (module) {
      case 'people':
        take(module, planPeople(asset, resolved), (v) => (plan.people = v));
        break;
      case 'faces':
        take(module, planFaces(asset, resolved), (v) => (plan.faces = v));
        break;
      case 'gps':
        take(module, planGps(asset), (v) => (plan.gps = v));
        break;
      case 'caption':
        take(module, planCaption(asset, resolved), (v) => (plan.caption = v));
        break;
      case 'time':
        take(module, planTime(asset), (v) => (plan.time = v));
        break;
      case 'rating':
        take(module, planRating(asset, resolved), (v) => (plan.rating = v));
        break;
      case 'albums':
        take(module, planAlbums(asset, resolved), (v) => (plan.albums = v));
        break;
      case 'tags':
        take(module, planTags(asset), (v) => (plan.tags = v));
        break;
    }
  }
  return plan;
}
