/**
 * `npm run bench`: every figure measured beside its baseline in the same run, as medians of rounds,
 * printed as a table and written to bench/results.json. `--quick` runs tiny sizes (smoke test);
 * `--only=write,api,…` runs some sections; `--rounds=<1-3>` overrides the number of rounds (same sizes);
 * `--out=<file>` writes the JSON elsewhere; `--update-readme` also
 * rewrites the "Latest figures" block of bench/README.md, and `--readme-from=<results.json>` only does that.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

import { renderTable, type BenchResults } from './figures';
import { n8nIsInstalled } from '../test/e2e/n8nHarness';
import { installN8nInBackground, type BackgroundInstall } from './n8nInstall';
import { repoRoot } from './paths';
import { FULL, QUICK, type BenchScale } from './scale';
import { SECTIONS, type SectionName } from './sections';

export interface BenchOptions {
  scale: BenchScale;
  only: SectionName[] | null;
  out: string;
  updateReadme?: boolean; // command line only: rewrite the "Latest figures" block of bench/README.md
  log: (line: string) => void;
}

export function parseArgs(argv: string[]): BenchOptions {
  let scale = FULL;
  let only: SectionName[] | null = null;
  let out = path.join(repoRoot(), 'bench', 'results.json');
  let updateReadme = false;
  let rounds: number | null = null;
  for (const arg of argv) {
    if (arg === '--quick') scale = QUICK;
    else if (arg.startsWith('--rounds=')) {
      rounds = Number(arg.slice('--rounds='.length));
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 3) throw new Error(`bench: --rounds must be 1, 2 or 3 (got ${arg})`);
    }
    else if (arg === '--update-readme') updateReadme = true;
    else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',').filter(Boolean);
      const unknown = names.filter((n) => !(n in SECTIONS));
      if (unknown.length) throw new Error(`bench: unknown section(s) ${unknown.join(', ')}; known: ${Object.keys(SECTIONS).join(', ')}`);
      only = names as SectionName[];
    } else if (arg.startsWith('--out=')) out = path.resolve(arg.slice('--out='.length));
    else throw new Error(`bench: unknown argument ${arg} (use --quick, --rounds=<1-3>, --only=<sections>, --out=<file>, --update-readme)`);
  }
  // a loaded machine may need fewer rounds to stay within the time budget; sizes stay as prescribed
  if (rounds !== null) scale = { ...scale, rounds };
  return { scale, only, out, updateReadme, log: (line) => console.log(line) };
}

/** Sections whose figures are request counts and CPU time per asset: they may run beside an n8n install. */
const RUN_BESIDE_INSTALL: ReadonlySet<SectionName> = new Set<SectionName>(['api', 'scaling']);

export async function runBench(options: BenchOptions): Promise<BenchResults> {
  const started = Date.now();
  const results: BenchResults = {
    measuredAt: new Date(started).toISOString(),
    machine: { cpus: os.cpus().length, loadAverageAtStart: os.loadavg().map((l) => Math.round(l * 100) / 100), node: process.version },
    scale: options.scale.name,
    seconds: 0,
    sectionSeconds: {},
    figures: [],
    notDone: [],
  };
  let names = options.only ?? (Object.keys(SECTIONS) as SectionName[]);
  let install: BackgroundInstall | null = null;
  if (names.includes('e2e') && !n8nIsInstalled()) {
    install = installN8nInBackground(options.log);
    names = [...names.filter((n) => RUN_BESIDE_INSTALL.has(n)), ...names.filter((n) => !RUN_BESIDE_INSTALL.has(n))];
  }
  let installFailure: string | null = null;
  for (const name of names) {
    if (install && !RUN_BESIDE_INSTALL.has(name)) {
      installFailure = await install.ready;
      install = null;
    }
    if (name === 'e2e' && installFailure) {
      results.notDone.push(`e2e: ${installFailure}`);
      continue;
    }
    options.log(`bench: ${name} (${options.scale.name}) …`);
    const sectionStart = Date.now();
    try {
      const outcome = await SECTIONS[name](options.scale, options.log);
      results.figures.push(...outcome.figures);
      results.notDone.push(...outcome.notDone);
    } catch (error) {
      // one broken section must not hide the others' figures
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      results.notDone.push(`${name}: failed: ${message.split('\n').slice(0, 4).join(' | ')}`);
    }
    const sectionSeconds = Math.round((Date.now() - sectionStart) / 100) / 10;
    results.sectionSeconds![name] = sectionSeconds;
    options.log(`bench: ${name} took ${sectionSeconds} s (${(sectionSeconds / 60).toFixed(1)} min)`);
    // written after every section, so an interrupted run still leaves what it measured
    results.seconds = Math.round((Date.now() - started) / 100) / 10;
    writeResults(options.out, results);
  }
  return results;
}

function writeResults(file: string, results: BenchResults): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
}

function sectionTimes(seconds: Record<string, number>): string {
  return Object.entries(seconds)
    .map(([name, s]) => `${name} ${s} s`)
    .join(', ');
}

/** Replaces the block between the figures markers of bench/README.md with this run's table. */
export function updateReadme(file: string, results: BenchResults): void {
  const start = '<!-- figures:start -->';
  const end = '<!-- figures:end -->';
  const text = fs.readFileSync(file, 'utf8');
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from < 0 || to < from) throw new Error(`${file} has no ${start} … ${end} block`);
  const block = [
    `Measured ${results.measuredAt} (${results.scale} sizes, ${results.seconds} s, ${results.machine.cpus} cores, ` +
      `load average at start ${results.machine.loadAverageAtStart.join(' / ')}, Node ${results.machine.node}).`,
    ...(results.sectionSeconds ? ['', `Elapsed per section: ${sectionTimes(results.sectionSeconds)}.`] : []),
    '',
    renderTable(results.figures),
    '',
    ...results.figures.filter((f) => f.note).map((f) => `- ${f.id}: ${f.note}`),
    ...(results.notDone.length ? ['', 'Not measured in that run:', ...results.notDone.map((line) => `- ${line}`)] : []),
  ].join('\n');
  fs.writeFileSync(file, `${text.slice(0, from + start.length)}\n${block}\n${text.slice(to)}`);
}

if (require.main === module && process.argv[2]?.startsWith('--readme-from=')) {
  // re-render the README block from a stored results file, without measuring again
  const stored = JSON.parse(fs.readFileSync(path.resolve(process.argv[2].slice('--readme-from='.length)), 'utf8')) as BenchResults;
  updateReadme(path.join(repoRoot(), 'bench', 'README.md'), stored);
  console.log(renderTable(stored.figures));
} else if (require.main === module) {
  const options = parseArgs(process.argv.slice(2));
  runBench(options)
    .then((results) => {
      console.log('');
      console.log(renderTable(results.figures));
      if (results.notDone.length) {
        console.log('\nNot measured in this run:');
        for (const line of results.notDone) console.log(`  - ${line}`);
      }
      console.log(`\nelapsed per section: ${sectionTimes(results.sectionSeconds ?? {})}`);
      console.log(`${results.figures.length} figures in ${results.seconds} s → ${path.relative(process.cwd(), options.out)}`);
      if (options.updateReadme) {
        updateReadme(path.join(repoRoot(), 'bench', 'README.md'), results);
        console.log('bench/README.md: "Latest figures" updated');
      }
    })
    .catch((error) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    });
}
