import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { getAlbums, getPeople, getTags } from '../shared/loadOptions';
import { searchAssetsDescription } from './description';
import { executeSearchAssets } from './execute';

export class ImmichSearchAssets implements INodeType {
  description: INodeTypeDescription = searchAssetsDescription;

  methods = { loadOptions: { getAlbums, getPeople, getTags } };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return executeSearchAssets.call(this);
  }
}
