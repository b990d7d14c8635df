/**
 * Errors the Immich client raises. Messages say what the user should check; they never contain
 * the API key, request headers or the full request config (axios errors carry those, so they are
 * never passed through as-is).
 */

export type ImmichErrorKind =
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'bad-request'
  | 'rate-limited'
  | 'server'
  | 'network'
  | 'timeout'
  | 'malformed-response'
  | 'unreachable';

export class ImmichApiError extends Error {
  readonly kind: ImmichErrorKind;
  readonly status: number | null;
  readonly method: string;
  readonly path: string;
  /** How many HTTP attempts were made before giving up. */
  readonly attempts: number;

  constructor(init: { kind: ImmichErrorKind; message: string; status?: number | null; method: string; path: string; attempts?: number }) {
    super(init.message);
    this.name = 'ImmichApiError';
    this.kind = init.kind;
    this.status = init.status ?? null;
    this.method = init.method;
    this.path = init.path;
    this.attempts = init.attempts ?? 1;
  }

  /** Plain fields only, so serializing an error (JSON, n8n error items, logs) cannot leak internals. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, kind: this.kind, status: this.status, method: this.method, path: this.path, attempts: this.attempts, message: this.message };
  }
}

/**
 * The server answered in a way the API contract rules out (paging that does not advance, results out
 * of the requested order). Going on could loop forever or miss assets, so the run stops.
 */
export class ServerContractError extends ImmichApiError {
  constructor(message: string, path = '/search/metadata', method = 'POST') {
    super({ kind: 'malformed-response', message, method, path });
    this.name = 'ServerContractError';
  }
}

/** Removes every occurrence of a secret from a text (server error bodies may echo request data). */
export function redactSecret(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 4) return text;
  return text.split(secret).join('[redacted]');
}
