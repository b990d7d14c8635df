/** Runs `task` over `items` with at most `limit` tasks in flight; results keep the input order. */
export async function mapWithConcurrency<I, O>(items: readonly I[], limit: number, task: (item: I, index: number) => Promise<O>): Promise<O[]> {
  const results = new Array<O>(items.length);
  let next = 0;
  const workerCount = Math.max(1, Math.min(Math.floor(limit) || 1, items.length));
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: workerCount }, worker));
  return results;
}

export type Settled<O> = { ok: true; value: O } | { ok: false; error: Error };

/** Like mapWithConcurrency, but one failing item does not stop the others. */
export function settleWithConcurrency<I, O>(items: readonly I[], limit: number, task: (item: I, index: number) => Promise<O>): Promise<Settled<O>[]> {
  return mapWithConcurrency(items, limit, async (item, index): Promise<Settled<O>> => {
    try {
      return { ok: true, value: await task(item, index) };
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)) };
    }
  });
}
