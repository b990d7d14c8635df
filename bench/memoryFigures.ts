import type { Figure } from './figures';
import { mib } from './memory';

/** A process's peak RSS during a batch beside its peak while running a workflow that only starts. */
export function peakBesideIdle(section: string, id: string, name: string, peakBytes: number, idleName: string, idleBytes: number, note?: string): Figure {
  return { id, section, name, value: mib(peakBytes), unit: 'MiB', baselineName: idleName, baselineValue: mib(idleBytes), ratio: peakBytes / idleBytes, ratioLabel: 'x idle', note };
}

/** One batch run inside a memory cgroup (bench/memoryLimit.ts), beside the same batch without a limit. */
export interface LimitedBatch {
  assets: number;
  /** Succeeded with every asset handed out and nothing killed by the OOM killer. */
  fits: boolean;
  /** What happened, for the note (e.g. "success, 2000 written"). */
  outcome: string;
  anonPeakBytes: number;
  cgroupPeakBytes: number | null;
  limitHits: number;
  oomKills: number;
  /** The same batch's whole process tree RSS without a limit, when it was measured. */
  unlimitedTreeBytes: number | null;
}

/** A figure per batch run in the limit, then the largest batch that fit: what the README recommends for that host. */
export function limitedFigures(section: string, idPrefix: string, who: string, limitLabel: string, batches: LimitedBatch[]): Figure[] {
  if (batches.length === 0) return [];
  const figures: Figure[] = batches.map((batch) => ({
    id: `${idPrefix}.${batch.assets}`,
    section,
    name: `${who} in a ${limitLabel} memory cgroup: peak anonymous memory, one batch of ${batch.assets}`,
    value: mib(batch.anonPeakBytes),
    unit: 'MiB',
    baselineName: 'same batch, process tree RSS without a limit',
    baselineValue: batch.unlimitedTreeBytes === null ? null : mib(batch.unlimitedTreeBytes),
    ratio: batch.unlimitedTreeBytes === null ? null : batch.anonPeakBytes / batch.unlimitedTreeBytes,
    ratioLabel: 'x unlimited',
    target: 'succeeds, every asset handed out, no OOM kill',
    pass: batch.fits,
    note:
      `${batch.outcome}; ${batch.oomKills} OOM kills; charged peak ${mib(batch.cgroupPeakBytes ?? 0)} MiB with page cache, ` +
      `limit reached ${batch.limitHits} times (the kernel reclaimed page cache to make room)`,
  }));
  const fitting = batches.filter((batch) => batch.fits).map((batch) => batch.assets);
  figures.push({
    id: `${idPrefix}.fits`,
    section,
    name: `largest batch ${who} completed in ${limitLabel}`,
    value: fitting.length > 0 ? Math.max(...fitting) : 0,
    unit: 'assets',
    note: `README: Max Assets Per Run for a host that gives ${who} ${limitLabel}`,
  });
  return figures;
}
