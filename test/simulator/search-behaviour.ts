/**
 * Server behaviours the Immich API contract allows (or, for `breakContract`, a server that breaks it),
 * for tests that must hold against any of them. Set them with `SimulatorOptions.search`,
 * `simulator.setSearchBehaviour(b)`, `POST /api/__simulator/search-behaviour` (JSON; no `beforePage`), or
 * the launcher's `--page-cap N` / `--search-behaviour JSON` / env `IMMICH_SIM_PAGE_CAP`.
 * Only `POST /search/metadata` is affected. Leaving every field out is Immich's own behaviour.
 */

/** How assets with the same fileCreatedAt are ordered. */
export type TieOrder =
  /** Immich: by asset id in the requested direction (the query's second ORDER BY key). */
  | 'id'
  /** By asset id against the requested direction. */
  | 'reverse-id'
  /** A deterministic shuffle of each tie group from the seed; `perRequest` mixes in the request index, so every page may see another order (a database without a stable second key). */
  | { shuffleSeed: number; perRequest?: boolean };

export interface SearchPageInfo {
  /** 0-based count of POST /search/metadata requests since the behaviour was set. */
  requestIndex: number;
  body: Record<string, unknown>;
}

export interface SearchBehaviour {
  /** At most this many items per page, whatever `size` asks; nextPage still leads to the next items. */
  pageCap?: number;
  /** Sizes of successive pages of one search (page 1 gets the first, cycled), each capped by `size` and `pageCap`. */
  pageSizes?: number[];
  tieOrder?: TieOrder;
  /** Every page after the first starts with the previous page's last item (pages of one item cannot repeat and do not). */
  repeatBoundaryItem?: boolean;
  /** The page ending exactly at the last item still answers nextPage; the page after it is empty with nextPage null. */
  emptyLastPage?: boolean;
  /** In-process only: called before each search page is computed (a test may mutate the library here). */
  beforePage?: (info: SearchPageInfo) => void;
  /**
   * A server that breaks the contract. `nextPage-stuck`: page 1 answers nextPage "2", every later page answers its
   * own number, forever. `out-of-order`: page 1 comes reversed (plus, with takenAfter, an asset taken before it),
   * later pages end with the search's first item.
   */
  breakContract?: 'nextPage-stuck' | 'out-of-order';
}

/** The JSON-only part (what the control endpoint and the launcher accept). */
export type SearchBehaviourJson = Omit<SearchBehaviour, 'beforePage'>;

/** Checks a behaviour from outside (control endpoint, command line); throws naming the bad field. */
export function parseSearchBehaviour(value: unknown): SearchBehaviourJson {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('search behaviour must be a JSON object');
  const input = value as Record<string, unknown>;
  const known = ['pageCap', 'pageSizes', 'tieOrder', 'repeatBoundaryItem', 'emptyLastPage', 'breakContract'];
  for (const key of Object.keys(input)) if (!known.includes(key)) throw new Error(`search behaviour: unknown field ${key} (one of ${known.join(', ')})`);
  const out: SearchBehaviourJson = {};
  const positiveInt = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  if (input.pageCap !== undefined) {
    if (!positiveInt(input.pageCap)) throw new Error('search behaviour: pageCap must be an integer ≥ 1');
    out.pageCap = input.pageCap as number;
  }
  if (input.pageSizes !== undefined) {
    if (!Array.isArray(input.pageSizes) || input.pageSizes.length === 0 || !input.pageSizes.every(positiveInt)) throw new Error('search behaviour: pageSizes must be a non-empty list of integers ≥ 1');
    out.pageSizes = [...(input.pageSizes as number[])];
  }
  if (input.tieOrder !== undefined) {
    const t = input.tieOrder as unknown;
    const isShuffle = t !== null && typeof t === 'object' && typeof (t as { shuffleSeed?: unknown }).shuffleSeed === 'number';
    if (t !== 'id' && t !== 'reverse-id' && !isShuffle) throw new Error('search behaviour: tieOrder must be "id", "reverse-id" or {shuffleSeed, perRequest?}');
    out.tieOrder = isShuffle ? { shuffleSeed: (t as { shuffleSeed: number }).shuffleSeed, perRequest: (t as { perRequest?: unknown }).perRequest === true } : (t as 'id' | 'reverse-id');
  }
  for (const flag of ['repeatBoundaryItem', 'emptyLastPage'] as const) {
    if (input[flag] !== undefined) {
      if (typeof input[flag] !== 'boolean') throw new Error(`search behaviour: ${flag} must be true or false`);
      out[flag] = input[flag] as boolean;
    }
  }
  if (input.breakContract !== undefined) {
    if (input.breakContract !== 'nextPage-stuck' && input.breakContract !== 'out-of-order') throw new Error('search behaviour: breakContract must be "nextPage-stuck" or "out-of-order"');
    out.breakContract = input.breakContract;
  }
  return out;
}

/** The launcher's and the demo's way in: `IMMICH_SIM_PAGE_CAP=5` and/or `IMMICH_SIM_SEARCH='{"pageSizes":[1,7]}'`. */
export function searchBehaviourFromEnv(env: NodeJS.ProcessEnv = process.env): SearchBehaviourJson {
  const fromJson = env.IMMICH_SIM_SEARCH ? parseSearchBehaviour(JSON.parse(env.IMMICH_SIM_SEARCH)) : {};
  return env.IMMICH_SIM_PAGE_CAP ? { ...fromJson, ...parseSearchBehaviour({ pageCap: Number(env.IMMICH_SIM_PAGE_CAP) }) } : fromJson;
}
