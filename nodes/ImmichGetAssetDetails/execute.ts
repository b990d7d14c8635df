/** Get Asset Details: one ImmichAssetDetails per input item; the album map is read once per execution. */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { settleWithConcurrency } from '../../lib/immich/concurrency';
import type { ImmichMembershipMap } from '../../lib/immich/types';
import { errorItem, immichNodeError, messageOf } from '../shared/errors';
import { immichClientFor } from '../shared/immichClient';

interface DetailOptions {
  includeAlbums?: boolean;
  concurrency?: number;
}

const NO_ALBUMS: ImmichMembershipMap = { kind: 'albums', builtAt: new Date(0).toISOString(), sourceCount: 0, byAsset: {} };

export async function executeGetAssetDetails(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
  const items = this.getInputData();
  const options = this.getNodeParameter('options', 0, {}) as DetailOptions;
  const continueOnFail = this.continueOnFail();
  const assetIds = items.map((_item, i) => String(this.getNodeParameter('assetId', i, '') ?? '').trim());

  let client;
  let albums: ImmichMembershipMap;
  try {
    client = await immichClientFor(this);
    albums = options.includeAlbums === false ? NO_ALBUMS : await client.cachedAlbumMembership();
  } catch (error) {
    // nothing can be read without these: every item fails with the same reason
    const message = `Immich asset details unavailable: ${messageOf(error)}`;
    if (continueOnFail) return [items.map((_item, i) => errorItem(message, i, { assetId: assetIds[i] }))];
    throw immichNodeError(this, error, message, 0);
  }

  const results = await settleWithConcurrency(assetIds, Number(options.concurrency ?? 4), async (assetId) => {
    if (!assetId) throw new Error('No asset ID: set "Asset ID" (by default the "id" field of the input item).');
    return client.getAssetDetails(assetId, { albums });
  });

  const output: INodeExecutionData[] = [];
  results.forEach((result, i) => {
    if (result.ok) {
      output.push({ json: result.value as unknown as IDataObject, pairedItem: { item: i } });
      return;
    }
    const message = `Asset ${assetIds[i] || `(item ${i})`}: ${messageOf(result.error)}`;
    if (!continueOnFail) throw immichNodeError(this, result.error, message, i);
    output.push(errorItem(message, i, { assetId: assetIds[i] }));
  });
  return [output];
}
