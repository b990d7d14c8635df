/** Search Assets: one output item per asset (ImmichAssetSummary), or a sync batch (checkpointMode.ts). */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import type { ImmichSearchFilters } from '../../lib/immich/types';
import { errorItem, immichNodeError, messageOf } from '../shared/errors';
import { immichClientFor } from '../shared/immichClient';
import { executeSyncBatch, SEARCH_MODE_PARAMETER, SYNC_BATCH_MODE } from './checkpointMode';

interface FilterParameters {
  albumIds?: string[] | string;
  personIds?: string[] | string;
  tagIds?: string[] | string;
  favorite?: 'any' | 'favorites' | 'nonFavorites';
  includeTrashed?: boolean;
  takenAfter?: string;
  takenBefore?: string;
  updatedAfter?: string;
  updatedBefore?: string;
  type?: string;
  visibility?: string;
}

interface OptionParameters {
  order?: 'asc' | 'desc';
  pageSize?: number;
  withExif?: boolean;
  withPeople?: boolean;
}

/** Ids may come from the dropdown (array) or an expression (array or comma-separated text). */
function idList(value: string[] | string | undefined): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : String(value).split(',');
  const ids = list.map((id) => String(id).trim()).filter(Boolean);
  return ids.length ? ids : undefined;
}

export function filtersFromParameters(filters: FilterParameters, options: OptionParameters): ImmichSearchFilters {
  return {
    type: (filters.type || undefined) as ImmichSearchFilters['type'],
    albumIds: idList(filters.albumIds),
    personIds: idList(filters.personIds),
    tagIds: idList(filters.tagIds),
    isFavorite: filters.favorite === 'favorites' ? true : filters.favorite === 'nonFavorites' ? false : undefined,
    includeTrashed: filters.includeTrashed === true,
    takenAfter: filters.takenAfter || undefined,
    takenBefore: filters.takenBefore || undefined,
    updatedAfter: filters.updatedAfter || undefined,
    updatedBefore: filters.updatedBefore || undefined,
    visibility: (filters.visibility || undefined) as ImmichSearchFilters['visibility'],
    withExif: options.withExif === true,
    withPeople: options.withPeople === true,
    order: options.order ?? 'asc',
  };
}

export async function executeSearchAssets(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const failed = (error: unknown): INodeExecutionData[][] => {
    const message = `Immich search failed: ${messageOf(error)}`;
    if (this.continueOnFail()) return [[errorItem(message, 0)]];
    throw immichNodeError(this, error, message, 0);
  };
  let client;
  try {
    client = await immichClientFor(this, { pageSize: Number((this.getNodeParameter('options', 0, {}) as OptionParameters).pageSize ?? 250) });
  } catch (error) {
    return failed(error);
  }
  // Sync Batch mode fails with its own n8n error (and what it means for the checkpoint)
  if (this.getNodeParameter(SEARCH_MODE_PARAMETER, 0, 'search') === SYNC_BATCH_MODE) return await executeSyncBatch.call(this, client);
  try {
    const filters = filtersFromParameters(this.getNodeParameter('filters', 0, {}) as FilterParameters, this.getNodeParameter('options', 0, {}) as OptionParameters);
    const returnAll = this.getNodeParameter('returnAll', 0, false) as boolean;
    const limit = returnAll ? Infinity : Math.max(1, Number(this.getNodeParameter('limit', 0, 50)));
    const assets = await client.collectAssets(filters, limit);
    return [assets.map((asset) => ({ json: asset as unknown as IDataObject, pairedItem: { item: 0 } }))];
  } catch (error) {
    return failed(error);
  }
}
