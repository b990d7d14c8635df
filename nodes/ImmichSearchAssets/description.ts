import type { INodeProperties } from 'n8n-workflow';
import { checkpointModeProperties, SEARCH_MODE_PARAMETER } from './checkpointMode';

const showInSearch = { show: { [SEARCH_MODE_PARAMETER]: ['search'] } };

const searchProperties: INodeProperties[] = [
  {
    displayName: 'Return All',
    name: 'returnAll',
    type: 'boolean',
    default: false,
    description: 'Whether to return all results or only up to a given limit',
    displayOptions: showInSearch,
  },
  {
    displayName: 'Limit',
    name: 'limit',
    type: 'number',
    typeOptions: { minValue: 1 },
    default: 50,
    description: 'Max number of results to return',
    displayOptions: { show: { ...showInSearch.show, returnAll: [false] } },
  },
  {
    displayName: 'Filters',
    name: 'filters',
    type: 'collection',
    placeholder: 'Add Filter',
    default: {},
    displayOptions: showInSearch,
    options: [
      {
        displayName: 'Album Names or IDs',
        name: 'albumIds',
        type: 'multiOptions',
        typeOptions: { loadOptionsMethod: 'getAlbums' },
        default: [],
        description:
          'Only assets in all of these albums. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
      },
      {
        displayName: 'Favorite',
        name: 'favorite',
        type: 'options',
        options: [
          { name: 'Any', value: 'any' },
          { name: 'Only Favorites', value: 'favorites' },
          { name: 'Only Non-Favorites', value: 'nonFavorites' },
        ],
        default: 'any',
      },
      {
        displayName: 'Include Trashed',
        name: 'includeTrashed',
        type: 'boolean',
        default: false,
        description: 'Whether to include assets in the trash (left out by default)',
      },
      {
        displayName: 'Person Names or IDs',
        name: 'personIds',
        type: 'multiOptions',
        typeOptions: { loadOptionsMethod: 'getPeople' },
        default: [],
        description:
          'Only assets showing all of these people. Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
      },
      {
        displayName: 'Tag Names or IDs',
        name: 'tagIds',
        type: 'multiOptions',
        typeOptions: { loadOptionsMethod: 'getTags' },
        default: [],
        description:
          'Only assets with all of these tags (a parent tag matches its children). Choose from the list, or specify IDs using an <a href="https://docs.n8n.io/code/expressions/">expression</a>.',
      },
      {
        displayName: 'Taken After',
        name: 'takenAfter',
        type: 'dateTime',
        default: '',
        description: 'Only assets taken at or after this time',
      },
      {
        displayName: 'Taken Before',
        name: 'takenBefore',
        type: 'dateTime',
        default: '',
        description: 'Only assets taken at or before this time',
      },
      {
        displayName: 'Type',
        name: 'type',
        type: 'options',
        options: [
          { name: 'Any', value: '' },
          { name: 'Audio', value: 'AUDIO' },
          { name: 'Image', value: 'IMAGE' },
          { name: 'Other', value: 'OTHER' },
          { name: 'Video', value: 'VIDEO' },
        ],
        default: '',
      },
      {
        displayName: 'Updated After',
        name: 'updatedAfter',
        type: 'dateTime',
        default: '',
        description: 'Only assets whose Immich record changed at or after this time (renaming a person or changing an album does not count as a change)',
      },
      {
        displayName: 'Updated Before',
        name: 'updatedBefore',
        type: 'dateTime',
        default: '',
        description: 'Only assets whose Immich record last changed at or before this time',
      },
      {
        displayName: 'Visibility',
        name: 'visibility',
        type: 'options',
        options: [
          { name: 'Archive', value: 'archive' },
          { name: 'Hidden', value: 'hidden' },
          { name: 'Locked', value: 'locked' },
          { name: 'Timeline', value: 'timeline' },
          { name: 'Timeline and Archive', value: '' },
        ],
        default: '',
      },
    ],
  },
  {
    displayName: 'Options',
    name: 'options',
    type: 'collection',
    placeholder: 'Add Option',
    default: {},
    displayOptions: showInSearch,
    options: [
      {
        displayName: 'Order',
        name: 'order',
        type: 'options',
        options: [
          { name: 'Oldest First', value: 'asc' },
          { name: 'Newest First', value: 'desc' },
        ],
        default: 'asc',
        description: 'Order by capture time (fileCreatedAt)',
      },
      {
        displayName: 'Page Size',
        name: 'pageSize',
        type: 'number',
        typeOptions: { minValue: 1, maxValue: 1000 },
        default: 250,
        description: 'Assets per request to Immich (at most 1000)',
      },
      {
        displayName: 'With EXIF',
        name: 'withExif',
        type: 'boolean',
        default: false,
        description:
          'Whether to include EXIF data (dates, GPS, rating, description) in each item. Immich then leaves out assets whose metadata was not extracted yet.',
      },
      {
        displayName: 'With People',
        name: 'withPeople',
        type: 'boolean',
        default: false,
        description: 'Whether to include the people (names, without face boxes) in each item',
      },
    ],
  },
];

/** Everything but the icon, which the node class adds. */
/** The node's parameters: the sync-batch mode switch first, then the search. */
export const searchAssetsProperties: INodeProperties[] = [...checkpointModeProperties, ...searchProperties];
