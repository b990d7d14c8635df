/**
 * Where a sync keeps its files between runs inside n8n: the checkpoint, the membership caches, the sync
 * index and the leases. Workflow static data cannot be the home of record: n8n saves it only when an
 * execution ends, and in queue mode a worker never reads it back (n8n-io/n8n#17321).
 *
 * One folder per library and partition, so N partitions of one library never share a checkpoint, and
 * two libraries behind one state root never share an index. The default root is n8n's own default
 * file-access directory (N8N_RESTRICT_FILE_ACCESS_TO's first entry, else ~/.n8n-files, which n8n 2.x
 * allows by default), so it works on the stock Docker image without any setting.
 */
import { createHash } from 'crypto';
import * as os from 'os';
import * as path from 'path';

export const STATE_ROOT_NAME = 'immich-metadata-sync';

/** k of N, 1-based as the user sees it: partition 1 of 2 and partition 2 of 2 together cover every asset. */
export interface Partition {
  index: number;
  count: number;
}

export const WHOLE_LIBRARY: Partition = { index: 1, count: 1 };

/** The state root for a State Folder setting: the setting itself when given, else n8n's default file folder. */
export function resolveStateRoot(setting: string, env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): string {
  const chosen = setting.trim();
  if (chosen !== '') return path.resolve(chosen);
  const restricted = (env.N8N_RESTRICT_FILE_ACCESS_TO ?? '')
    .split(';')
    .map((entry) => entry.trim())
    .find((entry) => entry !== '');
  const base = restricted ?? path.join(home, '.n8n-files');
  return path.join(path.resolve(base), STATE_ROOT_NAME);
}

/**
 * The folder of one sync identity and one partition under a state root. The identity is what the state
 * belongs to: the library path for the sync index (one per library), the workflow id for a template's
 * checkpoint (static data was per workflow too). It is hashed so any identity makes a valid folder name;
 * a readable part is kept for people who look into the folder.
 */
export function stateFolderFor(root: string, identity: string, partition: Partition = WHOLE_LIBRARY): string {
  const key = createHash('sha256').update(identity).digest('hex').slice(0, 12);
  const readable = (path.basename(identity) || 'root').replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40);
  const part = partition.count === 1 ? 'all' : `partition-${partition.index}-of-${partition.count}`;
  return path.join(root, `${readable}-${key}`, part);
}

/** A clear error for a partition setting that cannot work, or null. */
export function partitionProblem(partition: Partition): string | null {
  const { index, count } = partition;
  if (!Number.isInteger(count) || count < 1) return `partition count must be a whole number of at least 1 (got ${count})`;
  if (!Number.isInteger(index) || index < 1 || index > count) return `partition must be between 1 and ${count} (got ${index})`;
  return null;
}
