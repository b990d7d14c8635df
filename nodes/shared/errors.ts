/** Turning failures into n8n errors or Continue-On-Fail items, with messages that name the asset. */
import type { IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

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
