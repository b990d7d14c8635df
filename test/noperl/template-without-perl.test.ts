/**
 * The bundled template in a real n8n with Perl really hidden (only the `n8n execute` runs in the
 * mount namespace; the Immich simulator answers from this process over loopback): Write Metadata
 * picks the built-in ExifTool and says so once, writes the demo library byte for byte as the same
 * template does with Perl on a copy of it, and a second run writes nothing. Needs root and
 * `npm run build`; n8n from .cache/n8n (N8N_CACHE_DIR).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { createSampleLibrary, startSimulator, type SampleLibrary, type Simulator } from '../simulator';
import { makeTreeWritable, TemplateEnvironment, type TemplateRun } from '../e2e/templateEnvironment';

// n8n starts in 10–30 s per run on a busy machine; the built-in engine writes about 0.4 files/s.
jest.setTimeout(15 * 60_000);

const NOTICE = 'no Perl found: using the built-in WebAssembly ExifTool';
const WASM_WORKFLOW = 'immichSyncNoPerl1';

let workDir: string;
let sample: SampleLibrary;
let perlLibrary: string;
let wasmLibrary: string;
let simulator: Simulator;
let env: TemplateEnvironment;
let perlRun: TemplateRun;
let wasmRun: TemplateRun;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-template-noperl-'));
  perlLibrary = path.join(workDir, 'perl-library');
  wasmLibrary = path.join(workDir, 'wasm-library');
  sample = createSampleLibrary({ photoDir: perlLibrary });
  makeTreeWritable(perlLibrary);
  fs.cpSync(perlLibrary, wasmLibrary, { recursive: true });
  simulator = await startSimulator({ library: sample.library });
  env = await TemplateEnvironment.create({ workDir, immichUrl: simulator.url, apiKey: simulator.apiKey, libraryPath: perlLibrary, restrictFileAccessTo: `${path.join(workDir, 'state')};${perlLibrary};${wasmLibrary}`, settings: { dryRun: false } });
  await env.importCopy(WASM_WORKFLOW, wasmLibrary, { dryRun: false });
  // One after the other: both n8n commands share the user folder's SQLite database.
  perlRun = await env.run();
  wasmRun = await env.run(WASM_WORKFLOW, { withoutPerl: true });
});

afterAll(async () => {
  await simulator?.close();
  if (workDir && process.env.KEEP_E2E_DIR !== '1') fs.rmSync(workDir, { recursive: true, force: true });
});

const relative = (library: string, file: unknown): string => path.relative(library, String(file));
const notices = (run: TemplateRun): string[] => `${run.report.raw.stdout}\n${run.report.raw.stderr}`.split('\n').filter((line) => line.includes(NOTICE));

/** Per sample file (relative to its library): its content hash. */
function contents(library: string): Map<string, string> {
  const hashes = new Map<string, string>();
  for (const entry of sample.entries) {
    const file = path.join(library, path.relative(perlLibrary, entry.localPath));
    if (fs.existsSync(file)) hashes.set(path.relative(library, file), createHash('sha256').update(fs.readFileSync(file)).digest('hex'));
  }
  return hashes;
}

/** What Write Metadata reported per asset, with the library folder taken out. */
function outcomes(run: TemplateRun, library: string): unknown[] {
  return run.results
    .map((r) => ({ assetId: r.assetId, file: r.file ? relative(library, r.file) : null, status: r.status, verified: r.verified, changes: r.changes, reason: r.reason?.split(library).join('<library>') }))
    .sort((a, b) => a.assetId.localeCompare(b.assetId));
}

test('without Perl, Write Metadata runs the built-in ExifTool and says so once; with Perl it does not', () => {
  expect(notices(wasmRun)).toHaveLength(1);
  expect(notices(wasmRun)[0]).toMatch(/about \d+× slower; install Perl for speed/);
  expect(notices(perlRun)).toEqual([]);
});

test('the built-in engine syncs the demo library exactly as Perl does: same results, same bytes on disk', () => {
  expect(perlRun.summary).not.toBeNull();
  expect(wasmRun.summary).not.toBeNull();
  expect(perlRun.summary!.written).toBeGreaterThan(5);
  const counts = (run: TemplateRun) => ({ total: run.summary!.total, written: run.summary!.written, unchanged: run.summary!.unchanged, skipped: run.summary!.skipped, failed: run.summary!.failed });
  expect(counts(wasmRun)).toEqual(counts(perlRun));
  expect(outcomes(wasmRun, wasmLibrary)).toEqual(outcomes(perlRun, perlLibrary));
  // every written file verified (image data unchanged), the damaged sample refused on both
  expect(wasmRun.results.filter((r) => r.status === 'written' && r.verified !== true && !r.notes?.length)).toEqual([]);
  expect(wasmRun.summary!.failedAssets.map((f) => f.assetId)).toEqual([sample.entry('future42603.mp4').assetId]);
  const perlBytes = contents(perlLibrary);
  expect(perlBytes.size).toBeGreaterThan(10);
  expect(contents(wasmLibrary)).toEqual(perlBytes);
  expect(fs.readdirSync(wasmLibrary, { recursive: true }).filter((f) => String(f).includes('.immich-sync-tmp-'))).toEqual([]);
  expect(simulator.violations()).toEqual([]);
});

test('a second run without Perl writes nothing', async () => {
  const before = contents(wasmLibrary);
  const again = await env.run(WASM_WORKFLOW, { withoutPerl: true });
  expect(notices(again)).toHaveLength(1);
  expect(again.results.filter((r) => r.status === 'written')).toEqual([]);
  // only the damaged sample is handed out again, from the retry list
  expect(again.results.map((r) => r.assetId)).toEqual([sample.entry('future42603.mp4').assetId]);
  expect(contents(wasmLibrary)).toEqual(before);
  expect(again.report.raw.stdout).not.toContain(simulator.apiKey);
  expect(again.report.raw.stderr).not.toContain(simulator.apiKey);
});
