import { InvalidArgumentError } from "@apgms/common";
import type { PageRequest } from "@apgms/proto/apgms/common/v1/pagination";
import { isUuid } from "./validate.js";

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

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify({ createdAt: c.createdAt.toISOString(), id: c.id }), "utf8").toString("base64url");
}

function decodeCursor(token: string): Cursor | undefined {
  try {
    const raw: unknown = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
    if (typeof raw !== "object" || raw === null) return undefined;
    const { createdAt, id } = raw as Record<string, unknown>;
    if (typeof createdAt !== "string" || typeof id !== "string" || !isUuid(id)) return undefined;
    const date = new Date(createdAt);
    return Number.isNaN(date.getTime()) ? undefined : { createdAt: date, id };
  } catch {
    return undefined;
  }
}

/** Validates a PageRequest: size 0 → default, above the maximum → the maximum; the token must be one we issued. */
export function page(request: PageRequest | undefined): Page {
  const requested = request?.pageSize ?? 0;
  if (requested < 0) throw new InvalidArgumentError("page.page_size", "must not be negative");
  const size = requested === 0 ? DEFAULT_PAGE_SIZE : Math.min(requested, MAX_PAGE_SIZE);
  const token = request?.pageToken ?? "";
  if (token === "") return { size };
  const after = decodeCursor(token);
  if (!after) throw new InvalidArgumentError("page.page_token", "is not a valid page token");
  return { size, after };
}

/** Prisma `where` fragment selecting rows strictly after the cursor. */
export function afterCursor(after: Cursor | undefined) {
  if (!after) return {};
  return {
    OR: [{ createdAt: { gt: after.createdAt } }, { createdAt: after.createdAt, id: { gt: after.id } }],
  };
}

export const pageOrder = [{ createdAt: "asc" as const }, { id: "asc" as const }];

/** Cuts the size+1 rows fetched into a page and the token of the next one ("" when last). */
export function slicePage<T extends Cursor>(rows: T[], size: number): { items: T[]; nextPageToken: string } {
  if (rows.length <= size) return { items: rows, nextPageToken: "" };
  const items = rows.slice(0, size);
  const last = items[items.length - 1];
  return { items, nextPageToken: last ? encodeCursor(last) : "" };
}
