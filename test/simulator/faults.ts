/** Faults the simulator can inject into the next N requests of a route. */

export type FaultKind = 'status' | 'delay' | 'reset' | 'malformed-json' | 'schema-break' | 'endless-pages';

export interface FaultSpec {
  /** Route key as in the spec, e.g. "POST /search/metadata", "GET /assets/{id}", or "*" for any route. */
  route: string;
  kind: FaultKind;
  /** How many matching requests the fault applies to (default 1). */
  times?: number;
  /** kind "status": the HTTP status to answer (401, 403, 404, 429, 500, 503, …). */
  status?: number;
  /** kind "status": a Retry-After header value (seconds, or an HTTP date). */
  retryAfter?: string | number;
  /** kind "delay": milliseconds to wait before answering normally. */
  delayMs?: number;
}

export interface InjectedFault {
  route: string;
  kind: FaultKind;
  status?: number;
}

export class FaultQueue {
  private readonly pending: Array<FaultSpec & { remaining: number }> = [];
  private readonly log: InjectedFault[] = [];

  add(fault: FaultSpec): void {
    this.pending.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clear(): void {
    this.pending.length = 0;
  }

  /** Takes the first fault matching this route (consuming one use), if any. */
  take(route: string): FaultSpec | null {
    const index = this.pending.findIndex((f) => f.remaining > 0 && (f.route === '*' || f.route === route));
    if (index < 0) return null;
    const fault = this.pending[index];
    fault.remaining--;
    if (fault.remaining <= 0) this.pending.splice(index, 1);
    this.log.push({ route, kind: fault.kind, status: fault.status });
    return fault;
  }

  injected(): InjectedFault[] {
    return [...this.log];
  }
}
