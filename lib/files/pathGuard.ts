/**
 * A check the host applies to every path before it is read or written. Inside n8n it is n8n's own file
 * access rule (N8N_RESTRICT_FILE_ACCESS_TO, n8n's own files); the command line has none beyond its
 * `--library` containment. The writer asks it for the original, the sidecar, the temporary copy and the
 * backup, so a refused path gets no byte written next to it either.
 */

/** null: allowed. A string: why the path is refused and what to change (shown in the item's error). */
export type PathGuard = (file: string) => Promise<string | null>;

export class PathRefusedError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(reason);
    this.name = 'PathRefusedError';
  }
}

/** Throws a PathRefusedError when the guard refuses any of the files; checks them all first-to-last. */
export async function assertAllowed(guard: PathGuard | undefined, ...files: string[]): Promise<void> {
  if (!guard) return;
  for (const file of files) {
    const refusal = await guard(file);
    if (refusal !== null) throw new PathRefusedError(file, refusal);
  }
}
