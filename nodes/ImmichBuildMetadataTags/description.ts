import type { INodeProperties } from 'n8n-workflow';

/** "all" is the standard set (the Python script's `--all`); the opt-in modules can be added next to it. */
export const ALL_STANDARD_MODULES = 'all';

const showForPeople = { show: { modules: [ALL_STANDARD_MODULES, 'people'] } };

export const buildMetadataTagsProperties: INodeProperties[] = [
  {
    displayName: 'Modules',
    name: 'modules',
    type: 'multiOptions',
    options: [
      { name: 'All Standard (People, GPS, Caption, Time, Rating)', value: ALL_STANDARD_MODULES },
      { name: 'Albums (Event, Albums|… Keywords)', value: 'albums' },
      { name: 'Caption (Description)', value: 'caption' },
      { name: 'Face Regions (MWG-RS, Opt-In)', value: 'faces' },
      { name: 'GPS Position', value: 'gps' },
      { name: 'Immich Tags (Keywords, Opt-In)', value: 'tags' },
      { name: 'People (Names)', value: 'people' },
      { name: 'Rating', value: 'rating' },
      { name: 'Time (Capture Time with Offset)', value: 'time' },
    ],
    default: [ALL_STANDARD_MODULES],
    description:
      'What to write into the file. "All Standard" writes people, GPS, caption, time and rating; albums, face regions and Immich tags are opt-in and can be added to it.',
  },
  {
    displayName: 'Write PersonInImage',
    name: 'personInImage',
    type: 'boolean',
    default: true,
    displayOptions: showForPeople,
    description: 'Whether to write the names into XMP-iptcExt:PersonInImage (the IPTC field for people shown)',
  },
  {
    displayName: 'Write Names as Keywords',
    name: 'flatKeywords',
    type: 'boolean',
    default: true,
    displayOptions: showForPeople,
    description:
      'Whether to add the names to the flat keyword lists (XMP-dc:Subject, IPTC:Keywords). Note: Immich turns keywords it reads into Immich tags on its next metadata extraction, so names written here also appear as tags.',
  },
  {
    displayName: 'Write People|Name Hierarchy',
    name: 'hierarchicalKeywords',
    type: 'boolean',
    default: true,
    displayOptions: showForPeople,
    description:
      'Whether to add "People|Name" entries to XMP-lr:HierarchicalSubject. Only entries under People| are ours: a renamed person replaces the old entry, other keywords stay. Immich creates People/Name tags from these on its next metadata extraction.',
  },
  {
    displayName: 'Favorite Means 5 Stars',
    name: 'favoriteAsFiveStars',
    type: 'boolean',
    default: false,
    displayOptions: { show: { modules: [ALL_STANDARD_MODULES, 'rating'] } },
    description:
      'Whether a favorite without a higher rating is written as 5 stars, so other apps show it among the best photos. A rating is never lowered because an asset is not a favorite.',
  },
  {
    displayName: 'Clear Empty Caption',
    name: 'clearEmptyCaption',
    type: 'boolean',
    default: false,
    displayOptions: { show: { modules: [ALL_STANDARD_MODULES, 'caption'] } },
    description: 'Whether an empty Immich description removes the description in the file. Off: an empty description leaves the file\'s alone.',
  },
  {
    displayName: 'Album Names in UserComment',
    name: 'albumsInUserComment',
    type: 'boolean',
    default: false,
    displayOptions: { show: { modules: ['albums'] } },
    description: 'Whether to also write the album names into EXIF:UserComment, where cameras keep their own notes (they would be replaced)',
  },
  {
    displayName: 'Replace Foreign Face Regions',
    name: 'replaceForeignRegions',
    type: 'boolean',
    default: false,
    displayOptions: { show: { modules: ['faces'] } },
    description: 'Whether to drop face regions that did not come from Immich (other region types, unnamed boxes) when writing. Off: they are kept.',
  },
  {
    displayName: 'Windows People Regions',
    name: 'microsoftRegions',
    type: 'boolean',
    default: true,
    displayOptions: { show: { modules: ['faces'] } },
    description:
      'Whether to also write the face regions as Microsoft People Tagging regions (XMP-MP RegionInfo), the format Windows reads for its People tags. Regions that are not ours stay.',
  },
];
