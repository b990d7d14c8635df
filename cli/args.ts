/**
 * The seed script's command line (flags and environment), parsed with node's util.parseArgs into a
 * plain configuration. Nothing here touches the network or the disk.
 */
import * as os from 'os';
import * as path from 'path';
import { parseArgs } from 'util';

import type { ExifToolEngine } from '../lib/files/exiftoolPool';
import type { PathMapping } from '../lib/files/pathMapping';
import type { TargetMode } from '../lib/files/target';
import { DEFAULT_MODULES, type ModuleName } from '../lib/metadata/types';
import type { RunMode } from '../lib/sync/checkpoint';

export const LOG_FILE_NAME = 'immich_ultra_sync.txt';

export interface CliConfig {
  help: boolean;
  modules: ModuleName[];
  mode: RunMode;
  dryRun: boolean;
  clearCheckpoint: boolean;
  clearAlbumCache: boolean;
  stateDir: string;
  mapping: PathMapping;
  target: TargetMode;
  concurrency: number;
  /** auto: system Perl when it runs, else the built-in WebAssembly ExifTool. */
  exiftoolEngine: ExifToolEngine;
  maxAssets: number | null;
  retries: number;
  pageSize: number;
  favoriteAsFiveStars: boolean;
  albumsInUserComment: boolean;
  fullReconcileEveryDays: number;
  albumCacheTtlHours: number;
  /** From the environment. */
  url: string | null;
  apiKey: string | null;
  photoDir: string;
}

/** A mistake in the command line or environment: exit code 2 with this message. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const OPTIONS = {
  all: { type: 'boolean' },
  people: { type: 'boolean' },
  gps: { type: 'boolean' },
  caption: { type: 'boolean' },
  time: { type: 'boolean' },
  rating: { type: 'boolean' },
  albums: { type: 'boolean' },
  'face-coordinates': { type: 'boolean' },
  tags: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  'only-new': { type: 'boolean' },
  resume: { type: 'boolean' },
  'clear-checkpoint': { type: 'boolean' },
  'clear-album-cache': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'state-dir': { type: 'string' },
  'path-prefix': { type: 'string' },
  'path-segments': { type: 'string' },
  sidecar: { type: 'boolean' },
  concurrency: { type: 'string' },
  'exiftool-engine': { type: 'string' },
  'max-assets': { type: 'string' },
  retries: { type: 'string' },
  'page-size': { type: 'string' },
  'favorite-five-stars': { type: 'boolean' },
  'albums-in-user-comment': { type: 'boolean' },
  'full-reconcile-days': { type: 'string' },
  'album-cache-hours': { type: 'string' },
} as const;

export const USAGE = `Usage: immich-metadata-sync [modules] [options]

Writes what Immich knows about each photo back into the file (ExifTool), changing only what differs.

Environment:
  IMMICH_INSTANCE_URL   Immich address, with or without /api (e.g. https://photos.example.com)
  IMMICH_API_KEY        API key (Immich → Account Settings → API Keys)
  PHOTO_DIR             where the library is mounted here (default /library)

Modules:
  --all                 people, gps, caption, time and rating (add --albums, --face-coordinates, --tags to include those)
  --people              names of recognised people (keywords, PersonInImage)
  --gps                 GPS position
  --caption             description
  --time                capture time with its offset
  --rating              Immich's star rating (never lowered)
  --albums              album names (Event, Albums|… keywords)
  --face-coordinates    face regions (MWG-RS), needs one extra request per asset
  --tags                Immich tags as hierarchical keywords

Run control:
  --dry-run             show what would change; write nothing and keep the checkpoint as it is
  --only-new            only assets changed since the last completed run (continues an unfinished one);
                        with other modules or path options than that run, a full pass runs instead
  --resume              continue the run that was interrupted
  --clear-checkpoint    forget where runs stopped and which assets failed (alone: clear and exit)
  --clear-album-cache   fetch album and tag membership again (alone: clear and exit)
  --state-dir DIR       checkpoint, album cache and the log ${LOG_FILE_NAME}
                        (default $XDG_STATE_HOME/immich-metadata-sync or ~/.local/state/immich-metadata-sync)
  --max-assets N        handle at most N assets in this run (a later --resume or --only-new continues)
  --concurrency N       assets handled in parallel (default 4)
  --exiftool-engine E   auto (default: Perl if it runs, else built-in), perl, or wasm (built-in, slower, no Perl needed)
  --retries N           retries of a failed Immich request (default 4)
  --page-size N         assets per Immich search page (default 250)

Files:
  --path-segments N     keep the last N segments of Immich's originalPath under PHOTO_DIR (default 3: year/month/file)
  --path-prefix FROM=TO replace Immich's path prefix FROM (e.g. /usr/src/app/upload) with TO (inside PHOTO_DIR)
  --sidecar             write XMP sidecars instead of the photos
  --favorite-five-stars a favourite without a rating gets 5 stars (the seed's behaviour)
  --albums-in-user-comment  album names also into EXIF:UserComment (overwrites camera notes)
  --full-reconcile-days N   with --only-new, list everything again every N days (default 7, 0 = never)
  --album-cache-hours N     album membership cache lifetime (default 24)

  --help, -h            show this text and exit

Exit codes: 0 all assets fine, 1 some assets failed, 2 could not run (configuration, server, key),
3 another run holds the state directory (nothing done; it is free again when that run ends),
130/143 stopped by Ctrl-C/SIGTERM (the checkpoint is saved: continue with --resume).
`;

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(os.homedir(), '.local', 'state');
  return path.join(base, 'immich-metadata-sync');
}

export function parseCli(argv: string[], env: NodeJS.ProcessEnv = process.env): CliConfig {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values as Record<string, string | boolean | undefined>;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}. Run with --help to see the options.`);
  }
  const flag = (name: keyof typeof OPTIONS): boolean => values[name] === true;

  const modules = new Set<ModuleName>();
  if (flag('all')) DEFAULT_MODULES.forEach((m) => modules.add(m));
  const named: Array<[keyof typeof OPTIONS, ModuleName]> = [
    ['people', 'people'],
    ['gps', 'gps'],
    ['caption', 'caption'],
    ['time', 'time'],
    ['rating', 'rating'],
    ['albums', 'albums'],
    ['face-coordinates', 'faces'],
    ['tags', 'tags'],
  ];
  for (const [option, module] of named) if (flag(option)) modules.add(module);

  const photoDir = env.PHOTO_DIR && env.PHOTO_DIR.trim() ? env.PHOTO_DIR.trim() : '/library';
  const segments = integer(values['path-segments'], '--path-segments', 3, 1, 32);
  let mapping: PathMapping = { mode: 'lastSegments', segments };
  if (typeof values['path-prefix'] === 'string') {
    if (values['path-segments'] !== undefined) throw new UsageError('Use either --path-prefix or --path-segments, not both.');
    const [from, ...rest] = values['path-prefix'].split('=');
    const to = rest.join('=');
    if (!from || !to) throw new UsageError(`--path-prefix needs FROM=TO, e.g. --path-prefix /usr/src/app/upload=${photoDir} (got "${values['path-prefix']}").`);
    mapping = { mode: 'prefix', immichPrefix: from, localPrefix: to };
  }

  const stateDirValue = typeof values['state-dir'] === 'string' ? values['state-dir'] : '';
  return {
    help: flag('help'),
    modules: [...modules],
    mode: flag('only-new') ? 'incremental' : flag('resume') ? 'resume' : 'full',
    dryRun: flag('dry-run'),
    clearCheckpoint: flag('clear-checkpoint'),
    clearAlbumCache: flag('clear-album-cache'),
    stateDir: stateDirValue ? path.resolve(stateDirValue) : defaultStateDir(env),
    mapping,
    target: flag('sidecar') ? 'sidecar' : 'original',
    concurrency: integer(values.concurrency, '--concurrency', 4, 1, 64),
    exiftoolEngine: engineOf(values['exiftool-engine']),
    maxAssets: values['max-assets'] === undefined ? null : integer(values['max-assets'], '--max-assets', 0, 1, Number.MAX_SAFE_INTEGER),
    retries: integer(values.retries, '--retries', 4, 0, 20),
    pageSize: integer(values['page-size'], '--page-size', 250, 1, 1000),
    favoriteAsFiveStars: flag('favorite-five-stars'),
    albumsInUserComment: flag('albums-in-user-comment'),
    fullReconcileEveryDays: integer(values['full-reconcile-days'], '--full-reconcile-days', 7, 0, 3650),
    albumCacheTtlHours: integer(values['album-cache-hours'], '--album-cache-hours', 24, 0, 24 * 365),
    url: env.IMMICH_INSTANCE_URL && env.IMMICH_INSTANCE_URL.trim() ? env.IMMICH_INSTANCE_URL.trim() : null,
    apiKey: env.IMMICH_API_KEY && env.IMMICH_API_KEY.trim() ? env.IMMICH_API_KEY.trim() : null,
    photoDir,
  };
}

function engineOf(value: string | boolean | undefined): ExifToolEngine {
  const engines: readonly ExifToolEngine[] = ['auto', 'perl', 'wasm'];
  const text = value === undefined ? 'auto' : String(value);
  if (!(engines as readonly string[]).includes(text)) throw new UsageError(`--exiftool-engine must be auto, perl or wasm (got "${text}").`);
  return text as ExifToolEngine;
}

function integer(value: string | boolean | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const text = String(value).trim();
  if (!/^\d+$/.test(text)) throw new UsageError(`${name} needs a whole number (got "${text}").`);
  const n = Number(text);
  if (n < min || n > max) throw new UsageError(`${name} must be between ${min} and ${max} (got ${n}).`);
  return n;
}

/** The start parameters for the log: everything that shapes the run, never the API key. */
export function describeStart(config: CliConfig, argv: string[]): string {
  const mapping = config.mapping.mode === 'prefix' ? `prefix ${config.mapping.immichPrefix} → ${config.mapping.localPrefix}` : `last ${config.mapping.segments} path segments`;
  return [
    `start: ${argv.join(' ') || '(no flags)'}`,
    `Immich ${config.url ?? '(IMMICH_INSTANCE_URL not set)'}, API key ${config.apiKey ? 'set' : 'not set'}`,
    `PHOTO_DIR ${config.photoDir}, mapping ${mapping}, target ${config.target}`,
    `modules ${config.modules.join(', ') || '(none)'}; run ${config.mode}${config.dryRun ? ', dry run' : ''}${config.maxAssets ? `, at most ${config.maxAssets} assets` : ''}; concurrency ${config.concurrency}`,
    `state in ${config.stateDir}`,
  ].join('; ');
}
