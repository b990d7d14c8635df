/**
 * What a user sees in n8n's editor, in a real browser (Debian's chromium driven by playwright-core) against a real
 * n8n with this package installed from its npm pack and the Immich simulator behind the template's credential.
 * Assertions are on the page's DOM; the screenshots go to test-artifacts/editor/.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { chromium, selectors, type BrowserContext, type Page } from 'playwright-core';

import { createSampleLibrary, startSimulator, type Simulator } from '../simulator';
import { findRepoRoot, freePort, PACKAGE_NAME } from './n8nHarness';
import { loadTemplate, makeTreeWritable, TemplateEnvironment, WRITE_NODE } from './templateEnvironment';

jest.setTimeout(20 * 60_000);

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OWNER = { email: 'owner@example.org', firstName: 'Test', lastName: 'Owner', password: 'Editor-e2e-1' };
const ARTIFACTS = path.join(findRepoRoot(), 'test-artifacts', 'editor');
const PACKAGE_NODES = ['Immich Search Assets', 'Immich Get Asset Details', 'Immich Build Metadata Tags', 'Immich Write Metadata'];

let workDir: string;
let simulator: Simulator;
let env: TemplateEnvironment;
let server: ChildProcess | undefined;
let baseUrl: string;
let context: BrowserContext;
let page: Page;

async function waitForN8n(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${url}/healthz/readiness`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (server?.exitCode !== null && server?.exitCode !== undefined) throw new Error(`n8n start exited with ${server.exitCode}; see ${env.n8n.userFolder}/n8n-start.log`);
    if (Date.now() > until) throw new Error(`n8n did not become ready at ${url} within ${timeoutMs} ms; see ${env.n8n.userFolder}/n8n-start.log`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

function canvasNode(name: string) {
  return page.locator(`[data-test-id="canvas-node"][data-node-name="${name}"]`);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });
}

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`No chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'immich-editor-e2e-'));
  const sample = createSampleLibrary({ photoDir: path.join(workDir, 'library') });
  makeTreeWritable(sample.photoDir);
  simulator = await startSimulator({ library: sample.library });
  env = await TemplateEnvironment.create({
    workDir,
    immichUrl: simulator.url,
    apiKey: simulator.apiKey,
    libraryPath: sample.photoDir,
    settings: { dryRun: true, modules: ['people', 'faces', 'gps', 'caption', 'time', 'rating'] },
    progress: (message) => process.stderr.write(`[editor e2e ${new Date().toISOString().slice(11, 19)}] ${message}\n`),
  });
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  server = await env.n8n.startServer(port);
  await waitForN8n(baseUrl, 180_000);
  const setup = await fetch(`${baseUrl}/rest/owner/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(OWNER),
  });
  if (!setup.ok) throw new Error(`owner setup failed: ${setup.status} ${await setup.text()}`);

  // n8n marks its elements with data-test-id, not Playwright's default data-testid.
  selectors.setTestIdAttribute('data-test-id');
  context = await chromium.launchPersistentContext(path.join(workDir, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
  });
  context.setDefaultTimeout(30_000);
  page = context.pages()[0] ?? (await context.newPage());
});

afterAll(async () => {
  await context?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server!.once('exit', resolve));
  }
  await simulator?.close();
  if (workDir && process.env.KEEP_E2E_DIR !== '1') fs.rmSync(workDir, { recursive: true, force: true });
});

describe('the n8n editor in a real browser', () => {
  it('signs in as the owner set up through the REST API', async () => {
    await page.goto(`${baseUrl}/signin`);
    const form = page.getByTestId('signin-form');
    // The first page load compiles nothing but may wait on a busy machine.
    await form.locator('input[name="emailOrLdapLoginId"]').fill(OWNER.email, { timeout: 90_000 });
    await form.locator('input[name="password"]').fill(OWNER.password);
    await shot('01-sign-in');
    await page.getByTestId('form-submit-button').click();
    await page.waitForURL((url) => !url.pathname.startsWith('/signin'));
  });

  it('opens the imported template with every node known (no unknown-node placeholder)', async () => {
    await page.goto(`${baseUrl}/workflow/${env.workflowId}`);
    const template = loadTemplate();
    template.nodes = template.nodes.filter((n) => n.type !== 'n8n-nodes-base.stickyNote'); // a sticky note is no canvas node
    for (const node of template.nodes) await canvasNode(node.name).waitFor();
    const onCanvas = await page.getByTestId('canvas-node').evaluateAll((els) => els.map((e) => [e.getAttribute('data-node-name'), e.getAttribute('data-node-type')]));
    expect(onCanvas.sort()).toEqual(template.nodes.map((n) => [n.name, n.type]).sort());
    // A known node shows the icon its description names; an unknown type has no description, hence no icon of ours.
    for (const node of template.nodes.filter((n) => n.type.startsWith(`${PACKAGE_NAME}.`))) {
      const icon = canvasNode(node.name).locator(`img[src*="/icons/${PACKAGE_NAME}/"]`);
      await icon.waitFor();
      await page.waitForFunction((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0, await icon.elementHandle());
    }
    expect(await page.getByText('not currently installed').count()).toBe(0);
    await shot('02-template');
  });

  it('finds the four nodes in the node panel', async () => {
    await page.getByTestId('node-creator-plus-button').click();
    await page.getByTestId('node-creator-search-bar').fill('Immich');
    const items = page.getByTestId('node-creator-item-name');
    for (const name of PACKAGE_NODES) await items.filter({ hasText: name }).first().waitFor();
    expect((await items.allInnerTexts()).map((t) => t.trim()).sort()).toEqual([...PACKAGE_NODES].sort());
    await shot('03-node-panel');
    await page.keyboard.press('Escape');
    await page.getByTestId('node-creator-search-bar').waitFor({ state: 'detached' });
  });

  it('opens Write Metadata and shows its parameters', async () => {
    await canvasNode(WRITE_NODE).dblclick();
    const parameters = page.getByTestId('node-parameters');
    for (const label of ['Library Path', 'Path Mapping', 'Target', 'Dry Run', 'Face Preview Images']) {
      await parameters.getByTestId('parameter-item').filter({ hasText: label }).first().waitFor();
    }
    expect(await page.getByText('not currently installed').count()).toBe(0);
    await shot('04-write-metadata');
    await page.getByTestId('ndv-close-button').click();
  });

  it('runs the template in dry run against the simulator and shows the preview image and the planned changes', async () => {
    await canvasNode('Run Now (Manual)').hover();
    await page.getByTestId('execute-workflow-button-Run Now (Manual)').click();
    await canvasNode(WRITE_NODE).getByTestId('canvas-node-status-success').waitFor({ timeout: 180_000 });
    await canvasNode(WRITE_NODE).dblclick();
    const output = page.getByTestId('output-panel');
    await output.getByTestId('radio-button-binary').click();
    const first = output.getByTestId('ndv-binary-data_0');
    await first.getByText('portrait-faces.jpg').waitFor();
    await first.getByText('image/jpeg').waitFor();
    await shot('05-output-binary');

    await first.getByTestId('ndv-view-binary-data').click();
    const preview = output.locator('img[src*="/rest/binary-data"]').first();
    await preview.waitFor();
    await page.waitForFunction((img) => (img as unknown as { complete: boolean }).complete, await preview.elementHandle());
    const size = await preview.evaluate((img) => [(img as unknown as { naturalWidth: number }).naturalWidth, (img as unknown as { naturalHeight: number }).naturalHeight]);
    expect(size).toEqual([480, 400]);
    await shot('06-face-preview');
    await output.getByText('Back to list').click();

    await output.getByTestId('radio-button-json').click();
    // The output search keeps the items that mention it, as a user would look for the face boxes.
    await output.getByTestId('ndv-search').click();
    await page.keyboard.type('Face regions');
    const json = output.getByTestId('ndv-data-container');
    // Only the items that plan a Face regions change stay; the first one's field changes (before → after) show.
    try {
      await page.waitForFunction(
        (el) => ['Keywords (hierarchical)', 'People|', 'before', 'after'].every((t) => (el as unknown as { textContent: string }).textContent.includes(t)),
        await json.elementHandle(),
        { timeout: 30_000 },
      );
    } finally {
      await shot('07-planned-changes');
      fs.writeFileSync(path.join(ARTIFACTS, '07-planned-changes.txt'), await json.innerText());
    }
    expect(await json.textContent()).toMatch(/"status":\s*"written",\s*"changes":\s*\[/);
  });
});
