import type { INodeProperties } from 'n8n-workflow';

import { DEFAULT_EXIFTOOL_PROCESSES } from '../../lib/files/exiftoolPool';

export const writeMetadataProperties: INodeProperties[] = [
  {
    displayName: 'Library Path',
    name: 'libraryPath',
    type: 'string',
    default: '/library',
    required: true,
    placeholder: '/library',
    description: 'Absolute path where the Immich library is mounted for n8n. No file outside it is ever written.',
  },
  {
    displayName: 'Path Mapping',
    name: 'pathMappingMode',
    type: 'options',
    options: [
      {
        name: 'Keep Last Segments',
        value: 'lastSegments',
        description: 'Keep the last N parts of Immich\'s path under Library Path (3 → year/month/file, as Immich\'s default storage template)',
      },
      {
        name: 'Replace Prefix',
        value: 'prefix',
        description: 'Replace Immich\'s path prefix (e.g. /usr/src/app/upload) with a folder under Library Path',
      },
    ],
    default: 'lastSegments',
    description: 'How Immich\'s original path (inside the Immich container) becomes a local file',
  },
  {
    displayName: 'Segments to Keep',
    name: 'segments',
    type: 'number',
    typeOptions: { minValue: 1, maxValue: 32 },
    default: 3,
    displayOptions: { show: { pathMappingMode: ['lastSegments'] } },
    description: 'How many trailing parts of the original path to keep (3: 2024/05/IMG_1.jpg)',
  },
  {
    displayName: 'Immich Path Prefix',
    name: 'immichPrefix',
    type: 'string',
    default: '/usr/src/app/upload',
    displayOptions: { show: { pathMappingMode: ['prefix'] } },
    description: 'The start of original paths as Immich reports them; it is replaced by the local prefix',
  },
  {
    displayName: 'Local Path Prefix',
    name: 'localPrefix',
    type: 'string',
    default: '',
    placeholder: '/library',
    displayOptions: { show: { pathMappingMode: ['prefix'] } },
    description: 'The folder the Immich prefix corresponds to: Library Path itself when empty, or a folder inside it',
  },
  {
    displayName: 'Target',
    name: 'target',
    type: 'options',
    options: [
      { name: 'Original File', value: 'original', description: 'Write into the photo or video itself. An existing XMP sidecar is updated too.' },
      { name: 'XMP Sidecar', value: 'sidecar', description: 'Write photo.jpg.xmp next to the file and leave the file untouched' },
      {
        name: 'Auto',
        value: 'auto',
        description: 'Originals for external-library assets, sidecars for uploaded ones',
      },
    ],
    default: 'original',
    description:
      'Where the metadata goes. Immich stores a checksum of every uploaded original; rewriting an uploaded file makes Immich\'s integrity check report it as changed. External-library files are not checksummed that way, so Auto writes originals only there and sidecars for uploads.',
  },
  {
    displayName: 'Dry Run',
    name: 'dryRun',
    type: 'boolean',
    default: false,
    description: 'Whether to only report, per file, what would change (field by field, before → after) without touching any file',
  },
  {
    displayName: 'Face Preview Images',
    name: 'facePreview',
    type: 'options',
    options: [
      { name: 'In Dry Runs', value: 'dryRun', description: 'Attach a preview to each photo with face regions when Dry Run is on' },
      { name: 'Always', value: 'always', description: 'Also when writing: the preview shows the regions as written' },
      { name: 'Never', value: 'never' },
    ],
    default: 'dryRun',
    description:
      'Whether each photo with face regions gets a small image (binary property "facePreview") of the photo as displayed, with the planned boxes and names drawn solid and the regions already in the file that stay drawn dashed. HEIC and other non-JPEG files without an embedded JPEG preview are skipped with a reason.',
  },
  {
    displayName: 'Keep File Modification Time',
    name: 'keepModifyTime',
    type: 'boolean',
    default: false,
    description:
      'Whether the written file keeps its modification time. An external-library rescan in Immich detects changed files by modification time: kept, Immich will not re-read the file; changed (off), Immich re-extracts its metadata on the next rescan.',
  },
  {
    displayName: 'Keep Backup Copies',
    name: 'backup',
    type: 'boolean',
    default: false,
    description: 'Whether to keep the untouched original as photo.jpg_original beside each written file (the first one is kept; later runs do not overwrite it)',
  },
  {
    displayName: 'ExifTool Processes',
    name: 'exiftoolProcesses',
    type: 'number',
    typeOptions: { minValue: 1, maxValue: 16 },
    default: DEFAULT_EXIFTOOL_PROCESSES,
    description: 'How many ExifTool processes run in parallel (started once per execution)',
  },
  {
    displayName: 'ExifTool Engine',
    name: 'exiftoolEngine',
    type: 'options',
    options: [
      { name: 'Automatic', value: 'auto', description: 'System Perl when it runs, otherwise the built-in ExifTool' },
      { name: 'Built-in (WebAssembly)', value: 'wasm', description: 'Needs no Perl (works on the stock n8n image); several times slower' },
      { name: 'System Perl', value: 'perl', description: 'Fastest; needs Perl in the n8n image' },
    ],
    default: 'auto',
    description: 'Which ExifTool runs: the same ExifTool version either way, with byte-identical results',
  },
  {
    displayName: 'Use Sync Index',
    name: 'useSyncIndex',
    type: 'boolean',
    default: true,
    description:
      'Whether a file whose plan and file signature (size, modification and change time, inode) are the same as after the last write or check counts as unchanged without ExifTool. Turn off on file systems whose change time cannot be trusted (see the README).',
  },
  {
    displayName: 'State Folder',
    name: 'stateFolder',
    type: 'string',
    default: '',
    placeholder: '/home/node/.n8n-files/immich-metadata-sync',
    displayOptions: { show: { useSyncIndex: [true] } },
    description:
      'Folder for the sync index (one per library). Empty: immich-metadata-sync in n8n\'s file folder (the first entry of N8N_RESTRICT_FILE_ACCESS_TO, else ~/.n8n-files). Must be a path n8n may access.',
  },
  {
    displayName: 'Concurrency',
    name: 'concurrency',
    type: 'number',
    typeOptions: { minValue: 1, maxValue: 32 },
    default: DEFAULT_EXIFTOOL_PROCESSES,
    description: 'How many assets are processed at the same time',
  },
];
