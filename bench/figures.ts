/** One measured figure, printed in the table and stored in bench/results.json. */
export interface Figure {
  id: string; // stable key, e.g. "write.oursVsSeed" (what scripts and the smoke test look for)
  section: string;
  name: string;
  value: number | null; // null: could not be measured in this run (see note)
  unit: string;
  baselineName?: string;
  baselineValue?: number | null;
  ratio?: number | null; // median over rounds of (value / baseline) measured side by side
  ratioLabel?: string; // how to read the ratio, e.g. "x seed" or "of floor"
  target?: string;
  pass?: boolean | null;
  rounds?: number[]; // per round: the ratio when there is one, else the value (the median is taken over these)
  note?: string;
}

export interface BenchResults {
  measuredAt: string;
  machine: { cpus: number; loadAverageAtStart: number[]; node: string };
  scale: string;
  seconds: number;
  sectionSeconds?: Record<string, number>; // elapsed wall time per section, to see where a slow run went
  figures: Figure[];
  notDone: string[];
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  const abs = Math.abs(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(2);
}

export function renderTable(figures: Figure[]): string {
  const header = ['section', 'figure', 'value', 'baseline (same run)', 'ratio', 'target', 'ok'];
  const rows = figures.map((f) => [
    f.section,
    f.name,
    `${formatNumber(f.value)} ${f.unit}`.trim(),
    f.baselineName ? `${f.baselineName}: ${formatNumber(f.baselineValue)}` : '',
    f.ratio === undefined ? '' : `${formatNumber(f.ratio)}${f.ratioLabel ? ' ' + f.ratioLabel : ''}`,
    f.target ?? '',
    f.pass === undefined ? '' : f.pass === null ? '?' : f.pass ? 'yes' : 'NO',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => '| ' + cells.map((c, i) => c.padEnd(widths[i])).join(' | ') + ' |';
  return [line(header), '|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|', ...rows.map(line)].join('\n');
}
