/**
 * `npm run demo`: the bundled template in a real n8n against a simulated Immich with the sample
 * photos. Runs it twice, prints what the first run wrote and that the second changed nothing, and
 * leaves the written files in ./demo-output/library. Stops everything it started.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { AssetWriteResult } from '../../lib/files/types';
import { findRepoRoot } from '../e2e/n8nHarness';
import { makeTreeWritable, TemplateEnvironment, type TemplateRun } from '../e2e/templateEnvironment';
import { createSampleLibrary, searchBehaviourFromEnv, startSimulator, type Simulator } from '../simulator';

const say = (line = '') => process.stdout.write(`${line}\n`);
const step = (message: string) => say(`• ${message}`);

function fieldsOf(result: AssetWriteResult): string {
  // "People (XMP-iptcExt:PersonInImage)" → "People": one name per field family keeps the table readable
  const families = [...new Set(result.changes.map((change) => change.field.replace(/\s*\(.*\)$/, '')))];
  return families.join(', ');
}

/** The reason without the asset id and path the File column already shows, cut to fit a terminal. */
function shortReason(result: AssetWriteResult): string {
  let reason = result.reason ?? '';
  reason = reason.replace(`Asset ${result.assetId}: `, '');
  if (result.file) reason = reason.replace(`${result.file}: `, '');
  return reason.length > 110 ? `${reason.slice(0, 109)}…` : reason;
}

function table(rows: string[][], headers: string[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function report(run: TemplateRun, libraryDir: string, label: string): void {
  const seconds = (run.report.durationMs / 1000).toFixed(1);
  if (run.batchSize === 0) {
    say(`${label}: Immich reported no asset changed since the last run, so n8n had nothing to hand out (${seconds} s). 0 files written.`);
    return;
  }
  const s = run.summary;
  say(`${label} (${seconds} s): ${run.batchSize} assets checked — ${s?.written ?? 0} written, ${s?.unchanged ?? 0} unchanged, ${s?.skipped ?? 0} skipped, ${s?.failed ?? 0} failed`);
  const rows = run.results
    .filter((r) => r.status !== 'unchanged')
    .map((r) => [r.file ? path.relative(libraryDir, r.file) : r.assetId, r.status, r.status === 'written' ? fieldsOf(r) : shortReason(r)]);
  if (rows.length) {
    say();
    say(table(rows, ['File', 'Outcome', 'Fields changed / reason']));
  }
}

async function main(): Promise<void> {
  const repoRoot = findRepoRoot();
  const outputDir = path.resolve(process.env.DEMO_OUTPUT_DIR ?? path.join(repoRoot, 'demo-output'));
  const libraryDir = path.join(outputDir, 'library');
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-metadata-sync-demo-'));
  let simulator: Simulator | null = null;
  const stop = async () => {
    await simulator?.close();
    simulator = null;
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));

  try {
    say('Immich Metadata Sync — demo: the bundled n8n template against a simulated Immich\n');
    fs.rmSync(libraryDir, { recursive: true, force: true });
    const sample = createSampleLibrary({ photoDir: libraryDir });
    makeTreeWritable(libraryDir);
    step(`copied ${sample.entries.length} sample photos (faces, GPS, dates, ratings, albums) to ${libraryDir}`);
    // IMMICH_SIM_PAGE_CAP / IMMICH_SIM_SEARCH run the demo against a server that pages differently
    const search = searchBehaviourFromEnv();
    simulator = await startSimulator({ library: sample.library, search });
    step(`Immich simulator (v3.1 API, every request checked against the OpenAPI spec) at ${simulator.url}${Object.keys(search).length ? `, search behaviour ${JSON.stringify(search)}` : ''}`);

    const env = await TemplateEnvironment.create({
      workDir,
      immichUrl: simulator.url,
      apiKey: simulator.apiKey,
      libraryPath: libraryDir,
      // the template is imported as shipped; only Dry Run is turned off, as a user would after checking it
      settings: { dryRun: false },
      progress: step,
    });
    step('running the template with `n8n execute` (first run: a full pass over the library)\n');
    const first = await env.run();
    report(first, libraryDir, 'First run');

    say();
    step('running it again (an incremental pass: only what changed in Immich since the first run)\n');
    const second = await env.run();
    report(second, libraryDir, 'Second run');

    say();
    step('running a fresh copy of the workflow (no checkpoint yet: it compares every file again)\n');
    const copyId = await env.importCopy('immichSyncRecheck1', libraryDir, { dryRun: false });
    const recheck = await env.run(copyId);
    report(recheck, libraryDir, 'Full re-check');
    const rewritten = [...second.results, ...recheck.results].filter((r) => r.status === 'written').length;
    say(
      rewritten === 0
        ? `\n✔ Nothing was rewritten: the files already hold what Immich knows (${recheck.summary?.unchanged ?? 0} compared, all unchanged).`
        : `\n✘ ${rewritten} files were rewritten although nothing changed in Immich: please report this.`,
    );

    const violations = simulator.violations();
    if (violations.length) say(`\n✘ ${violations.length} requests or responses broke the Immich API spec:\n${JSON.stringify(violations, null, 2)}`);

    say(`\nThe written photos are in ${libraryDir}`);
    say(`Look at one: exiftool -G1 -a -s -XMP:all -IPTC:all -Rating "${path.join(libraryDir, '1903', '06', 'portrait.jpg')}"`);
    if (first.summary?.failed) {
      say('\nA file that cannot be written (the sample set includes a deliberately damaged video) is reported with its reason,');
      say('retried on the next runs and parked after three attempts; it never stops the other files.');
    }
    if (rewritten > 0 || violations.length > 0) process.exitCode = 1;
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`\nThe demo failed: ${(error as Error).message}\n`);
  process.exit(1);
});
