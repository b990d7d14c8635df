import { NodeConnectionTypes, type IExecuteFunctions, type INodeExecutionData, type INodeType, type INodeTypeDescription } from 'n8n-workflow';

import { releaseBatchLease } from './checkpointRecord';
import { writeMetadataProperties } from './description';
import { executeWriteMetadata } from './execute';

export class ImmichWriteMetadata implements INodeType {
  description: INodeTypeDescription = {
    displayName: 'Immich Write Metadata',
    name: 'immichWriteMetadata',
    icon: { light: 'file:immichWriteMetadata.svg', dark: 'file:immichWriteMetadata.dark.svg' },
    group: ['output'],
    version: 1,
    subtitle: '={{ $parameter["dryRun"] ? "dry run" : $parameter["target"] }}',
    description: 'Write the metadata plan of each asset into its file (or XMP sidecar) with ExifTool, verified and losslessly',
    defaults: { name: 'Immich Write Metadata' },
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    usableAsTool: true,
    properties: writeMetadataProperties,
  };

  async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
    let finished = false;
    try {
      const output = await executeWriteMetadata.call(this);
      finished = true;
      return output;
    } finally {
      // Failed before recording: the next run may plan the same batch again at once instead of waiting for the lease to expire.
      if (!finished) await releaseBatchLease(this);
    }
  }
}
