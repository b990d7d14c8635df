/**
 * Times the bundled template in a real n8n (`node dist/test/demo/measure-template.js [assets]`): the
 * sample library (two runs) and a synthetic library (default 2,000 assets, Max Assets Per Run 500)
 * until its full pass is done. Prints a Markdown table for the README; the numbers depend on the
 * machine, so nothing here asserts on them.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeTreeWritable, TemplateEnvironment, type TemplateRun } from '../e2e/templateEnvironment';
import { createSampleLibrary, createSyntheticLibrary, startSimulator, type SimLibrary } from '../simulator';

interface Row {
  library: string;
  run: number;
  assets: number;
  written: number;
  unchanged: number;
  failed: number;
  totalS: number;
  nodesS: number;
  /** Seconds per node of the chain, e.g. "details 12.1, write 40.3". */
  perNode: string;
}

const SHORT_NAMES: Record<string, string> = {
  'Next Batch from Immich': 'search',
  'Get Asset Details': 'details',
  'Build Metadata Tags': 'build',
  'Write Metadata': 'write',
};

function row(library: string, run: number, result: TemplateRun): Row {
  const nodesMs = Object.values(result.report.nodes).reduce((sum, node) => sum + node.executionTimeMs, 0);
  return {
    library,
    run,
    assets: result.batchSize,
    written: result.summary?.written ?? 0,
    unchanged: result.summary?.unchanged ?? 0,
    failed: result.summary?.failed ?? 0,
    totalS: result.report.durationMs / 1000,
    nodesS: nodesMs / 1000,
    perNode: Object.entries(SHORT_NAMES)
      .filter(([name]) => result.report.nodes[name])
      .map(([name, short]) => `${short} ${(result.report.nodes[name].executionTimeMs / 1000).toFixed(1)}`)
      .join(', '),
  };
}

async function measure(label: string, library: SimLibrary, photoDir: string, maxAssetsPerRun: number, maxRuns: number): Promise<Row[]> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-template-measure-'));
  const simulator = await startSimulator({ library });
  const rows: Row[] = [];
  try {
    const env = await TemplateEnvironment.create({
      workDir,
      immichUrl: simulator.url,
      apiKey: simulator.apiKey,
      libraryPath: photoDir,
      settings: { dryRun: false, maxAssetsPerRun },
      progress: (m) => process.stderr.write(`  ${label}: ${m}\n`),
    });
    for (let run = 1; run <= maxRuns; run++) {
      const result = await env.run();
      rows.push(row(label, run, result));
      process.stderr.write(`  ${label}: run ${run}: ${JSON.stringify(rows[rows.length - 1])}\n`);
      if (result.batchSize === 0) break;
    }
    if (simulator.violations().length) throw new Error(`spec violations: ${JSON.stringify(simulator.violations()).slice(0, 2000)}`);
  } finally {
    await simulator.close();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  return rows;
}

async function main(): Promise<void> {
  const count = Number(process.argv[2] ?? 2000);
  const photoRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-template-photos-'));
  try {
    const sample = createSampleLibrary({ photoDir: path.join(photoRoot, 'sample') });
    makeTreeWritable(sample.photoDir);
    const rows = await measure('sample (19)', sample.library, sample.photoDir, 500, 2);
    const synthetic = createSyntheticLibrary(count, { photoDir: path.join(photoRoot, 'synthetic'), copyFiles: true });
    makeTreeWritable(synthetic.photoDir);
    rows.push(...(await measure(`synthetic (${count})`, synthetic.library, synthetic.photoDir, 500, Math.ceil(count / 500) + 2)));

    const lines = [
      `n8n execute of the template, ${os.cpus().length} CPUs, Node ${process.version}, ${new Date().toISOString()}`,
      '',
      '| library | run | assets handed out | written | unchanged | failed | n8n execute (s) | of which nodes (s) | per node (s) |',
      '|---|---|---|---|---|---|---|---|---|',
      ...rows.map((r) => `| ${r.library} | ${r.run} | ${r.assets} | ${r.written} | ${r.unchanged} | ${r.failed} | ${r.totalS.toFixed(1)} | ${r.nodesS.toFixed(1)} | ${r.perNode} |`),
    ];
    const full = rows.filter((r) => r.library.startsWith('synthetic') && r.assets === 500);
    if (full.length) {
      const perRun = full.reduce((s, r) => s + r.totalS, 0) / full.length;
      lines.push('', `A 500-asset batch takes ${perRun.toFixed(0)} s on average: about ${Math.round((500 * 3600) / perRun)} assets per hour if runs followed each other; with the template's hourly schedule, 500 per hour (12,000 per day).`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    fs.rmSync(photoRoot, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`measurement failed: ${(error as Error).message}\n`);
  process.exit(1);
});
