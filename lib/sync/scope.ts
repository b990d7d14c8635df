/**
 * What a checkpoint's progress is valid for. An asset synced for ratings has not had its albums written,
 * and files synced under one path mapping are not the files of another, so a run whose scope differs
 * from the stored one starts over (checkpoint.ts, applyScope).
 */
import type { PathMapping } from '../files/pathMapping';
import type { TargetMode } from '../files/target';
import type { BuildOptions } from '../metadata/options';
import type { ModuleName } from '../metadata/types';

export interface ScopeSettings {
  modules: readonly ModuleName[];
  buildOptions?: Partial<BuildOptions>;
  libraryPath: string;
  mapping: PathMapping;
  target: TargetMode;
}

/**
 * The same modules and options, written to the same files.
 * Concurrency, page size, dry run and limits do not change what a synced file contains.
 */
export function syncScope(settings: ScopeSettings): string {
  const options = { ...(settings.buildOptions ?? {}) } as Record<string, unknown>;
  delete options.modules;
  return JSON.stringify({
    modules: [...new Set(settings.modules)].sort(),
    options: sortKeys(options),
    library: settings.libraryPath,
    mapping: sortKeys(settings.mapping as unknown as Record<string, unknown>),
    target: settings.target,
  });
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    out[key] = v && typeof v === 'object' && !Array.isArray(v) ? sortKeys(v as Record<string, unknown>) : v;
  }
  return out;
}


/** The modules a stored scope was made for, or null when it is unknown (no scope yet, or not ours). */
export function scopeModules(scope: string | null | undefined): ModuleName[] | null {
  if (typeof scope !== 'string') return null;
  try {
    const parsed = JSON.parse(scope) as { modules?: unknown };
    return Array.isArray(parsed.modules) && parsed.modules.every((m) => typeof m === 'string') ? (parsed.modules as ModuleName[]) : null;
  } catch {
    return null;
  }
}
