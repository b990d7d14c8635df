import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';
import { getAssetDetailsProperties } from './description';
import { executeGetAssetDetails } from './execute';

export class ImmichGetAssetDetails implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Immich Get Asset Details',
    name: 'immichGetAssetDetails',
    icon: { light: 'file:immich.svg', dark: 'file:immich.dark.svg' },
    group: ['transform'],
    version: 1,
    subtitle: '={{ $parameter["options"]["includeAlbums"] === false ? "People, faces, tags" : "People, faces, tags, albums" }}',
    description: 'Read everything Immich knows about each asset: EXIF, people with face boxes, tags and albums',
    defaults: { name: 'Immich Get Asset Details' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    credentials: [{ name: 'immichApi', required: true }],
    properties: getAssetDetailsProperties,
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return executeGetAssetDetails.call(this);
  }
}
