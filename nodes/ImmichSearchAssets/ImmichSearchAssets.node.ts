import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { getAlbums, getPeople, getTags } from '../shared/loadOptions';
import { searchAssetsProperties } from './description';
import { executeSearchAssets } from './execute';

export class ImmichSearchAssets implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Immich Search Assets',
    name: 'immichSearchAssets',
    icon: { light: 'file:immich.svg', dark: 'file:immich.dark.svg' },
    group: ['input'],
    version: 1,
    subtitle: '={{ $parameter["searchMode"] === "syncBatch" ? "Sync batch of up to " + $parameter["maxAssetsPerRun"] : "Search" }}',
    description: 'List Immich assets (photos and videos) page by page, with filters',
    defaults: { name: 'Immich Search Assets' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    credentials: [{ name: 'immichApi', required: true }],
    properties: searchAssetsProperties,
  };

  methods = { loadOptions: { getAlbums, getPeople, getTags } };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return executeSearchAssets.call(this);
  }
}
