/**
 * The command line against a server that caps every search page at 5 assets, whatever `size` asks
 * (forks and proxies do): every asset of the demo library and of a 500-asset library is handled, and
 * the run says how many it listed and handled. Before the one engine, the command line stopped after
 * the first short page and counted the pass as complete.
 */
import { createSampleLibrary, createSyntheticLibrary, startSimulator, type Simulator } from '../simulator';
import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../cli/axiosTransport';
import { ensureBuilt, makeWritable, parseCoverage, parseSummary, removeTemps, runCli, SECRET_KEY, tempDir } from './cli-harness';

jest.setTimeout(600_000);

const PAGE_CAP = 5;
const sims: Simulator[] = [];

beforeAll(() => ensureBuilt());
afterAll(async () => {
  for (const sim of sims) await sim.close();
  removeTemps();
});

/** What a well-behaved server lists for a full pass (the same filters the engine uses). */
async function listedByImmich(sim: Simulator): Promise<string[]> {
  const client = new ImmichClient(new AxiosTransport({ url: sim.url, apiKey: SECRET_KEY }), { pageSize: 1000 });
  return (await client.collectAssets({ order: 'asc', withExif: true, withPeople: true })).map((a) => a.id);
}

async function capped(library: Parameters<typeof startSimulator>[0]['library']): Promise<{ sim: Simulator; expected: string[] }> {
  const sim = await startSimulator({ library, apiKey: SECRET_KEY });
  sims.push(sim);
  const expected = await listedByImmich(sim);
  sim.setSearchBehaviour({ pageCap: PAGE_CAP });
  return { sim, expected };
}

it('handles every asset of the demo library when pages hold at most 5 assets', async () => {
  const photoDir = tempDir('cli-paging-demo-');
  const sample = createSampleLibrary({ photoDir });
  makeWritable(photoDir);
  const { sim, expected } = await capped(sample.library);
  const stateDir = tempDir('cli-paging-state-');
  const run = await runCli(['--all', '--page-size', '250', '--state-dir', stateDir], {
    env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: SECRET_KEY, PHOTO_DIR: photoDir, HOME: stateDir },
  });
  const coverage = parseCoverage(run.lines);
  const counts = parseSummary(run.lastLine);
  process.stderr.write(`[cli-paging] demo library, pages capped at ${PAGE_CAP}: ${run.lines.find((l) => l.startsWith('listed '))}; ${run.lastLine}\n`);
  expect(expected.length).toBeGreaterThan(PAGE_CAP * 2);
  expect(coverage).toEqual({ listed: expected.length, byId: 0, handled: expected.length });
  expect(counts.written + counts.unchanged + counts.skipped + counts.failed).toBe(expected.length);
  // the pages really were short: more search requests than a 250-per-page listing needs
  expect(sim.requestCount('POST /search/metadata')).toBeGreaterThan(expected.length / PAGE_CAP);
  expect([0, 1]).toContain(run.code); // 1: the damaged sample video fails by name
  expect(sim.violations()).toEqual([]);
});

it('handles all 500 assets of a larger library when pages hold at most 5 assets, and a second run lists none again', async () => {
  const photoDir = tempDir('cli-paging-500-');
  const synthetic = createSyntheticLibrary(500, { photoDir, copyFiles: true });
  makeWritable(photoDir);
  const { sim, expected } = await capped(synthetic.library);
  const stateDir = tempDir('cli-paging-state-');
  const env = { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: SECRET_KEY, PHOTO_DIR: photoDir, HOME: stateDir };
  const run = await runCli(['--rating', '--caption', '--concurrency', '4', '--state-dir', stateDir], { env });
  process.stderr.write(`[cli-paging] 500 assets, pages capped at ${PAGE_CAP}: ${run.lines.find((l) => l.startsWith('listed '))}; ${run.lastLine}\n`);
  expect(expected).toHaveLength(500);
  expect(parseCoverage(run.lines)).toEqual({ listed: 500, byId: 0, handled: 500 });
  expect(run.code).toBe(0);
  const again = await runCli(['--rating', '--caption', '--only-new', '--state-dir', stateDir], { env });
  expect(parseSummary(again.lastLine)).toMatchObject({ written: 0, failed: 0 });
  expect(sim.violations()).toEqual([]);
});
