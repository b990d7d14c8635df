/**
 * One asset end to end: plan → map the path → choose the target file(s) → write and verify.
 * Shared by the Write Metadata node, the command line and the run loop.
 */
import type { ExifTool } from 'exiftool-vendored';
import { promises as fs } from 'fs';

import { assertAllowed, PathRefusedError, type PathGuard } from '../files/pathGuard';
import { checkRealPathInside, mapAssetPath, printable, type PathMapping } from '../files/pathMapping';
import { resolveTargets, type TargetMode } from '../files/target';
import type { AssetWriteResult } from '../files/types';
import { writeAssetFile } from '../files/writer';
import type { ImmichAssetDetails } from '../immich/types';
import { buildMetadataPlan, type BuildOptions } from '../metadata/plan';
import type { MetadataPlan } from '../metadata/types';
import { fileSignature, indexKey, planKey, type SyncIndex } from './syncIndex';

export interface SyncContext {
  exiftool: ExifTool;
  /** Used when the asset does not carry a plan from Build Metadata Tags already. */
  buildOptions?: Partial<BuildOptions>;
  libraryPath: string;
  mapping: PathMapping;
  target: TargetMode;
  dryRun: boolean;
  keepModifyTime?: boolean;
  backup?: boolean;
  /** The host's file access rule (n8n's), asked before any file is read or written. */
  pathGuard?: PathGuard;
  /** The sync index: files it vouches for are unchanged without ExifTool; omitted, every file is read. */
  index?: SyncIndex | null;
  /** Called once before the first file that needs ExifTool (e.g. to start it lazily). */
  beforeExifTool?: () => Promise<void>;
}

export async function syncAsset(
  details: ImmichAssetDetails & { metadataPlan?: MetadataPlan },
  ctx: SyncContext,
): Promise<AssetWriteResult> {
  const assetId = details.id;
  const outcome = (status: AssetWriteResult['status'], reason: string, file: string | null = null): AssetWriteResult => ({
    assetId,
    file,
    status,
    reason: printable(reason),
    changes: [],
    dryRun: ctx.dryRun,
  });

  let plan: MetadataPlan;
  try {
    plan = details.metadataPlan ?? buildMetadataPlan(details, ctx.buildOptions);
  } catch (error) {
    return outcome('failed', `Asset ${assetId}: could not build the metadata plan: ${messageOf(error)}`);
  }

  const mapped = mapAssetPath(assetId, details.originalPath, ctx.libraryPath, ctx.mapping);
  if (!mapped.ok) return outcome('failed', mapped.reason);
  try {
    await assertAllowed(ctx.pathGuard, mapped.path);
  } catch (error) {
    if (error instanceof PathRefusedError) return outcome('failed', `Asset ${assetId}: ${error.message}`, mapped.path);
    throw error;
  }
  const real = await checkRealPathInside(assetId, ctx.libraryPath, mapped.path);
  if (!real.ok) return outcome('failed', real.reason, mapped.path);

  const missing = await whyMissing(mapped.path);
  if (missing === 'ENAMETOOLONG') {
    return outcome('failed', `Asset ${assetId}: the path ${mapped.path} is too long for this file system; shorten the folder names.`, mapped.path);
  }
  if (missing === 'ENOENT' || missing === 'ENOTDIR') {
    // Also under the sidecar target: a sidecar for a file that is not there would be an orphan.
    return outcome('skipped', `Asset ${assetId}: file not found: ${mapped.path}. Check Library Path and Path Mapping (is the library mounted there?).`, mapped.path);
  }
  const decision = await resolveTargets(details, mapped.path, ctx.target);
  if (!decision.ok) return outcome('skipped', decision.reason, mapped.path);

  const results: AssetWriteResult[] = [];
  for (const target of decision.targets) {
    // The media file itself was checked just above; only a sidecar is a new path.
    const inside = target.file === mapped.path ? real : await checkRealPathInside(assetId, ctx.libraryPath, target.file);
    if (!inside.ok) {
      results.push(outcome('failed', inside.reason, target.file));
      continue;
    }
    const mediaFile = target.kind === 'sidecar' ? mapped.path : undefined;
    const write = async (): Promise<AssetWriteResult> => {
      await ctx.beforeExifTool?.();
      return writeAssetFile(ctx.exiftool, target.file, plan, {
        assetId,
        target: target.kind,
        dryRun: ctx.dryRun,
        keepModifyTime: ctx.keepModifyTime ?? false,
        backup: ctx.backup ?? false,
        mediaFile,
        pathGuard: ctx.pathGuard,
      });
    };
    results.push(ctx.index ? await throughIndex(ctx.index, assetId, target.kind, [target.file, ...(mediaFile ? [mediaFile] : [])], plan, ctx.dryRun, write) : await write());
  }
  return combine(results.map((r) => (r.reason === undefined ? r : { ...r, reason: printable(r.reason) })));
}

const STATUS_WEIGHT: Record<AssetWriteResult['status'], number> = { failed: 3, written: 2, skipped: 1, unchanged: 0 };

/** An original plus its sidecar report as one asset: the worst status wins, changes name their file. */
export function combine(results: AssetWriteResult[]): AssetWriteResult {
  if (results.length === 1) return results[0];
  const status = results.reduce((worst, r) => (STATUS_WEIGHT[r.status] > STATUS_WEIGHT[worst] ? r.status : worst), results[0].status);
  const reasons = results.map((r) => r.reason).filter((r): r is string => !!r);
  const written = results.filter((r) => r.status === 'written');
  return {
    assetId: results[0].assetId,
    file: results[0].file,
    files: results.map((r) => r.file).filter((f): f is string => f !== null),
    status,
    ...(reasons.length > 0 ? { reason: reasons.join(' ') } : {}),
    changes: results.flatMap((r) => r.changes.map((c) => ({ ...c, file: r.file ?? undefined }))),
    dryRun: results[0].dryRun,
    ...(written.length > 0 ? { verified: written.every((r) => r.verified === true) } : {}),
    ...(results.some((r) => r.notes) ? { notes: [...new Set(results.flatMap((r) => r.notes ?? []))] } : {}),
    ...(results.every((r) => r.fromIndex) ? { fromIndex: true } : {}),
  };
}

/**
 * The sync index's shortcut around one target file. Recorded only after the writer's rename and verify
 * succeeded (or its read found nothing to change while the file's signature stayed the same), with the
 * signature seen after that; anything else forgets the entry, so the next run reads the file again.
 */
async function throughIndex(
  index: SyncIndex,
  assetId: string,
  targetKind: string,
  files: string[],
  plan: MetadataPlan,
  dryRun: boolean,
  write: () => Promise<AssetWriteResult>,
): Promise<AssetWriteResult> {
  const key = indexKey(assetId, targetKind, files[0]);
  const wanted = planKey(plan, targetKind);
  const before = await fileSignature(files);
  const seenAt = Date.now();
  if (index.isUnchanged(key, wanted, before)) {
    return { assetId, file: files[0], status: 'unchanged', changes: [], dryRun, fromIndex: true };
  }
  const result = await write();
  if (dryRun) return result;
  if (result.status === 'unchanged' && before) {
    const after = await fileSignature(files);
    // Read while someone else changed it: what ExifTool saw may not be what the file holds now.
    if (after?.signature === before.signature) index.record(key, { plan: wanted, signature: before.signature, seenAt });
    else index.forget(key);
  } else if (result.status === 'written') {
    const after = await fileSignature(files);
    if (after) index.record(key, { plan: wanted, signature: after.signature, seenAt: Date.now() });
    else index.forget(key);
  } else {
    index.forget(key);
  }
  return result;
}

/** null when the file is there; otherwise the error code that says why not. */
async function whyMissing(file: string): Promise<string | null> {
  try {
    await fs.stat(file);
    return null;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? 'ENOENT';
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
