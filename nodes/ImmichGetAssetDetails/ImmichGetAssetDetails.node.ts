import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { getAssetDetailsDescription } from './description';
import { executeGetAssetDetails } from './execute';

export class ImmichGetAssetDetails implements INodeType {
  description: INodeTypeDescription = getAssetDetailsDescription;

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return executeGetAssetDetails.call(this);
  }
}
