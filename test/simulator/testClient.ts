/** Shared set-up for tests that talk to the Immich simulator with the stand-alone client. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ImmichClient, type ImmichClientOptions } from '../../lib/immich/client';
import { AxiosTransport, type AxiosTransportOptions } from '../../cli/axiosTransport';
import type { Simulator } from './index';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Back-off shortened to milliseconds and waits recorded instead of slept (no timing in tests). */
export function fastClient(
  sim: Pick<Simulator, 'url' | 'apiKey'>,
  overrides: Partial<AxiosTransportOptions> = {},
  clientOptions: ImmichClientOptions = {},
): { client: ImmichClient; transport: AxiosTransport; waits: number[] } {
  const waits: number[] = [];
  const transport = new AxiosTransport({
    url: sim.url,
    apiKey: sim.apiKey,
    retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4, maxRetryAfterMs: 60_000 },
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...overrides,
  });
  return { client: new ImmichClient(transport, clientOptions), transport, waits };
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const page of pages) out.push(...page);
  return out;
}
