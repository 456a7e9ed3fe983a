// Cursor pagination of every List RPC (apgms.common.v1.PageRequest/PageInfo):
// pages in (createdAt, id) order, ascending or newest first, with tokens
// sealed by PageTokenCodec and bound to the list, the tenant and its filters.
import type { PageInfo, PageRequest } from "@apgms/proto/apgms/common/v1/pagination";
import { InvalidArgumentError } from "./errors.js";
import type { PageTokenCodec } from "./pagination.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (value: string) => UUID.test(value);

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** Where the previous page ended, in (createdAt, id) order. */
export interface Cursor {
  createdAt: Date;
  id: string;
}

export interface Page {
  size: number;
  after?: Cursor;
}

/**
 * Where a page ended, before it becomes a token: the handler seals it with
 * `ListPages.next`. An object, not a string, so it cannot be sent unsigned.
 */
export type PageEnd = { readonly last: Cursor } | undefined;

/** The page tokens of one list call: bound to its RPC, tenant and every other request field. */
export interface ListPages {
  /** Validates the request's page: size 0 → default, above the maximum → the maximum; the token must be one this query issued. */
  read(page: PageRequest | undefined): Page;
  /** The page info to return: the sealed token of the next page, "" when this one is the last. */
  next(end: PageEnd): PageInfo;
}

function toCursor(position: unknown): Cursor | undefined {
  if (!Array.isArray(position) || position.length !== 2) return undefined;
  const [createdAt, id] = position as unknown[];
  if (typeof createdAt !== "string" || typeof id !== "string" || !isUuid(id)) return undefined;
  const date = new Date(createdAt);
  return Number.isNaN(date.getTime()) ? undefined : { createdAt: date, id };
}

/** `list` names the RPC (e.g. `apgms.identity.v1/ListUsers`); `request` is the whole list request. */
export function listPages(codec: PageTokenCodec, list: string, tenantId: string, request: object): ListPages {
  const { page: _page, ...filters } = request as { page?: unknown };
  const query = { list, tenantId, filters };
  return {
    read(page) {
      const requested = page?.pageSize ?? 0;
      if (requested < 0) throw new InvalidArgumentError("page.page_size", "must not be negative");
      const size = requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
      const token = page?.pageToken ?? "";
      if (token === "") return { size };
      const after = toCursor(codec.open(token, query));
      if (!after) throw new InvalidArgumentError("page.page_token", "is not a page token issued for this list and its filters");
      return { size, after };
    },
    next(end) {
      if (!end) return { nextPageToken: "" };
      return { nextPageToken: codec.seal([end.last.createdAt.toISOString(), end.last.id], query) };
    },
  };
}

/** Prisma `where` fragment selecting rows strictly after the cursor (oldest first). */
export function afterCursor(after: Cursor | undefined) {
  if (!after) return {};
  return {
    OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }],
  };
}

export const pageOrder = [{ createdAt: "asc" as const }, { id: "asc" as const }];

/** Prisma `where` fragment selecting rows strictly after the cursor, newest first. */
export function beforeCursor(after: Cursor | undefined) {
  if (!after) return {};
  return {
    OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }],
  };
}

export const newestFirst = [{ createdAt: "desc" as const }, { id: "desc" as const }];

/** Cuts the size+1 rows fetched into a page and where it ended (undefined when it is the last). */
export function slicePage<T extends Cursor>(rows: T[], size: number): { items: T[]; nextPageToken: PageEnd } {
  if (rows.length <= size) return { items: rows, nextPageToken: undefined };
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, nextPageToken: last ? { last: { createdAt: last.createdAt, id: last.id } } : undefined };
}
