// ListCodes pages by code, not by (created_at, id) as common's listPages does: codes are made
// 100,000 at a time with one created_at, and the (tenant_id, offer_id, code) index orders them.
// The token is sealed the same way (PageTokenCodec), bound to the list, tenant and filters.
import { DEFAULT_PAGE_SIZE, InvalidArgumentError, MAX_PAGE_SIZE, type PageTokenCodec } from "@apgms/common";
import type { PageInfo, PageRequest } from "@apgms/proto/apgms/common/v1/pagination";

const LIST = "apgms.billing.v1/ListCodes";

export interface CodePage {
  size: number;
  /** The last code of the previous page. */
  after?: string;
}

export interface CodePages {
  read(page: PageRequest | undefined): CodePage;
  /** The page info: the sealed token of the page after `last`, "" when there is none. */
  next(last: string | undefined): PageInfo;
}

/** `request` is the whole ListCodes request: its fields other than `page` are the filters a token is bound to. */
export function codePages(codec: PageTokenCodec, tenantId: string, request: object): CodePages {
  const { page: _page, ...filters } = request as { page?: unknown };
  const query = { list: LIST, tenantId, filters };
  return {
    read(page) {
      const requested = page?.pageSize ?? 0;
      if (requested < 0) throw new InvalidArgumentError("page.page_size", "must not be negative");
      const size = requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
      const token = page?.pageToken ?? "";
      if (token === "") return { size };
      const after = codec.open(token, query);
      if (typeof after !== "string") throw new InvalidArgumentError("page.page_token", "is not a page token issued for this list and its filters");
      return { size, after };
    },
    next(last) {
      return { nextPageToken: last === undefined ? "" : codec.seal(last, query) };
    },
  };
}
