/**
 * The two installs users follow, each into a fresh n8n user folder and then loaded and run by a real n8n
 * 2.40 (a workflow with all four nodes and the Immich credential, against the simulator, in dry run):
 *
 * - n8n's *Settings → Community Nodes* install (N8nInstance.installPackage: peer/dev dependencies removed,
 *   `npm install` with n8n's flags);
 * - the README's *Manual install* commands, taken from README.md and run as they stand with HOME set to a
 *   temporary folder; only the registry name is replaced by the packed tarball of this build.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createSampleLibrary, startSimulator, type Simulator } from '../simulator';
import { ensureN8n, findRepoRoot, N8nInstance, packPackage, PACKAGE_NAME, runShell, type N8nWorkflow } from './n8nHarness';
import { makeTreeWritable } from './templateEnvironment';

jest.setTimeout(10 * 60_000);

const repoRoot = findRepoRoot();
let workDir: string;
let tgz: string;
let n8nBin: string;
let simulator: Simulator;
let photoDir: string;

beforeAll(async () => {
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-install-e2e-'));
  n8nBin = ensureN8n(repoRoot).n8nBin;
  tgz = await packPackage(repoRoot, path.join(workDir, 'pack'));
  photoDir = path.join(workDir, 'library');
  const sample = createSampleLibrary({ photoDir });
  makeTreeWritable(photoDir);
  simulator = await startSimulator({ library: sample.library });
});

afterAll(async () => {
  await simulator?.close();
  if (workDir && process.env.KEEP_E2E_DIR !== '1') fs.rmSync(workDir, { recursive: true, force: true });
});

/** The bash block after "**Manual install**" in README.md. */
function readmeManualInstall(readme: string): string {
  const at = readme.indexOf('**Manual install**');
  if (at < 0) throw new Error('README.md has no "**Manual install**" paragraph');
  const block = /```bash\n([\s\S]*?)```/.exec(readme.slice(at));
  if (!block) throw new Error('README.md has no ```bash block after "**Manual install**"');
  return block[1];
}

const CREDENTIAL = { id: 'immichInstallTest1', name: 'Immich' };

/** Manual Trigger → the four nodes of this package, two assets, Dry Run: every node and the credential must load. */
function smokeWorkflow(): N8nWorkflow {
  const node = (name: string, type: string, x: number, parameters: Record<string, unknown>, credentials = false) => ({
    id: name.toLowerCase().replace(/\W+/g, '-'),
    name,
    type,
    typeVersion: 1,
    position: [x, 0] as [number, number],
    parameters,
    ...(credentials ? { credentials: { immichApi: CREDENTIAL } } : {}),
  });
  const nodes = [
    node('Start', 'n8n-nodes-base.manualTrigger', 0, {}),
    node('Search', `${PACKAGE_NAME}.immichSearchAssets`, 200, { returnAll: false, limit: 2 }, true),
    node('Details', `${PACKAGE_NAME}.immichGetAssetDetails`, 400, {}, true),
    node('Build', `${PACKAGE_NAME}.immichBuildMetadataTags`, 600, {}),
    node('Write', `${PACKAGE_NAME}.immichWriteMetadata`, 800, { libraryPath: photoDir, dryRun: true }),
  ];
  const connections: Record<string, unknown> = {};
  for (let i = 0; i < nodes.length - 1; i++) connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
  return { id: 'installSmoke1', name: 'Install smoke test', nodes, connections, active: false, settings: { executionOrder: 'v1' } } as unknown as N8nWorkflow;
}

/** Imports the credential and the workflow into the installed n8n and runs it; returns Write Metadata's results. */
async function runInstalled(n8n: N8nInstance): Promise<Array<Record<string, unknown>>> {
  await n8n.importCredentials([{ ...CREDENTIAL, type: 'immichApi', data: { url: simulator.url, apiKey: simulator.apiKey } }]);
  await n8n.importWorkflow(smokeWorkflow());
  const report = await n8n.execute('installSmoke1');
  expect({ error: report.error, nodesRun: Object.keys(report.nodes).sort() }).toEqual({ error: null, nodesRun: ['Build', 'Details', 'Search', 'Start', 'Write'] });
  return report.nodes.Write.items;
}

function expectDryRunResults(results: Array<Record<string, unknown>>): void {
  expect(results).toHaveLength(2);
  for (const result of results) {
    expect(result).toEqual(expect.objectContaining({ dryRun: true }));
    expect(['written', 'unchanged', 'skipped']).toContain(result.status);
  }
}

test('Settings → Community Nodes install (peer and dev dependencies stripped, n8n\'s npm flags): real n8n loads and runs all four nodes', async () => {
  const n8n = new N8nInstance({ n8nBin, userFolder: path.join(workDir, 'community'), env: { N8N_RESTRICT_FILE_ACCESS_TO: photoDir } });
  await n8n.installPackage(tgz);
  const installed = path.join(n8n.nodesDir, 'node_modules', PACKAGE_NAME);
  const manifest = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
  expect(Object.keys(manifest)).not.toEqual(expect.arrayContaining(['peerDependencies']));
  expect(manifest.devDependencies).toBeUndefined();
  expect(fs.existsSync(path.join(installed, 'node_modules', 'n8n-workflow'))).toBe(false);
  expectDryRunResults(await runInstalled(n8n));
});

test("the README's manual install, run as written in a fresh HOME: no n8n-workflow copy, and real n8n loads and runs the nodes", async () => {
  const home = path.join(workDir, 'readme-home');
  fs.mkdirSync(home, { recursive: true });
  const commands = readmeManualInstall(fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8'));
  expect(commands).toMatch(/^mkdir -p ~\/\.n8n\/nodes/m);
  expect(commands).toContain(` ${PACKAGE_NAME}\n`);
  // the packed tarball of this build instead of the published version from the registry
  await runShell(commands.replace(` ${PACKAGE_NAME}\n`, ` ${tgz}\n`), { cwd: home, env: { HOME: home }, timeoutMs: 5 * 60_000 });
  const nodesDir = path.join(home, '.n8n', 'nodes');
  expect(fs.existsSync(path.join(nodesDir, 'node_modules', PACKAGE_NAME, 'package.json'))).toBe(true);
  // --omit=peer: n8n brings its own n8n-workflow; a second copy would pull in isolated-vm (a native build)
  expect(fs.existsSync(path.join(nodesDir, 'node_modules', 'n8n-workflow'))).toBe(false);
  expect(fs.existsSync(path.join(nodesDir, 'node_modules', 'isolated-vm'))).toBe(false);
  // n8n keeps its folder in <N8N_USER_FOLDER>/.n8n: the HOME the commands ran in
  const n8n = new N8nInstance({ n8nBin, userFolder: home, env: { N8N_RESTRICT_FILE_ACCESS_TO: photoDir } });
  expectDryRunResults(await runInstalled(n8n));
});
