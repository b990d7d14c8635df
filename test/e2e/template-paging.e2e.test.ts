/**
 * The bundled template in real n8n against a server that caps every search page at 5 assets, whatever
 * `size` asks: over several runs of Max Assets Per Run each, every asset of the demo library and of a
 * 500-asset library is handed out by the listing exactly once, and the pass completes.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../lib/immich/transport';
import { createSampleLibrary, createSyntheticLibrary, startSimulator, type Simulator } from '../simulator';
import { makeTreeWritable, SEARCH_NODE, TemplateEnvironment, type TemplateRun } from './templateEnvironment';

jest.setTimeout(20 * 60_000);

const PAGE_CAP = 5;
let workDir: string;
let simulator: Simulator;
let env: TemplateEnvironment;

async function listedByImmich(sim: Simulator): Promise<string[]> {
  const client = new ImmichClient(new AxiosTransport({ url: sim.url, apiKey: sim.apiKey }), { pageSize: 1000 });
  return (await client.collectAssets({ order: 'asc', withExif: true, withPeople: true })).map((a) => a.id);
}

/** Runs the workflow until its pass completes; returns how often the listing handed out each id. */
async function runPass(workflowId: string, maxRuns: number): Promise<{ listedTimes: Map<string, number>; runs: TemplateRun[] }> {
  const listedTimes = new Map<string, number>();
  const runs: TemplateRun[] = [];
  for (let i = 0; i < maxRuns; i++) {
    const run = await env.run(workflowId);
    runs.push(run);
    for (const item of run.report.nodes[SEARCH_NODE]?.items ?? []) {
      const json = item as unknown as { id: string; syncOrigin?: string };
      if (!json.syncOrigin) listedTimes.set(json.id, (listedTimes.get(json.id) ?? 0) + 1);
    }
    const { checkpoint } = await env.syncState(workflowId);
    if (checkpoint.pass === null && checkpoint.lastFullPassStartedAt) break;
  }
  return { listedTimes, runs };
}

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-template-paging-'));
  const sample = createSampleLibrary({ photoDir: path.join(workDir, 'library') });
  makeTreeWritable(sample.photoDir);
  simulator = await startSimulator({ library: sample.library });
  env = await TemplateEnvironment.create({
    workDir,
    immichUrl: simulator.url,
    apiKey: simulator.apiKey,
    libraryPath: sample.photoDir,
    settings: { dryRun: false, maxAssetsPerRun: 7 },
    progress: (message) => process.stderr.write(`[e2e paging ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  });
});

afterAll(async () => {
  await simulator?.close();
  if (workDir && process.env.KEEP_E2E_DIR !== '1') fs.rmSync(workDir, { recursive: true, force: true });
});

test('demo library, pages capped at 5, batches of 7: every asset handed out by the listing exactly once', async () => {
  const expected = await listedByImmich(simulator);
  simulator.setSearchBehaviour({ pageCap: PAGE_CAP });
  const { listedTimes, runs } = await runPass(env.workflowId, 10);
  process.stderr.write(`[e2e paging] demo library: listed ${listedTimes.size} of ${expected.length} in ${runs.length} runs (batches ${runs.map((r) => r.batchSize).join(', ')})\n`);
  expect(expected.length).toBeGreaterThan(7);
  expect([...listedTimes.keys()].sort()).toEqual([...expected].sort());
  expect([...listedTimes.values()].every((times) => times === 1)).toBe(true);
  expect(simulator.violations()).toEqual([]);
});

test('500 assets, pages capped at 5, batches of 200: all handed out exactly once, then the pass completes', async () => {
  const port = simulator.port;
  await simulator.close();
  const photoDir = path.join(workDir, 'library-500');
  const synthetic = createSyntheticLibrary(500, { photoDir, copyFiles: true });
  makeTreeWritable(photoDir);
  // The same address, so the imported credential points at it.
  simulator = await startSimulator({ library: synthetic.library, port });
  const expected = await listedByImmich(simulator);
  simulator.setSearchBehaviour({ pageCap: PAGE_CAP });
  const workflowId = await env.importCopy('immichPaging500', photoDir, { dryRun: false, maxAssetsPerRun: 200, modules: ['rating', 'caption'] });
  const { listedTimes, runs } = await runPass(workflowId, 6);
  process.stderr.write(`[e2e paging] 500 assets: listed ${listedTimes.size} of ${expected.length} in ${runs.length} runs (batches ${runs.map((r) => r.batchSize).join(', ')})\n`);
  expect(expected).toHaveLength(500);
  expect(listedTimes.size).toBe(500);
  expect([...listedTimes.values()].every((times) => times === 1)).toBe(true);
  expect(runs.flatMap((r) => r.results).filter((r) => r.status === 'failed')).toEqual([]);
  expect(simulator.violations()).toEqual([]);
});
