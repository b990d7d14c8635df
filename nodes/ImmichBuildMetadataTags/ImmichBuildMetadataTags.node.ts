import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { buildMetadataTagsProperties } from './description';
import { executeBuildMetadataTags } from './execute';

export class ImmichBuildMetadataTags implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Immich Build Metadata Tags',
    name: 'immichBuildMetadataTags',
    icon: { light: 'file:immichBuildMetadataTags.svg', dark: 'file:immichBuildMetadataTags.dark.svg' },
    group: ['transform'],
    version: 1,
    subtitle: '={{ ($parameter["modules"] || []).join(", ") }}',
    description: 'Decide, per asset, which metadata Immich knows and should be written into the file (no file is touched)',
    defaults: { name: 'Immich Build Metadata Tags' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    properties: buildMetadataTagsProperties,
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return executeBuildMetadataTags.call(this);
  }
}
