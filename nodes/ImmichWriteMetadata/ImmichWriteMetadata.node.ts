import type { IExecuteFunctions, INodeExecutionData, INodeType, INodeTypeDescription } from 'n8n-workflow';

import { writeMetadataDescription } from './description';
import { executeWriteMetadata } from './execute';

export class ImmichWriteMetadata implements INodeType {
  description: INodeTypeDescription = writeMetadataDescription;

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    return executeWriteMetadata.call(this);
  }
}
