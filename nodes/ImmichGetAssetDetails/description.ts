import type { INodeTypeDescription } from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

export const getAssetDetailsDescription: INodeTypeDescription = {
  displayName: 'Immich Get Asset Details',
  name: 'immichGetAssetDetails',
  icon: { light: 'file:immich.svg', dark: 'file:immich.dark.svg' },
  group: ['transform'],
  version: 1,
  subtitle: 'Faces, tags, albums',
  description: 'Read everything Immich knows about each asset: EXIF, people with face boxes, tags and albums',
  defaults: { name: 'Immich Get Asset Details' },
  inputs: [NodeConnectionTypes.Main],
  outputs: [NodeConnectionTypes.Main],
  credentials: [{ name: 'immichApi', required: true }],
  properties: [
    {
      displayName: 'Asset ID',
      name: 'assetId',
      type: 'string',
      default: '={{ $json.id }}',
      required: true,
      description: 'The Immich asset ID (a UUID); by default the "id" of each input item',
    },
    {
      displayName: 'Options',
      name: 'options',
      type: 'collection',
      placeholder: 'Add Option',
      default: {},
      options: [
        {
          displayName: 'Include Albums',
          name: 'includeAlbums',
          type: 'boolean',
          default: true,
          description:
            'Whether to add the names of the albums each asset is in. The album list is read once per execution (needs the album.read permission).',
        },
        {
          displayName: 'Parallel Requests',
          name: 'concurrency',
          type: 'number',
          typeOptions: { minValue: 1, maxValue: 16 },
          default: 4,
          description: 'How many assets to read from Immich at the same time',
        },
      ],
    },
  ],
};
