/** Turning failures into n8n errors or Continue-On-Fail items, with messages that name the asset. */
import type { IExecuteFunctions, INodeExecutionData, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';
import { ImmichApiError, type ImmichErrorKind } from '../../lib/immich/errors';

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The Continue-On-Fail item for one failed input item. */
export function errorItem(message: string, itemIndex: number, extra: Record<string, string> = {}): INodeExecutionData {
  return { json: { error: message, ...extra }, pairedItem: { item: itemIndex } };
}

/** A NodeOperationError built from our message only (never from a wrapped HTTP error that may hold headers). */
export function nodeError(context: Pick<IExecuteFunctions, 'getNode'>, message: string, itemIndex?: number, description?: string): NodeOperationError {
  const error = new NodeOperationError(context.getNode(), message, { itemIndex, description });
  // n8n swaps any message that mentions a network code (ECONNRESET…) for a generic sentence, which
  // would lose the route, the attempt count and the advice: keep ours
  error.message = message;
  return error;
}

/** What the user does about each kind of Immich failure (the message says where it happened). */
const IMMICH_ADVICE: Record<ImmichErrorKind, string> = {
  unauthorized: 'Wrong or revoked API key: open the Immich credential and paste a current key (Immich → Account Settings → API Keys).',
  forbidden: 'The API key is missing a permission: edit the key in Immich (Account Settings → API Keys) and grant the permission the message names.',
  'not-found': 'Immich does not know it (deleted meanwhile?), or the credential URL points at something that is not Immich.',
  'bad-request': 'Immich refused the request: check the node parameters (IDs, dates, filters).',
  'rate-limited': 'Immich (or a proxy in front of it) is limiting requests: lower Concurrency or run later.',
  server: 'The Immich server failed: check its logs; the sync can simply run again later.',
  network: 'Immich is down or unreachable from n8n: check that it runs and that the credential URL is reachable from the n8n container.',
  timeout: 'Immich did not answer in time: it may be overloaded or down; run again later or lower Concurrency.',
  unreachable: 'No Immich API at the credential URL: check the URL (e.g. https://photos.example.com) and that the server runs.',
  'malformed-response': 'The server did not answer as Immich does: check that the credential URL points at Immich, not at a proxy or login page.',
};

/**
 * An Immich failure as n8n's NodeApiError (HTTP code, message, what to do), built from the error's plain
 * fields only: the API key is in no message (lib/immich redacts server echoes), header or request config.
 * Anything else becomes a NodeOperationError with the same message.
 */
export function immichNodeError(
  context: Pick<IExecuteFunctions, 'getNode'>,
  error: unknown,
  message: string,
  itemIndex?: number,
  extraDescription?: string,
): NodeApiError | NodeOperationError {
  if (!(error instanceof ImmichApiError)) return nodeError(context, message, itemIndex, extraDescription);
  const description = [IMMICH_ADVICE[error.kind], extraDescription].filter(Boolean).join(' ');
  const apiError = new NodeApiError(context.getNode(), error.toJSON() as JsonObject, {
    message,
    description,
    httpCode: error.status === null ? undefined : String(error.status),
    itemIndex,
  });
  apiError.message = message; // see nodeError: n8n would swap a message naming a network code for a generic one
  return apiError;
}
