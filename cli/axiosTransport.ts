/**
 * The command line's HTTP transport: lib/immich's ImmichHttpTransport (retries, back-off, API-root
 * discovery, error mapping) over axios. It lives with the command line so that nothing n8n loads pulls
 * in axios: inside n8n every request goes through n8n's own authenticated request helper
 * (nodes/shared/n8nTransport.ts).
 */
import axios from 'axios';
import { ImmichHttpTransport, NetworkFailure, networkCodeOf, type HttpTransportOptions, type RawResponse, type RawSender } from '../lib/immich/transport';

export interface AxiosTransportOptions extends Omit<HttpTransportOptions, 'baseUrl' | 'secret'> {
  url: string;
  apiKey: string;
}

/** Transport for use outside n8n (command line, simulator tests, demo, benchmarks). */
export class AxiosTransport extends ImmichHttpTransport {
  constructor(options: AxiosTransportOptions) {
    const { url, apiKey, ...rest } = options;
    super(axiosSender(apiKey), { ...rest, baseUrl: url, secret: apiKey });
  }
}

function axiosSender(apiKey: string): RawSender {
  return async (request) => {
    try {
      const response = await axios.request<string>({
        method: request.method,
        url: request.url,
        params: request.query,
        data: request.body === undefined ? undefined : JSON.stringify(request.body),
        timeout: request.timeoutMs,
        responseType: 'text',
        transformResponse: [(data: unknown) => data],
        validateStatus: () => true,
        maxRedirects: 3,
        headers: {
          Accept: 'application/json',
          'x-api-key': apiKey,
          ...(request.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        },
      });
      return { status: response.status, headers: response.headers as RawResponse['headers'], bodyText: typeof response.data === 'string' ? response.data : String(response.data ?? '') };
    } catch (error) {
      // never rethrow the axios error: its config holds the x-api-key header
      throw new NetworkFailure(networkCodeOf(error));
    }
  };
}
