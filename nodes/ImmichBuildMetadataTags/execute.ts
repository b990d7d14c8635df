import { NodeOperationError, type IDataObject, type IExecuteFunctions, type INodeExecutionData } from 'n8n-workflow';

import type { ImmichAssetDetails } from '../../lib/immich/types';
import { buildMetadataPlan } from '../../lib/metadata/plan';
import { ALL_MODULES, DEFAULT_MODULES, type ModuleName } from '../../lib/metadata/types';
import type { BuildOptions } from '../../lib/metadata/options';
import { ALL_STANDARD_MODULES } from './description';

/** "all" expands to the standard modules; opt-in modules selected next to it are added. */
export function modulesFromSelection(selection: readonly string[]): ModuleName[] {
  const chosen = new Set<ModuleName>();
  for (const value of selection) {
    if (value === ALL_STANDARD_MODULES) DEFAULT_MODULES.forEach((m) => chosen.add(m));
    else if ((ALL_MODULES as readonly string[]).includes(value)) chosen.add(value as ModuleName);
    else throw new Error(`Unknown module "${value}"`);
  }
  return ALL_MODULES.filter((m) => chosen.has(m));
}

function buildOptionsFor(ctx: IExecuteFunctions, i: number): BuildOptions {
  const flag = (name: string, fallback: boolean) => ctx.getNodeParameter(name, i, fallback) as boolean;
  return {
    modules: modulesFromSelection(ctx.getNodeParameter('modules', i, [ALL_STANDARD_MODULES]) as string[]),
    people: {
      personInImage: flag('personInImage', true),
      flatKeywords: flag('flatKeywords', true),
      hierarchicalKeywords: flag('hierarchicalKeywords', true),
    },
    favoriteAsFiveStars: flag('favoriteAsFiveStars', false),
    clearEmptyCaption: flag('clearEmptyCaption', false),
    albumsInUserComment: flag('albumsInUserComment', false),
    replaceForeignRegions: flag('replaceForeignRegions', false),
    microsoftRegions: flag('microsoftRegions', true),
  };
}

/** Get Asset Details output is required: a Search Assets item lacks faces, albums and tags. */
function assetDetailsOf(json: IDataObject): ImmichAssetDetails {
  const asset = json as unknown as Partial<ImmichAssetDetails>;
  const missing = (['id', 'originalPath', 'exif', 'people', 'faces', 'tags', 'albums'] as const).filter((k) => asset[k] === undefined || asset[k] === null);
  if (missing.length > 0) {
    throw new Error(
      `Item${typeof asset.id === 'string' ? ` for asset ${asset.id}` : ''} is not an Immich asset with details (missing: ${missing.join(', ')}). Put "Immich Get Asset Details" before this node.`,
    );
  }
  return asset as ImmichAssetDetails;
}

export async function executeBuildMetadataTags(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const items = this.getInputData();
  const output: INodeExecutionData[] = [];
  for (let i = 0; i < items.length; i++) {
    try {
      const asset = assetDetailsOf(items[i].json);
      const metadataPlan = buildMetadataPlan(asset, buildOptionsFor(this, i));
      output.push({ json: { ...items[i].json, metadataPlan: metadataPlan as unknown as IDataObject }, pairedItem: { item: i } });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (this.continueOnFail()) {
        output.push({ json: { ...items[i].json, error: message }, pairedItem: { item: i } });
        continue;
      }
      throw new NodeOperationError(this.getNode(), message, { itemIndex: i });
    }
  }
  return [output];
}
