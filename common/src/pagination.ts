import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Opaque page tokens: a position in a list, signed with HMAC-SHA256 and bound
 * to the query that produced it. A token opens only for the same list, tenant
 * and filters, under one of the configured keys; anything else (hand-made,
 * tampered, from another list, tenant or filter) does not open at all, so
 * callers answer it as bad input. The position is readable base64url JSON,
 * not secret: clients must treat the token as opaque, and the signature, not
 * secrecy, is what stops forgery.
 *
 * Format: `<base64url(JSON position)>.<base64url(HMAC-SHA256)>`. The MAC
 * covers a version tag, the canonical JSON of the query and the position.
 */

/** What a page token is bound to. */
export interface PageQuery {
  /** The list that issued it, unique across services, e.g. `apgms.identity.v1/ListUsers`. */
  list: string;
  /** The tenant the list was read for ("" for a platform list). */
  tenantId: string;
  /** Every request field that shapes the list (its filters); key order does not matter. */
  filters?: object;
}

/** A position in a list: what the service needs to resume after the last row it returned. */
export type PagePosition = string | number | boolean | null | PagePosition[] | { [key: string]: PagePosition };

export const PAGE_TOKEN_MIN_KEY_BYTES = 32;
/** Longer tokens are refused before any work: no list position needs this much. */
const MAX_TOKEN_LENGTH = 1024;
const TAG = "apgms.page-token.v1";

/** JSON with sorted keys, undefined dropped, dates as ISO strings and bigints as strings. */
export function canonicalJson(value: unknown): string {
  if (value === undefined || value === null) return "null";
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (typeof value === "bigint") return JSON.stringify(value.toString());
  if (value instanceof Uint8Array) return JSON.stringify(Buffer.from(value).toString("base64"));
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  if (typeof value === "function" || typeof value === "symbol") throw new TypeError(`cannot bind a page token to a ${typeof value}`);
  return JSON.stringify(value);
}

export class PageTokenCodec {
  private readonly keys: Buffer[];

  /** `keys`: the first signs, every one verifies (rotation: prepend the new key, drop the old later). */
  constructor(keys: readonly (string | Buffer)[]) {
    if (keys.length === 0) throw new Error("a page token codec needs at least one key");
    this.keys = keys.map((k) => (typeof k === "string" ? Buffer.from(k, "utf8") : Buffer.from(k)));
    for (const k of this.keys) {
      if (k.length < PAGE_TOKEN_MIN_KEY_BYTES) throw new Error(`a page token key must be at least ${PAGE_TOKEN_MIN_KEY_BYTES} bytes`);
    }
  }

  seal(position: PagePosition, query: PageQuery): string {
    const body = Buffer.from(JSON.stringify(position), "utf8").toString("base64url");
    return `${body}.${this.mac(this.keys[0]!, body, query).toString("base64url")}`;
  }

  /** The position, or undefined when the token was not issued by us for this very query. */
  open(token: string, query: PageQuery): PagePosition | undefined {
    if (token.length > MAX_TOKEN_LENGTH) return undefined;
    const parts = token.split(".");
    if (parts.length !== 2) return undefined;
    const [body, sig] = parts as [string, string];
    const given = Buffer.from(sig, "base64url");
    // base64url decoding ignores stray characters: insist on the canonical form.
    if (given.toString("base64url") !== sig) return undefined;
    const valid = this.keys.some((k) => {
      const expected = this.mac(k, body, query);
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
    if (!valid) return undefined;
    try {
      return JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as PagePosition;
    } catch {
      return undefined;
    }
  }

  private mac(key: Buffer, body: string, query: PageQuery): Buffer {
    const bound = canonicalJson({ list: query.list, tenantId: query.tenantId, filters: query.filters ?? {} });
    return createHmac("sha256", key).update(`${TAG}\n${bound}\n${body}`).digest();
  }
}
