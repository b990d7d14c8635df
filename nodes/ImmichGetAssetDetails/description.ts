import type { INodeProperties } from 'n8n-workflow';

export const getAssetDetailsProperties: INodeProperties[] = [
  {
    displayName: 'Asset ID',
    name: 'assetId',
    type: 'string',
    default: '={{ $json.id }}',
    required: true,
    description: 'The Immich asset ID (a UUID); by default the ID field of each input item',
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
];
