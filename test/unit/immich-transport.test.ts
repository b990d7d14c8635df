/**
 * The retry policy of ImmichHttpTransport as pure logic: a scripted sender stands in for the wire
 * (the same transport is exercised against the simulator in test/integration/client-simulator.test.ts).
 */
import fc from 'fast-check';
import { ImmichApiError } from '../../lib/immich/errors';
import { ImmichHttpTransport, NetworkFailure, type RawRequest, type RawResponse } from '../../lib/immich/transport';

const pong: RawResponse = { status: 200, headers: {}, bodyText: '{"res":"pong"}' };

function scripted(answers: Array<RawResponse | NetworkFailure>) {
  const seen: RawRequest[] = [];
  const sender = async (request: RawRequest) => {
    seen.push(request);
    if (request.url.endsWith('/server/ping')) return pong;
    const next = answers.shift();
    if (!next) throw new Error('script exhausted');
    if (next instanceof NetworkFailure) throw next;
    return next;
  };
  return { sender, seen };
}

const status = (code: number, headers: RawResponse['headers'] = {}, bodyText = '{}'): RawResponse => ({ status: code, headers, bodyText });

test('back-off doubles per attempt within [half, full] of the step and never exceeds the cap', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 6 }), async (base, cap, retries) => {
      const { sender } = scripted([...Array.from({ length: retries }, () => status(502)), status(200, {}, '{"ok":true}')]);
      const waits: number[] = [];
      const transport = new ImmichHttpTransport(sender, { baseUrl: 'http://immich.test', retry: { maxRetries: retries, baseDelayMs: base, maxDelayMs: cap }, sleep: async (ms) => void waits.push(ms) });
      expect(await transport.request('GET', '/x')).toEqual({ ok: true });
      expect(waits).toHaveLength(retries);
      waits.forEach((wait, i) => {
        const step = Math.min(cap, base * 2 ** i);
        expect(wait).toBeGreaterThanOrEqual(Math.floor(step / 2));
        expect(wait).toBeLessThanOrEqual(step);
      });
    }),
    { numRuns: 60 },
  );
});

test('503 with Retry-After waits what the server asks; 4xx other than 429 are not retried', async () => {
  const { sender, seen } = scripted([status(503, { 'Retry-After': '3' }), status(200, {}, '[]'), status(400, {}, '{"message":["size must not be greater than 1000"]}')]);
  const waits: number[] = [];
  const transport = new ImmichHttpTransport(sender, { baseUrl: 'http://immich.test/', sleep: async (ms) => void waits.push(ms) });
  expect(await transport.request('GET', '/albums')).toEqual([]);
  expect(waits).toEqual([3000]);
  await expect(transport.request('POST', '/search/metadata', { body: { size: 5000 } })).rejects.toThrow(/refused POST \/search\/metadata with HTTP 400: size must not be greater than 1000/);
  expect(seen.filter((r) => r.url.endsWith('/search/metadata'))).toHaveLength(1);
});

test('the API root is discovered once and reused; query values that are undefined are dropped', async () => {
  const { sender, seen } = scripted([status(200, {}, '[]'), status(200, {}, '[]')]);
  const transport = new ImmichHttpTransport(sender, { baseUrl: 'http://immich.test/api/' });
  await transport.request('GET', '/people', { query: { page: 1, withHidden: true, size: undefined } });
  await transport.request('GET', '/tags');
  expect(seen.map((r) => r.url)).toEqual(['http://immich.test/api/server/ping', 'http://immich.test/api/people', 'http://immich.test/api/tags']);
  expect(seen[1].query).toEqual({ page: 1, withHidden: true });
});

test('a server message that echoes the key is redacted', async () => {
  const secret = 'secret-key-abcdef';
  const { sender } = scripted([status(400, {}, JSON.stringify({ message: `bad header x-api-key: ${secret}` }))]);
  const transport = new ImmichHttpTransport(sender, { baseUrl: 'http://immich.test', secret });
  const error = await transport.request('GET', '/tags').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ImmichApiError);
  expect(JSON.stringify(error)).not.toContain(secret);
  expect((error as Error).message).toContain('[redacted]');
});

test('timeouts are reported as timeouts after the last retry', async () => {
  const { sender } = scripted([new NetworkFailure('ECONNABORTED'), new NetworkFailure('ETIMEDOUT')]);
  const transport = new ImmichHttpTransport(sender, { baseUrl: 'http://immich.test', retry: { maxRetries: 1 }, sleep: async () => undefined });
  const error = (await transport.request('GET', '/tags').catch((e: unknown) => e)) as ImmichApiError;
  expect(error.kind).toBe('timeout');
  expect(error.attempts).toBe(2);
  expect(error.message).toMatch(/Timed out \(ETIMEDOUT\) on GET \/tags/);
});
