/**
 * HTTP transport to the Immich API. The retry, back-off, API-root discovery and error mapping live
 * here once (`ImmichHttpTransport`); adapters only supply a `RawSender` that performs one request:
 * cli/axiosTransport.ts outside n8n, and the n8n adapter in nodes/shared (which goes through n8n's
 * authenticated request helper so the credential and proxies apply).
 */
import { ImmichApiError, redactSecret } from './errors';
import { permissionFor, routeKey } from './permissions';
import { apiRootCandidates, joinUrl, normalizeBaseUrl } from './url';

export type QueryValue = string | number | boolean | undefined;

export interface ImmichRequestOptions {
  query?: Record<string, QueryValue>;
  body?: unknown;
}

export interface ImmichTransport {
  request<T>(method: string, path: string, options?: ImmichRequestOptions): Promise<T>;
}

export interface RawRequest {
  method: string;
  url: string;
  query?: Record<string, string | number | boolean>;
  body?: unknown;
  timeoutMs: number;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  bodyText: string;
}

/** Performs exactly one HTTP exchange; throws `NetworkFailure` when no HTTP response arrived. */
export type RawSender = (request: RawRequest) => Promise<RawResponse>;

/** A request that got no HTTP answer (reset, refused, timeout). Carries only the error code. */
export class NetworkFailure extends Error {
  constructor(readonly code: string) {
    super(`network failure ${code}`);
    this.name = 'NetworkFailure';
  }
  get isTimeout(): boolean {
    return this.code === 'ETIMEDOUT' || this.code === 'ECONNABORTED' || this.code === 'TIMEOUT';
  }
}

export interface RetryOptions {
  /** Retries after the first attempt (so maxRetries 4 → at most 5 requests). */
  maxRetries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A server asking us to wait longer than this is not waited for longer than this. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxRetries: 4, baseDelayMs: 500, maxDelayMs: 10_000, maxRetryAfterMs: 60_000 };

export interface RetryEvent {
  route: string;
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface HttpTransportOptions {
  /** The Immich URL as the user typed it (with or without /api, trailing slash). */
  baseUrl: string;
  retry?: Partial<RetryOptions>;
  timeoutMs?: number;
  /** A value that must never appear in error messages (the API key). */
  secret?: string;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (event: RetryEvent) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class ImmichHttpTransport implements ImmichTransport {
  private readonly retry: RetryOptions;
  private readonly timeoutMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private rootPromise: Promise<string> | null = null;

  constructor(
    private readonly send: RawSender,
    private readonly options: HttpTransportOptions,
  ) {
    this.retry = { ...DEFAULT_RETRY, ...(options.retry ?? {}) };
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.sleep = options.sleep ?? defaultSleep;
    normalizeBaseUrl(options.baseUrl); // fail early on an unusable URL
  }

  /** The API root (e.g. `https://host/api`), discovered with one ping per candidate, then cached. */
  apiRoot(): Promise<string> {
    if (!this.rootPromise) {
      this.rootPromise = this.discoverRoot();
      // a failed discovery (server down) may succeed later: do not cache the failure
      this.rootPromise.catch(() => (this.rootPromise = null));
    }
    return this.rootPromise;
  }

  async request<T>(method: string, path: string, options: ImmichRequestOptions = {}): Promise<T> {
    const root = await this.apiRoot();
    const response = await this.exchange(method, root, path, options);
    if (response.status >= 400) throw this.httpError(method, path, response, 1, options.query);
    return this.parseJson<T>(method, path, response);
  }

  private async discoverRoot(): Promise<string> {
    const candidates = apiRootCandidates(this.options.baseUrl);
    const problems: string[] = [];
    for (const candidate of candidates) {
      try {
        const response = await this.exchange('GET', candidate, '/server/ping', {});
        if (response.status === 200 && looksLikePong(response.bodyText)) return candidate;
        problems.push(`${candidate}/server/ping answered HTTP ${response.status}`);
      } catch (error) {
        if (error instanceof ImmichApiError) problems.push(`${candidate}/server/ping: ${error.kind}`);
        else throw error;
      }
    }
    throw new ImmichApiError({
      kind: 'unreachable',
      method: 'GET',
      path: '/server/ping',
      message: `Could not find the Immich API at ${normalizeBaseUrl(this.options.baseUrl)} (${problems.join('; ')}). Check the URL in the Immich credential (e.g. https://photos.example.com or https://photos.example.com/api) and that the server is running.`,
    });
  }

  /** One logical request: retries 429/5xx/network failures, returns the final HTTP response (any status < 500 except 429). */
  private async exchange(method: string, root: string, path: string, options: ImmichRequestOptions): Promise<RawResponse> {
    const route = routeKey(method, path);
    const query = compactQuery(options.query);
    for (let attempt = 1; ; attempt++) {
      let response: RawResponse;
      try {
        response = await this.send({ method, url: joinUrl(root, path), query, body: options.body, timeoutMs: this.timeoutMs });
      } catch (error) {
        const failure = error instanceof NetworkFailure ? error : new NetworkFailure('EUNKNOWN');
        if (attempt <= this.retry.maxRetries) {
          await this.wait(route, attempt, this.backoff(attempt), failure.code);
          continue;
        }
        throw new ImmichApiError({
          kind: failure.isTimeout ? 'timeout' : 'network',
          method,
          path,
          attempts: attempt,
          message: `${failure.isTimeout ? 'Timed out' : 'Network failure'} (${failure.code}) on ${route} at ${root} after ${attempt} attempt(s): check that Immich is reachable from here and not overloaded.`,
        });
      }
      const retryable = response.status === 429 || response.status >= 500;
      if (!retryable) return response;
      if (attempt > this.retry.maxRetries) throw this.httpError(method, path, response, attempt, options.query);
      const retryAfter = response.status === 429 || response.status === 503 ? parseRetryAfter(header(response, 'retry-after')) : null;
      const delay = retryAfter !== null ? Math.min(retryAfter, this.retry.maxRetryAfterMs) : this.backoff(attempt);
      await this.wait(route, attempt, delay, `HTTP ${response.status}`);
    }
  }

  private async wait(route: string, attempt: number, delayMs: number, reason: string): Promise<void> {
    this.options.onRetry?.({ route, attempt, delayMs, reason });
    await this.sleep(delayMs);
  }

  /** Exponential back-off with jitter (half fixed, half random) so parallel workers spread out. */
  private backoff(attempt: number): number {
    const exponential = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(exponential / 2 + (Math.random() * exponential) / 2);
  }

  private parseJson<T>(method: string, path: string, response: RawResponse): T {
    const text = response.bodyText ?? '';
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      const preview = redactSecret(text.slice(0, 60), this.options.secret).replace(/\s+/g, ' ');
      throw new ImmichApiError({
        kind: 'malformed-response',
        status: response.status,
        method,
        path,
        message: `Immich answered ${routeKey(method, path)} with a body that is not valid JSON (starts with "${preview}"). Check that the URL points at the Immich server and not at a proxy or login page.`,
      });
    }
  }

  private httpError(method: string, path: string, response: RawResponse, attempts: number, query?: Record<string, QueryValue>): ImmichApiError {
    const route = routeKey(method, path);
    const status = response.status;
    const serverMessage = redactSecret(extractServerMessage(response.bodyText), this.options.secret);
    const base = { status, method, path, attempts };
    if (status === 401) {
      return new ImmichApiError({ ...base, kind: 'unauthorized', message: `Immich rejected the API key (401) on ${route}: check the API key in the Immich credential (Immich → Account Settings → API Keys).` });
    }
    if (status === 403) {
      const permission = permissionFor(method, path);
      const needed = permission ? `the "${permission}" permission` : 'a permission';
      return new ImmichApiError({ ...base, kind: 'forbidden', message: `The Immich API key lacks ${needed} needed for ${route} (403): edit the key in Immich (Account Settings → API Keys) and grant it.` });
    }
    // Immich answers an unknown or inaccessible id with 400 "Not found or no asset.read access"
    const assetId = assetIdIn(method, path, query);
    const notFoundAs400 = status === 400 && /not found/i.test(serverMessage) && assetId !== null;
    if (status === 404 || notFoundAs400) {
      const message = assetId
        ? `Immich has no asset ${assetId} (${status} on ${route}): it was deleted, or this API key's user cannot see it.`
        : `Immich answered 404 on ${route}: check the Immich URL in the credential (the API root in use did not know this endpoint).`;
      return new ImmichApiError({ ...base, kind: 'not-found', message });
    }
    if (status === 429) {
      return new ImmichApiError({ ...base, kind: 'rate-limited', message: `Immich kept rate-limiting ${route} (429) after ${attempts} attempt(s): lower the concurrency or try again later.` });
    }
    if (status >= 500) {
      return new ImmichApiError({ ...base, kind: 'server', message: `Immich failed with HTTP ${status} on ${route} after ${attempts} attempt(s)${serverMessage ? `: ${serverMessage}` : ''}. Check the Immich server logs.` });
    }
    return new ImmichApiError({ ...base, kind: 'bad-request', message: `Immich refused ${route} with HTTP ${status}${serverMessage ? `: ${serverMessage}` : ''}.` });
  }
}

function looksLikePong(text: string): boolean {
  try {
    return (JSON.parse(text) as { res?: unknown }).res === 'pong';
  } catch {
    return false;
  }
}

function compactQuery(query: Record<string, QueryValue> | undefined): Record<string, string | number | boolean> | undefined {
  if (!query) return undefined;
  const entries = Object.entries(query).filter((entry): entry is [string, string | number | boolean] => entry[1] !== undefined);
  return entries.length ? Object.fromEntries(entries) : undefined;
}

function header(response: RawResponse, name: string): string | undefined {
  const found = Object.entries(response.headers ?? {}).find(([key]) => key.toLowerCase() === name);
  const value = found?.[1];
  return Array.isArray(value) ? value[0] : value;
}

/** Retry-After is either delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function extractServerMessage(text: string): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    const message = Array.isArray(parsed.message) ? parsed.message.join('; ') : parsed.message;
    return typeof message === 'string' ? message.slice(0, 300) : '';
  } catch {
    return '';
  }
}

/** The asset an endpoint is about (GET /faces takes it as the `id` query parameter). */
function assetIdIn(method: string, path: string, query?: Record<string, unknown>): string | null {
  const route = routeKey(method, path);
  if (route === 'GET /assets/{id}') return path.split('?')[0].split('/').pop() ?? null;
  if (route === 'GET /faces' && typeof query?.id === 'string') return query.id;
  return null;
}

/** Codes that mean "no HTTP answer"; anything else from the HTTP library is reported as EUNKNOWN. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'ECONNABORTED', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_SOCKET_CONNECTION_TIMEOUT', 'UND_ERR_SOCKET', 'ERR_BAD_RESPONSE']);

/** Finds a network error code anywhere in an error's cause chain (n8n wraps axios errors). */
export function networkCodeOf(error: unknown): string {
  const seen = new Set<unknown>();
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 6 && !seen.has(current); depth++) {
    seen.add(current);
    const candidate = current as { code?: unknown; cause?: unknown; errorResponse?: unknown; message?: unknown };
    if (typeof candidate.code === 'string' && NETWORK_CODES.has(candidate.code)) return candidate.code;
    if (typeof candidate.message === 'string' && /timeout/i.test(candidate.message)) return 'ETIMEDOUT';
    current = candidate.cause ?? candidate.errorResponse;
  }
  return 'EUNKNOWN';
}
