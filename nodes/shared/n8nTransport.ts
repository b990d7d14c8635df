/**
 * The Immich transport inside n8n: one HTTP exchange goes through n8n's authenticated request helper
 * (so the `immichApi` credential, proxies and n8n's SSRF rules apply); retries, API-root discovery and
 * error mapping come from lib/immich's ImmichHttpTransport, shared with the stand-alone AxiosTransport.
 */
import type { IExecuteFunctions, IHttpRequestMethods, IHttpRequestOptions, ILoadOptionsFunctions } from 'n8n-workflow';
import { NetworkFailure, networkCodeOf, type RawResponse, type RawSender } from '../../lib/immich/transport';

export const IMMICH_CREDENTIAL = 'immichApi';

type RequestingContext = IExecuteFunctions | ILoadOptionsFunctions;

interface FullResponse {
  body: unknown;
  headers: RawResponse['headers'];
  statusCode: number;
}

export function n8nSender(context: RequestingContext): RawSender {
  return async (request) => {
    const options: IHttpRequestOptions = {
      method: request.method as IHttpRequestMethods,
      url: request.url,
      qs: request.query,
      body: request.body as IHttpRequestOptions['body'],
      json: true,
      encoding: 'text', // parse ourselves: a malformed body must become a clear error, not n8n's
      returnFullResponse: true,
      ignoreHttpStatusErrors: true,
      timeout: request.timeoutMs,
    };
    let response: FullResponse;
    try {
      response = (await context.helpers.httpRequestWithAuthentication.call(context, IMMICH_CREDENTIAL, options)) as FullResponse;
    } catch (error) {
      // n8n wraps the HTTP library's error, whose config contains the x-api-key header: keep only the code.
      // ImmichHttpTransport catches this signal and decides between a retry and an error for the node.
      // eslint-disable-next-line @n8n/community-nodes/require-node-api-error
      throw new NetworkFailure(networkCodeOf(error));
    }
    const body = response.body;
    const bodyText = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : body === undefined || body === null ? '' : JSON.stringify(body);
    return { status: response.statusCode, headers: response.headers ?? {}, bodyText };
  };
}
