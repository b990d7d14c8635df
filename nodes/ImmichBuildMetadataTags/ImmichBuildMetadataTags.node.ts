import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import { buildMetadataTagsDescription } from './description';
import { executeBuildMetadataTags } from './execute';

export class ImmichBuildMetadataTags implements INodeType {
  description: INodeTypeDescription = buildMetadataTagsDescription;

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return executeBuildMetadataTags.call(this);
  }
}
