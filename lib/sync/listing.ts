/**
 * Walks one listing of a pass (ListingRequest) to its end, whatever paging the server does.
 *
 * What the API contract promises, and so all this relies on: results come in the requested order of
 * fileCreatedAt (ascending here), `takenAfter` keeps assets at or after an instant, and `nextPage` (from
 * Immich v3.2 `nextCursor`; searchPage's `next` either way, opaque here) is null on the last page and only there. It promises nothing about how many items a page holds (any page may be
 * short), how assets sharing one fileCreatedAt are ordered, or that the library holds still between pages.
 *
 * So the walk is a keyset walk: after each page it searches afresh from the last instant it saw (dropping
 * the ids already seen at that instant), which makes inserts and deletes between pages harmless. Only when
 * a whole page sits at one instant (more ties than a page holds) does it follow `nextPage` inside the same
 * search. The listing ends when, and only when, a page says there is no next one. A server that breaks the
 * contract (pages out of order, paging that does not advance) stops the walk with a ServerContractError.
 *
 * The next page is requested before the current one is handed out, so file work overlaps the request.
 */
import type { ImmichClient } from '../immich/client';
import { ServerContractError } from '../immich/errors';
import type { ImmichAssetSummary, ImmichSearchPage } from '../immich/types';
import { compareInstants, type ListingRequest } from './checkpoint';

export type SearchPager = Pick<ImmichClient, 'searchPage'>;

/** Re-listings of a tie group that keeps changing while it is listed; a round that finds nothing ends it. */
const MAX_TIE_ROUNDS = 4;
/** Pages of a tie group beyond what its assets can fill, before the walk calls the server stuck. */
const SPARE_TIE_PAGES = 2;

export async function* walkListing(client: SearchPager, listing: ListingRequest, pageSize: number): AsyncGenerator<ImmichAssetSummary> {
  const search = (bounds: { takenAfter?: string; takenBefore?: string }, token: string | null): Promise<ImmichSearchPage> => {
    const pending = client.searchPage({ ...listing.filters, ...bounds, withExif: true, withPeople: true }, token, pageSize);
    pending.catch(() => undefined); // awaited later; this only keeps an early exit from leaving it unhandled
    return pending;
  };

  /**
   * Every asset at one instant that is not in `seen`. Only here does the walk follow nextPage: a tie group
   * larger than a page has no other key to page by. Offset pages are only as good as the group holding
   * still (an asset added or removed between two pages shifts the window), so the instant is listed again
   * until a round brings nothing unseen.
   */
  const unseenAt = async (instant: string, seen: Set<string>): Promise<ImmichAssetSummary[]> => {
    const found: ImmichAssetSummary[] = [];
    for (let round = 0; round < MAX_TIE_ROUNDS; round++) {
      let token: string | null = null;
      const tokens = new Set<string>();
      let news = 0;
      do {
        const page: ImmichSearchPage = await search({ takenAfter: instant, takenBefore: instant }, token);
        for (const asset of page.items) {
          assertValidTime(asset);
          if (compareInstants(asset.fileCreatedAt, instant) !== 0) throw outOfOrder(asset, instant, `only ${instant} was asked`);
          if (seen.has(asset.id)) continue;
          seen.add(asset.id);
          found.push(asset);
          news += 1;
        }
        if (page.next !== null && (page.next === token || tokens.has(page.next))) throw stuck(`nextPage "${page.next}" was already answered`);
        if (page.next !== null) tokens.add(page.next);
        if (tokens.size > seen.size + SPARE_TIE_PAGES) throw stuck(`${tokens.size} pages for the ${seen.size} assets at ${instant}`);
        token = page.next;
      } while (token !== null);
      if (news === 0) break;
    }
    return found;
  };

  // Each step is the first page of a fresh search from `after`: inclusive with the ids seen there skipped,
  // or, behind a tie group listed whole, from the next millisecond (Immich's times have millisecond precision).
  let after: { instant: string; inclusive: boolean } | null = listing.filters.takenAfter ? { instant: listing.filters.takenAfter, inclusive: true } : null;
  let seenAtAfter = new Set(listing.skipIds);
  const lowerBound = (): string | null => (after === null ? null : after.inclusive ? after.instant : nextMillisecond(after.instant));
  const from = (): { takenAfter?: string } => {
    const bound = lowerBound();
    return bound === null ? {} : { takenAfter: bound };
  };

  let next: Promise<ImmichSearchPage> | null = search(from(), null);
  while (next) {
    const page: ImmichSearchPage = await next;
    next = null;
    assertInOrder(page.items, lowerBound());
    const first = page.items[0];
    const last = page.items[page.items.length - 1];

    if (page.next !== null && first && last && compareInstants(first.fileCreatedAt, last.fileCreatedAt) === 0) {
      // A whole page at one instant: more ties than a page holds. List that instant on its own.
      const instant = last.fileCreatedAt;
      const seen = after?.inclusive && compareInstants(after.instant, instant) === 0 ? seenAtAfter : new Set<string>();
      const unseen = await unseenAt(instant, seen);
      after = { instant, inclusive: false };
      seenAtAfter = new Set();
      next = search(from(), null);
      for (const asset of unseen) yield asset;
      continue;
    }

    const fresh: ImmichAssetSummary[] = [];
    const onPage = new Set<string>();
    for (const asset of page.items) {
      if (onPage.has(asset.id)) continue;
      onPage.add(asset.id);
      if (after?.inclusive && seenAtAfter.has(asset.id) && compareInstants(asset.fileCreatedAt, after.instant) === 0) continue;
      fresh.push(asset);
    }
    if (page.next !== null && last) {
      // Some assets may follow at the last instant of this page: search again from there, skipping these.
      // (The page holds more than one instant, since a page at one instant is a tie group above, so its last
      // instant is later than `after` and nothing seen before needs carrying over.)
      after = { instant: last.fileCreatedAt, inclusive: true };
      seenAtAfter = new Set(page.items.filter((a) => compareInstants(a.fileCreatedAt, last.fileCreatedAt) === 0).map((a) => a.id));
      next = search(from(), null);
    } else if (page.next !== null) {
      throw stuck(`an empty page says another follows (nextPage "${page.next}")`);
    }
    for (const asset of fresh) yield asset;
  }
}

function nextMillisecond(instant: string): string {
  return new Date(Date.parse(instant) + 1).toISOString();
}

function assertValidTime(asset: ImmichAssetSummary): void {
  if (typeof asset.fileCreatedAt !== 'string' || Number.isNaN(Date.parse(asset.fileCreatedAt))) {
    throw new ServerContractError(`The Immich server listed asset ${asset.id} without a valid fileCreatedAt ("${String(asset.fileCreatedAt)}"); the sync cannot keep its place without it.`);
  }
}

function assertInOrder(items: readonly ImmichAssetSummary[], after: string | null): void {
  let previous = after ?? undefined;
  for (const asset of items) {
    assertValidTime(asset);
    if (previous !== undefined && compareInstants(asset.fileCreatedAt, previous) < 0) {
      throw outOfOrder(asset, previous, `ascending by fileCreatedAt from ${after ?? 'the start'} was asked`);
    }
    previous = asset.fileCreatedAt;
  }
}

function outOfOrder(asset: ImmichAssetSummary, previous: string, asked: string): ServerContractError {
  return new ServerContractError(
    `The Immich server returned assets out of the requested order (asset ${asset.id} at ${asset.fileCreatedAt} after ${previous}; ${asked}). ` +
      'Stopping so that no asset is skipped; check the server (or the proxy in front of it) and its version.',
  );
}

function stuck(detail: string): ServerContractError {
  return new ServerContractError(`The Immich server's search paging does not advance: ${detail}. Stopping instead of looping forever; check the server (or the proxy in front of it) and its version.`);
}
