/**
 * n8n's own file access rule for Write Metadata: the check n8n's file nodes make (resolve the real path,
 * then ask whether it is blocked by N8N_RESTRICT_FILE_ACCESS_TO, n8n's own folders or the blocked
 * patterns), applied by the writer to every path it would read or write.
 */
import * as path from 'path';
import type { IExecuteFunctions } from 'n8n-workflow';
import type { PathGuard } from '../../lib/files/pathGuard';

export function refusalMessage(file: string): string {
  return (
    `n8n does not allow access to ${file}: it is outside the folders N8N_RESTRICT_FILE_ACCESS_TO allows ` +
    "(n8n 2.x allows only ~/.n8n-files when it is not set) or inside n8n's own folder. " +
    'Add the library folder to N8N_RESTRICT_FILE_ACCESS_TO (folders separated by ";", e.g. N8N_RESTRICT_FILE_ACCESS_TO=/library) and restart n8n. Nothing was written.'
  );
}

/** undefined on an n8n without the check (before 1.x's file helpers): nothing to apply then. */
export function n8nPathGuard(ctx: Pick<IExecuteFunctions, 'helpers'>): PathGuard | undefined {
  const { resolvePath, isFilePathBlocked } = ctx.helpers;
  if (typeof resolvePath !== 'function' || typeof isFilePathBlocked !== 'function') return undefined;
  return async (file) => {
    let resolved;
    try {
      resolved = await resolvePath(file);
    } catch {
      // Its folder does not exist (yet): the path as written is what would be created.
      resolved = path.resolve(file) as Awaited<ReturnType<typeof resolvePath>>;
    }
    return isFilePathBlocked(resolved) ? refusalMessage(file) : null;
  };
}
