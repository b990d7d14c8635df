/**
 * Walks one listing of a pass (ListingRequest) to its end, whatever paging the server does.
 *
 * What the API contract promises, and so all this relies on: results come in the requested order of
 * fileCreatedAt (ascending here), `takenAfter` keeps assets at or after an instant, and `nextPage` is null
 * on the last page and only there. It promises nothing about how many items a page holds (any page may be
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

/** Pages in a row that bring no new asset beyond what the ids already seen could explain. */
const SPARE_PAGES_WITHOUT_NEWS = 2;

export async function* walkListing(client: SearchPager, listing: ListingRequest, pageSize: number): AsyncGenerator<ImmichAssetSummary> {
  let after: string | undefined = listing.filters.takenAfter;
  let seenAtAfter = new Set(listing.skipIds);
  let token: string | null = null;
  let tokensOfSearch = new Set<string>();
  let pagesWithoutNews = 0;
  const request = (): Promise<ImmichSearchPage> => {
    const filters = { ...listing.filters, ...(after !== undefined ? { takenAfter: after } : {}), withExif: true, withPeople: true };
    const pending = client.searchPage(filters, token, pageSize);
    pending.catch(() => undefined); // awaited below; this only keeps an early exit from leaving it unhandled
    return pending;
  };

  let next: Promise<ImmichSearchPage> | null = request();
  while (next) {
    const page: ImmichSearchPage = await next;
    next = null;
    assertInOrder(page.items, after);

    const fresh: ImmichAssetSummary[] = [];
    const onPage = new Set<string>();
    for (const asset of page.items) {
      if (onPage.has(asset.id)) continue;
      onPage.add(asset.id);
      if (after !== undefined && seenAtAfter.has(asset.id) && compareInstants(asset.fileCreatedAt, after) === 0) continue;
      fresh.push(asset);
    }

    if (page.next !== null) {
      // A server may page through ids we saw already (ties at the cursor), but no more pages than they fill.
      pagesWithoutNews = fresh.length === 0 ? pagesWithoutNews + 1 : 0;
      const explainable = Math.ceil(seenAtAfter.size / Math.max(1, page.items.length)) + SPARE_PAGES_WITHOUT_NEWS;
      if (pagesWithoutNews > explainable) throw stuck(`${pagesWithoutNews} pages in a row brought no new asset, each promising another (nextPage "${page.next}")`);
      const last = page.items[page.items.length - 1];
      if (last && (after === undefined || compareInstants(last.fileCreatedAt, after) > 0)) {
        after = last.fileCreatedAt;
        seenAtAfter = new Set(page.items.filter((a) => compareInstants(a.fileCreatedAt, last.fileCreatedAt) === 0).map((a) => a.id));
        token = null;
        tokensOfSearch = new Set();
      } else {
        // The whole page sits at `after` (ties beyond a page): page on inside this search.
        for (const asset of page.items) seenAtAfter.add(asset.id);
        if (page.next === token || tokensOfSearch.has(page.next)) throw stuck(`nextPage "${page.next}" was already answered`);
        tokensOfSearch.add(page.next);
        token = page.next;
      }
      next = request();
    }
    for (const asset of fresh) yield asset;
  }
}

function assertInOrder(items: readonly ImmichAssetSummary[], after: string | undefined): void {
  let previous = after;
  for (const asset of items) {
    if (typeof asset.fileCreatedAt !== 'string' || Number.isNaN(Date.parse(asset.fileCreatedAt))) {
      throw new ServerContractError(`The Immich server listed asset ${asset.id} without a valid fileCreatedAt ("${String(asset.fileCreatedAt)}"); the sync cannot keep its place without it.`);
    }
    if (previous !== undefined && compareInstants(asset.fileCreatedAt, previous) < 0) {
      throw new ServerContractError(
        `The Immich server returned assets out of the requested order (asset ${asset.id} at ${asset.fileCreatedAt} after ${previous}, ascending by fileCreatedAt from ${after ?? 'the start'} was asked). ` +
          'Stopping so that no asset is skipped; check the server (or the proxy in front of it) and its version.',
      );
    }
    previous = asset.fileCreatedAt;
  }
}

function stuck(detail: string): ServerContractError {
  return new ServerContractError(`The Immich server's search paging does not advance: ${detail}. Stopping instead of looping forever; check the server (or the proxy in front of it) and its version.`);
}
