// Page tokens of ListEvents. common's listPages keys pages by (createdAt, uuid);
// events are keyed by (occur time, client id), any text, so the position is
// sealed here with the same PageTokenCodec, bound to the list, tenant and filter.
import { DEFAULT_PAGE_SIZE, InvalidArgumentError, MAX_PAGE_SIZE, type PageTokenCodec } from "@apgms/common";
import type { PageInfo, PageRequest } from "@apgms/proto/apgms/common/v1/pagination";

/** Where a page ended: the last event's time (epoch ms) and id. */
export interface EventCursor {
  t: number;
  id: string;
}

export interface EventPage {
  size: number;
  after?: EventCursor;
}

const LIST = "apgms.insights.v1/ListEvents";

export function eventPages(codec: PageTokenCodec, tenantId: string, filters: object) {
  const query = { list: LIST, tenantId, filters };
  return {
    read(page: PageRequest | undefined): EventPage {
      const requested = page?.pageSize ?? 0;
      if (requested < 0) throw new InvalidArgumentError("page.page_size", "must not be negative");
      const size = requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
      const token = page?.pageToken ?? "";
      if (token === "") return { size };
      const position = codec.open(token, query);
      if (!Array.isArray(position) || position.length !== 2 || typeof position[0] !== "number" || typeof position[1] !== "string") {
        throw new InvalidArgumentError("page.page_token", "is not a page token issued for this list and its filters");
      }
      return { size, after: { t: position[0], id: position[1] } };
    },
    next(last: EventCursor | undefined): PageInfo {
      return { nextPageToken: last ? codec.seal([last.t, last.id], query) : "" };
    },
  };
}
