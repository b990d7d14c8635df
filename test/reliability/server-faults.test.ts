/**
 * A misbehaving server, through the command line against the spec-checked simulator: 401, 403 (the
 * missing permission named), 404, 429 with Retry-After, 500/503, connection resets, malformed JSON,
 * responses that break the schema, pages that never end. Every run either retries within bounds and
 * succeeds, or stops with a clear message (exit 2) in bounded time; no file is written from a
 * response that failed validation. Timeouts are checked on the client (the CLI's is 30 s).
 */
import { ExifTool } from 'exiftool-vendored';
import * as path from 'path';

import { ImmichApiError } from '../../lib/immich/errors';
import { createSyntheticLibrary, startSimulator, syntheticAssetId, type FaultSpec, type Simulator } from '../simulator';
import { ensureCliBuilt, hashTree, makeWritable, recordingClient, removeTempDirs, runCli, sample, summaryOf, tempDir, type CliResult } from './support';

jest.setTimeout(300_000);

const N = 6;
const SEARCH = 'POST /search/metadata';
const ASSET = 'GET /assets/{id}';
// With face regions on v3 the run loop's one per-asset request (the rest comes with the search page).
const FACES = 'GET /faces';

beforeAll(() => ensureCliBuilt());
afterAll(() => removeTempDirs());

interface Scenario {
  sim: Simulator;
  photoDir: string;
  before: Record<string, string>;
  run: CliResult & { timedOut: boolean };
  log: string;
  ms: number;
}

async function scenario(
  faults: FaultSpec[],
  options: { args?: string[]; apiKey?: string; permissions?: string[]; beforeRun?: (sim: Simulator) => void } = {},
): Promise<Scenario> {
  const photoDir = tempDir('faults-lib');
  const stateDir = tempDir('faults-state');
  const synthetic = createSyntheticLibrary(N, { photoDir, filesPool: [sample('metadata/tags/picasa.jpg')], copyFiles: true });
  makeWritable(photoDir);
  const sim = await startSimulator({ library: synthetic.library, ...(options.permissions ? { permissions: options.permissions } : {}) });
  try {
    for (const f of faults) sim.inject(f);
    options.beforeRun?.(sim);
    const before = hashTree(photoDir);
    const started = Date.now();
    const run = await runCli(['--all', '--retries', '2', '--concurrency', '2', '--state-dir', stateDir, ...(options.args ?? [])], {
      env: { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: options.apiKey ?? sim.apiKey, PHOTO_DIR: photoDir },
      hardTimeoutMs: 120_000,
    });
    const ms = Date.now() - started;
    let log = '';
    try {
      log = require('fs').readFileSync(path.join(stateDir, 'immich_ultra_sync.txt'), 'utf8');
    } catch {
      // no log: asserted where it matters
    }
    return { sim, photoDir, before, run, log, ms };
  } finally {
    await sim.close();
  }
}

function changedFiles(s: Scenario): string[] {
  const now = hashTree(s.photoDir);
  return Object.keys(s.before).filter((rel) => now[rel] !== s.before[rel]);
}

/** The run stopped by itself, with exit 2 and a message on stderr, and changed no file. */
function expectStoppedCleanly(s: Scenario, message: RegExp): void {
  expect({ timedOut: s.run.timedOut, code: s.run.code }).toEqual({ timedOut: false, code: 2 });
  expect(s.run.stderr).toMatch(/^cannot run: /m);
  expect(s.run.stderr).toMatch(message);
  expect(changedFiles(s)).toEqual([]);
}

function expectAllWritten(s: Scenario): void {
  expect({ timedOut: s.run.timedOut, code: s.run.code, stderr: s.run.stderr }).toEqual({ timedOut: false, code: 0, stderr: '' });
  expect(summaryOf(s.run)).toEqual({ written: N, unchanged: 0, skipped: 0, failed: 0 });
  expect(changedFiles(s)).toHaveLength(N);
}

describe('authentication and permissions', () => {
  test('a wrong API key (401): stops at once with the key named, no retries, nothing written', async () => {
    const s = await scenario([], { apiKey: 'wrong-key-0000' });
    expectStoppedCleanly(s, /IMMICH_API_KEY.*401|401.*IMMICH_API_KEY/);
    expect(s.sim.requestCount(SEARCH)).toBe(1); // a 401 is not retried
  });

  test('a key revoked mid-run (401 on the listing): stops with the key named', async () => {
    const s = await scenario([{ route: SEARCH, kind: 'status', status: 401, times: 100 }]);
    expectStoppedCleanly(s, /IMMICH_API_KEY|401/);
    expect(s.sim.requestCount(SEARCH)).toBeLessThanOrEqual(2);
  });

  test('a key without face.read (403): stops, naming the missing permission', async () => {
    const permissions = ['asset.read', 'album.read', 'tag.read', 'person.read', 'server.about', 'user.read'];
    const s = await scenario([], { args: ['--face-coordinates'], permissions });
    expect({ timedOut: s.run.timedOut, code: s.run.code }).toEqual({ timedOut: false, code: 2 });
    expect(s.run.stderr).toMatch(/face\.read/);
    expect(s.sim.requestCount('GET /faces')).toBeLessThanOrEqual(3);
  });
});

describe('per-asset answers', () => {
  test('404 for one asset: that asset is skipped as gone, every other asset is written', async () => {
    const s = await scenario([{ route: FACES, kind: 'status', status: 404, times: 1 }], { args: ['--face-coordinates'] });
    expect(s.run.timedOut).toBe(false);
    const counts = summaryOf(s.run)!;
    expect(counts.written).toBe(N - 1);
    expect(counts.skipped + counts.failed).toBe(1);
    expect(changedFiles(s)).toHaveLength(N - 1);
  });

  test('one asset\'s faces answer breaks the schema: that asset fails and its file is not written, the others are', async () => {
    const s = await scenario([{ route: FACES, kind: 'schema-break', times: 1 }], { args: ['--face-coordinates'] });
    expect(s.run.timedOut).toBe(false);
    const counts = summaryOf(s.run)!;
    expect({ written: counts.written, failed: counts.failed }).toEqual({ written: N - 1, failed: 1 });
    expect(s.run.code).toBe(1);
    const failedLine = s.run.lines.find((l) => l.startsWith('failed '))!;
    expect(failedLine).toMatch(/malformed|not the requested asset|unexpected|schema|invalid/i);
    // The failed asset's file is one of the unchanged ones; exactly one file is unchanged.
    expect(changedFiles(s)).toHaveLength(N - 1);
  });
  test('a faces answer that breaks the schema: the people and regions already in the files are not changed by it', async () => {
    // First a clean run writes people and face regions; then Immich changes every description, and
    // the faces answers of the second run are broken. The broken answers must not reach any file.
    const photoDir = tempDir('faults-faces');
    const stateDir = tempDir('faults-faces-state');
    const synthetic = createSyntheticLibrary(N, { photoDir, filesPool: [sample('metadata/faces/portrait.jpg')], copyFiles: true });
    makeWritable(photoDir);
    const sim = await startSimulator({ library: synthetic.library });
    const reader = new ExifTool({ maxProcs: 1 });
    try {
      const env = { IMMICH_INSTANCE_URL: sim.url, IMMICH_API_KEY: sim.apiKey, PHOTO_DIR: photoDir };
      const args = ['--all', '--face-coordinates', '--retries', '1', '--state-dir', stateDir];
      const first = await runCli(args, { env, hardTimeoutMs: 120_000 });
      expect({ failedLines: first.lines.filter((l) => l.startsWith('failed')), counts: summaryOf(first) }).toMatchObject({ failedLines: [], counts: { failed: 0 } });
      const people = async () => {
        const out: Record<string, unknown> = {};
        for (let i = 0; i < N; i++) {
          const raw = (await reader.readRaw(synthetic.localPath(i), ['-G1', '-struct', '-XMP-mwg-rs:RegionInfo', '-XMP-lr:HierarchicalSubject', '-XMP-iptcExt:PersonInImage'])) as Record<string, unknown>;
          delete raw.SourceFile;
          out[i] = raw;
        }
        return out;
      };
      const peopleAfterFirst = await people();
      expect(JSON.stringify(peopleAfterFirst)).toContain('People|Person 1'); // the clean run did write people
      for (let i = 0; i < N; i++) synthetic.library.setDescription(syntheticAssetId(i), `changed ${i}`);
      sim.inject({ route: 'GET /faces', kind: 'schema-break', times: 1000 });
      const second = await runCli(args, { env, hardTimeoutMs: 120_000 });
      expect(second.timedOut).toBe(false);
      // Whatever else happened, the people and regions written from valid answers are still there.
      expect(await people()).toEqual(peopleAfterFirst);
    } finally {
      await reader.end();
      await sim.close();
    }
  });
});

describe('transient failures are retried within bounds', () => {
  test.each([
    ['429 with Retry-After: 1', { route: SEARCH, kind: 'status' as const, status: 429, retryAfter: 1, times: 2 }],
    ['500', { route: SEARCH, kind: 'status' as const, status: 500, times: 2 }],
    ['503', { route: FACES, kind: 'status' as const, status: 503, times: 2 }],
    ['a connection reset', { route: SEARCH, kind: 'reset' as const, times: 2 }],
  ])('%s twice: retried, then the run completes', async (_label, fault) => {
    const s = await scenario([fault], fault.route === FACES ? { args: ['--face-coordinates'] } : {});
    expectAllWritten(s);
    expect(s.log).toMatch(/retrying/);
    expect(s.sim.injected()).toHaveLength(2);
  });

  test('429 Retry-After is honoured (the log shows the server\'s delay, not the back-off)', async () => {
    const s = await scenario([{ route: SEARCH, kind: 'status', status: 429, retryAfter: 2, times: 1 }]);
    expectAllWritten(s);
    expect(s.log).toMatch(/retrying POST \/search\/metadata in 2000 ms/);
  });

  test.each([
    ['429 for ever', { route: SEARCH, kind: 'status' as const, status: 429, retryAfter: 1, times: 1000 }, /429|rate|too many/i],
    ['503 for ever', { route: SEARCH, kind: 'status' as const, status: 503, times: 1000 }, /503|server|unavailable/i],
    ['resets for ever', { route: SEARCH, kind: 'reset' as const, times: 1000 }, /reachable|network|reset|ECONNRESET|socket/i],
  ])('%s: gives up after the retries (3 requests with --retries 2) with a clear message', async (_label, fault, message) => {
    const s = await scenario([fault]);
    expectStoppedCleanly(s, message);
    expect(s.sim.requestCount(SEARCH)).toBe(3);
  });
});

describe('answers that are not what the spec says', () => {
  test('malformed JSON on the listing: stops with a clear message, bounded requests, nothing written', async () => {
    const s = await scenario([{ route: SEARCH, kind: 'malformed-json', times: 1000 }]);
    expectStoppedCleanly(s, /JSON|malformed|invalid|parse/i);
    expect(s.sim.requestCount(SEARCH)).toBeLessThanOrEqual(3);
  });

  test('a listing that breaks the schema: stops, nothing written from it', async () => {
    const s = await scenario([{ route: SEARCH, kind: 'schema-break', times: 1000 }]);
    expectStoppedCleanly(s, /malformed|items|unexpected|schema|invalid/i);
    expect(s.sim.requestCount(SEARCH)).toBeLessThanOrEqual(3);
  });

  test('a listing that breaks the schema after a good preflight: stops, nothing written from it', async () => {
    // The first search (the preflight, page size 1) is answered normally (a zero delay uses up the
    // first fault slot); every later search answer breaks the schema.
    const s = await scenario([
      { route: SEARCH, kind: 'delay', delayMs: 0, times: 1 },
      { route: SEARCH, kind: 'schema-break', times: 1000 },
    ]);
    expectStoppedCleanly(s, /malformed|items|unexpected|schema|invalid/i);
    expect(s.sim.requestCount(SEARCH)).toBeLessThanOrEqual(4);
  });

  test('pages that never end: the run ends by itself, each asset handled at most once, bounded requests', async () => {
    const s = await scenario([{ route: SEARCH, kind: 'endless-pages', times: 100_000 }], { args: ['--page-size', '2'] });
    expect(s.run.timedOut).toBe(false);
    expect([0, 1, 2]).toContain(s.run.code);
    const writtenLines = s.run.lines.filter((l) => l.startsWith('written /'));
    const files = writtenLines.map((l) => l.slice('written '.length, l.indexOf(':', 'written '.length)));
    expect(new Set(files).size).toBe(files.length);
    expect(s.sim.requestCount(SEARCH)).toBeLessThan(50);
    if (s.run.code === 2) expect(s.run.stderr).toMatch(/paging|page|advance|loop/i);
  });
});

describe('timeouts (client level: the command line waits 30 s)', () => {
  test('an answer slower than the timeout is retried within bounds, then reported as a timeout naming the route', async () => {
    const photoDir = tempDir('faults-timeout');
    const synthetic = createSyntheticLibrary(2, { photoDir, copyFiles: false });
    const sim = await startSimulator({ library: synthetic.library });
    try {
      sim.inject({ route: ASSET, kind: 'delay', delayMs: 1500, times: 10 });
      const { client, waits } = recordingClient(sim, { timeoutMs: 200, retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 1000 } });
      const error = await client.getAssetDetails(syntheticAssetId(0)).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ImmichApiError);
      expect({ kind: (error as ImmichApiError).kind, attempts: (error as ImmichApiError).attempts }).toEqual({ kind: 'timeout', attempts: 3 });
      expect((error as Error).message).toMatch(/Timed out.*\/assets/);
      expect(waits).toHaveLength(2);
    } finally {
      await sim.close();
    }
  });

  test('a Retry-After beyond the cap is capped (no unbounded sleep), as an HTTP date too', async () => {
    const photoDir = tempDir('faults-retry-after');
    const synthetic = createSyntheticLibrary(1, { photoDir, copyFiles: false });
    const sim = await startSimulator({ library: synthetic.library });
    try {
      const inAnHour = new Date(Date.now() + 3600_000).toUTCString();
      sim.inject({ route: 'GET /server/version', kind: 'status', status: 429, retryAfter: 86400, times: 1 });
      sim.inject({ route: 'GET /server/version', kind: 'status', status: 503, retryAfter: inAnHour, times: 1 });
      const { client, waits } = recordingClient(sim, { retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 5_000 } });
      await expect(client.serverVersion()).resolves.toMatchObject({ major: 3 });
      expect(waits).toHaveLength(2);
      for (const w of waits) expect(w).toBeLessThanOrEqual(5_000);
    } finally {
      await sim.close();
    }
  });
});
