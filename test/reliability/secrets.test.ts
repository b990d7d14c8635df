/**
 * The API key never leaves the process: not in the command line's stdout, stderr, log file or state
 * files, not in n8n node output, error items, thrown errors or the saved run data. Checked on
 * succeeding and failing runs with a distinctive key, including a server that echoes the key back in
 * its error bodies (some proxies and old Immich versions do).
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';
import { inspect } from 'util';

import { ImmichGetAssetDetails } from '../../nodes/ImmichGetAssetDetails/ImmichGetAssetDetails.node';
import { ImmichSearchAssets } from '../../nodes/ImmichSearchAssets/ImmichSearchAssets.node';
import { setRetryDefaults } from '../../nodes/shared/immichClient';
import { runNode } from '../helpers/n8nRunner';
import { createSyntheticLibrary, startSimulator, syntheticAssetId, type Simulator } from '../simulator';
import { ensureCliBuilt, makeWritable, removeTempDirs, runCli, sample, summaryOf, tempDir } from './support';

jest.setTimeout(300_000);

/** Shaped like no message would be by accident; long enough that a partial leak is also caught below. */
const KEY = 'rel-SECRET-kq7Wz2vN9xT4pL6mR8sJ3bY5';
/** Leaks are looked for as the whole key and as its distinctive middle (a truncated or split echo). */
const FRAGMENTS = [KEY, KEY.slice(8, 26)];

function expectNoKey(label: string, texts: string[]): void {
  for (const [i, text] of texts.entries()) {
    for (const fragment of FRAGMENTS) expect({ label, part: i, leaks: text.includes(fragment) }).toEqual({ label, part: i, leaks: false });
  }
}

/**
 * A server that looks like Immich to discovery (ping and version answer normally) and answers every
 * other request with an error whose body repeats the request's key (and all its headers).
 */
async function startEchoServer(status: number): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/api/server/ping' || req.url === '/api/server/version') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(req.url.endsWith('ping') ? { res: 'pong' } : { major: 3, minor: 1, patch: 0, prerelease: null }));
      return;
    }
    const body = JSON.stringify({
      message: `key ${String(req.headers['x-api-key'])} is not valid here`,
      error: `headers: ${JSON.stringify(req.headers)}`,
      statusCode: status,
    });
    res.writeHead(status, { 'Content-Type': 'application/json', 'X-Echo-Key': String(req.headers['x-api-key'] ?? '') });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let sim: Simulator;
let photoDir: string;

beforeAll(async () => {
  ensureCliBuilt();
  setRetryDefaults({ maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 });
  photoDir = tempDir('secrets-lib');
  const synthetic = createSyntheticLibrary(4, { photoDir, filesPool: [sample('metadata/tags/picasa.jpg')], copyFiles: true });
  makeWritable(photoDir);
  sim = await startSimulator({ library: synthetic.library, apiKey: KEY });
});
afterAll(async () => {
  setRetryDefaults({});
  await sim.close();
  removeTempDirs();
});

/** Every file the run left in its state folder (checkpoint, caches, the sync index in its library folder, the lease). */
function stateFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(path.join(entry.parentPath, entry.name), 'utf8'));
}

describe('the command line', () => {
  const echoed: string[] = [];
  const cli = async (url: string, key: string, args: string[] = ['--all', '--retries', '1']) => {
    const stateDir = tempDir('secrets-state');
    const run = await runCli([...args, '--state-dir', stateDir], { env: { IMMICH_INSTANCE_URL: url, IMMICH_API_KEY: key, PHOTO_DIR: photoDir }, hardTimeoutMs: 120_000 });
    return { run, texts: [run.stdout, run.stderr, ...stateFiles(stateDir)] };
  };

  test('a succeeding run, a dry run and --help', async () => {
    const ok = await cli(sim.url, KEY);
    expect(summaryOf(ok.run)).toMatchObject({ failed: 0 });
    expectNoKey('success', ok.texts);
    expectNoKey('dry run', (await cli(sim.url, KEY, ['--all', '--dry-run'])).texts);
    expectNoKey('help', (await cli(sim.url, KEY, ['--help'])).texts);
  });

  test('the key rejected (401): the key is not repeated', async () => {
    const other = await startSimulator({ library: sim.library, apiKey: 'a-different-key-than-ours' });
    try {
      const r = await cli(other.url, KEY);
      expect(r.run.code).toBe(2);
      expectNoKey('401', r.texts);
    } finally {
      await other.close();
    }
  });

  test.each([401, 403, 500, 400])('a server echoing the key in a %i error body: redacted everywhere', async (status) => {
    const echo = await startEchoServer(status);
    try {
      const r = await cli(echo.url, KEY);
      expect(r.run.code).toBe(2);
      expect(r.run.stderr.length).toBeGreaterThan(0);
      expectNoKey(`echo ${status}`, r.texts);
      echoed.push(r.run.stderr);
    } finally {
      await echo.close();
    }
  });

  test('the echoed server messages did reach the output (so the checks above looked at real echoes)', () => {
    expect(echoed.join('\n')).toMatch(/\[redacted\]/);
  });

  test('unreachable server, and faults in the middle of a run', async () => {
    const echo = await startEchoServer(500);
    const deadUrl = echo.url;
    await echo.close();
    expectNoKey('unreachable', (await cli(deadUrl, KEY)).texts);
    sim.inject({ route: 'POST /search/metadata', kind: 'malformed-json', times: 5 });
    expectNoKey('malformed', (await cli(sim.url, KEY)).texts);
    sim.clearFaults();
    sim.inject({ route: 'GET /faces', kind: 'status', status: 403, times: 5 });
    expectNoKey('403 faces', (await cli(sim.url, KEY, ['--all', '--face-coordinates', '--retries', '1'])).texts);
    sim.clearFaults();
  });

  test('a key given with surrounding spaces (pasted) is still redacted', async () => {
    const echo = await startEchoServer(500);
    try {
      expectNoKey('spaces', (await cli(echo.url, `  ${KEY}\n`)).texts);
    } finally {
      await echo.close();
    }
  });
});

describe('n8n nodes', () => {
  const texts = (result: Awaited<ReturnType<typeof runNode>>): string[] => [
    JSON.stringify(result.items),
    JSON.stringify(result.run),
    inspect(result.error, { depth: 12, showHidden: true }),
    String(result.error?.stack ?? ''),
    String(result.error?.description ?? ''),
    JSON.stringify(result.error ?? null),
  ];
  const credentials = (url: string) => ({ immichApi: { url, apiKey: KEY } });

  test('Search Assets and Get Asset Details succeeding', async () => {
    const search = await runNode(ImmichSearchAssets, { returnAll: true }, [{ json: {} }], { credentials: credentials(sim.url) });
    expect(search.error).toBeNull();
    expect(search.items.length).toBeGreaterThan(0);
    expectNoKey('search ok', texts(search));
    const details = await runNode(ImmichGetAssetDetails, {}, [{ json: { id: syntheticAssetId(0) } }], { credentials: credentials(sim.url) });
    expect(details.error).toBeNull();
    expectNoKey('details ok', texts(details));
  });

  test.each([401, 403, 500])('a server echoing the key in a %i error: node error and Continue On Fail items carry no key', async (status) => {
    const echo = await startEchoServer(status);
    try {
      for (const continueOnFail of [false, true]) {
        const search = await runNode(ImmichSearchAssets, { returnAll: true }, [{ json: {} }], { credentials: credentials(echo.url), continueOnFail });
        expect(search.error !== null || search.items.some((i) => i.json.error)).toBe(true);
        expectNoKey(`search ${status} cof=${continueOnFail}`, texts(search));
        const details = await runNode(ImmichGetAssetDetails, {}, [{ json: { id: syntheticAssetId(0) } }], { credentials: credentials(echo.url), continueOnFail });
        expect(details.error !== null || details.items.some((i) => i.json.error)).toBe(true);
        expectNoKey(`details ${status} cof=${continueOnFail}`, texts(details));
      }
    } finally {
      await echo.close();
    }
  });

  test.each([
    [401, /Wrong or revoked API key/],
    [403, /missing a permission/],
    [500, /Immich server failed/],
  ])('an Immich %i fails the node with a NodeApiError: the HTTP code, a message without the key, what to do', async (status, advice) => {
    const echo = await startEchoServer(status);
    try {
      for (const [label, result] of [
        ['search', await runNode(ImmichSearchAssets, { returnAll: true }, [{ json: {} }], { credentials: credentials(echo.url) })],
        ['details', await runNode(ImmichGetAssetDetails, {}, [{ json: { id: syntheticAssetId(0) } }], { credentials: credentials(echo.url) })],
      ] as const) {
        const error = result.error as (Error & { httpCode?: string | null; description?: string | null; context?: { itemIndex?: number } }) | null;
        expect({ label, name: error?.name, httpCode: error?.httpCode, itemIndex: error?.context?.itemIndex }).toEqual({ label, name: 'NodeApiError', httpCode: String(status), itemIndex: 0 });
        expect(error?.message).toMatch(new RegExp(`\\b${status}\\b`));
        expect(error?.description).toMatch(advice);
        expectNoKey(`${label} NodeApiError ${status}`, texts(result));
      }
    } finally {
      await echo.close();
    }
  });

  test('Immich down: a NodeApiError that says to check the server and the URL', async () => {
    const echo = await startEchoServer(500);
    const deadUrl = echo.url;
    await echo.close();
    const result = await runNode(ImmichSearchAssets, { returnAll: true }, [{ json: {} }], { credentials: credentials(deadUrl) });
    expect(result.error?.name).toBe('NodeApiError');
    expect(result.error?.description).toMatch(/check the URL .* and that the server runs/);
    expectNoKey('down', texts(result));
  });
});
