/**
 * Partitions in real n8n: the template imported twice, as Partition 1 of 2 and Partition 2 of 2, on one
 * library and one state root. Each hands out and writes only its own assets, with its own checkpoint;
 * together they cover every asset exactly once (union = all, intersection = none), and each file is
 * written by one of them only.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImmichClient } from '../../lib/immich/client';
import { AxiosTransport } from '../../lib/immich/transport';
import { inPartition } from '../../lib/sync/partition';
import { createSampleLibrary, startSimulator, type SampleLibrary, type Simulator } from '../simulator';
import { makeTreeWritable, SEARCH_NODE, TemplateEnvironment, type TemplateRun } from './templateEnvironment';

jest.setTimeout(20 * 60_000);

let workDir: string;
let simulator: Simulator;
let env: TemplateEnvironment;
let secondId: string;
let sample: SampleLibrary;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-template-partition-'));
  sample = createSampleLibrary({ photoDir: path.join(workDir, 'library') });
  makeTreeWritable(sample.photoDir);
  simulator = await startSimulator({ library: sample.library });
  env = await TemplateEnvironment.create({
    workDir,
    immichUrl: simulator.url,
    apiKey: simulator.apiKey,
    libraryPath: sample.photoDir,
    settings: { dryRun: false, partition: { index: 1, count: 2 } },
    progress: (message) => process.stderr.write(`[e2e partition ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  });
  secondId = await env.importCopy('immichPartition2', sample.photoDir, { dryRun: false, partition: { index: 2, count: 2 } });
});

afterAll(async () => {
  await simulator?.close();
  if (workDir && process.env.KEEP_E2E_DIR !== '1') fs.rmSync(workDir, { recursive: true, force: true });
});

const handedOut = (run: TemplateRun): string[] => (run.report.nodes[SEARCH_NODE]?.items ?? []).map((item) => String((item as { id?: unknown }).id));

test('partition 1 of 2 and 2 of 2: every asset handed out by exactly one of them, each file written by one only, each with its own checkpoint', async () => {
  const client = new ImmichClient(new AxiosTransport({ url: simulator.url, apiKey: simulator.apiKey }), { pageSize: 1000 });
  const all = (await client.collectAssets({ order: 'asc', withExif: true, withPeople: true })).map((a) => a.id);
  expect(all.length).toBeGreaterThan(4);

  const first = await env.run();
  const second = await env.run(secondId);
  const one = handedOut(first);
  const two = handedOut(second);
  process.stderr.write(`[e2e partition] ${all.length} assets: partition 1 handed out ${one.length}, partition 2 ${two.length}\n`);
  expect(new Set([...one, ...two])).toEqual(new Set(all)); // union = all
  expect(one.filter((id) => two.includes(id))).toEqual([]); // intersection = none
  expect(one.length + two.length).toBe(all.length);
  expect(one.every((id) => inPartition(id, { index: 1, count: 2 }))).toBe(true);
  expect(one.length).toBeGreaterThan(0);
  expect(two.length).toBeGreaterThan(0);

  const writtenBy = (run: TemplateRun) => run.results.filter((r) => r.status === 'written').map((r) => r.file as string);
  const written = [...writtenBy(first), ...writtenBy(second)];
  expect(new Set(written).size).toBe(written.length);
  for (const result of [...first.results, ...second.results]) expect(one.includes(result.assetId) !== two.includes(result.assetId)).toBe(true);

  for (const [workflowId, index] of [[env.workflowId, 1], [secondId, 2]] as const) {
    const state = await env.syncState(workflowId, { index, count: 2 });
    expect(state.folder).toMatch(new RegExp(`partition-${index}-of-2$`));
    expect(state.checkpoint.pass).toBeNull();
    expect(state.checkpoint.lastFullPassStartedAt).not.toBeNull();
  }
  expect(simulator.violations()).toEqual([]);
});

test('with static data wiped before each run (what a queue-mode worker sees), each partition continues from its state folder', async () => {
  const damaged = sample.entry('future42603.mp4').assetId; // ExifTool cannot write it: on the retry list
  for (const [workflowId, index] of [[env.workflowId, 1], [secondId, 2]] as const) {
    const kept = async () => ((await env.staticData(workflowId)).global as Record<string, unknown> | undefined)?.immichMetadataSync;
    expect(await kept()).toBeDefined(); // n8n saved the static data of the run before
    await env.importCopy(workflowId, sample.photoDir, { dryRun: false, partition: { index, count: 2 } }, {}); // replaces the workflow with empty static data
    expect(await kept()).toBeUndefined();
    const run = await env.run(workflowId);
    // nothing but the retry of the damaged asset, by the partition it belongs to
    expect(handedOut(run)).toEqual(inPartition(damaged, { index, count: 2 }) ? [damaged] : []);
    expect(run.results.filter((r) => r.status === 'written')).toEqual([]);
    expect((await env.syncState(workflowId, { index, count: 2 })).checkpoint.lastPassStartedAt).not.toBeNull();
  }
});
