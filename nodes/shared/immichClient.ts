/** `immichClientFor(this)`: the Immich client every node uses, built from the `immichApi` credential. */
import type { IExecuteFunctions, ILoadOptionsFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';
import { ImmichClient, type ImmichClientOptions } from '../../lib/immich/client';
import { ImmichHttpTransport, type RetryOptions } from '../../lib/immich/transport';
import { IMMICH_CREDENTIAL, n8nSender } from './n8nTransport';

let retryDefaults: Partial<RetryOptions> = {};
let timeoutDefault: number | undefined;

/** Tests shorten the back-off so retry scenarios run in milliseconds; production keeps the defaults. */
export function setRetryDefaults(options: Partial<RetryOptions>, timeoutMs?: number): void {
  retryDefaults = { ...options };
  timeoutDefault = timeoutMs;
}

export async function immichClientFor(context: IExecuteFunctions | ILoadOptionsFunctions, options: ImmichClientOptions = {}): Promise<ImmichClient> {
  const credentials = await context.getCredentials(IMMICH_CREDENTIAL);
  const url = typeof credentials?.url === 'string' ? credentials.url : '';
  const apiKey = typeof credentials?.apiKey === 'string' ? credentials.apiKey : '';
  if (!apiKey) throw new NodeOperationError(context.getNode(), 'The Immich credential has no API key: create one in Immich under Account Settings → API Keys.');
  let transport: ImmichHttpTransport;
  try {
    transport = new ImmichHttpTransport(n8nSender(context), { baseUrl: url, secret: apiKey, retry: retryDefaults, timeoutMs: timeoutDefault });
  } catch (error) {
    throw new NodeOperationError(context.getNode(), (error as Error).message);
  }
  return new ImmichClient(transport, options);
}
