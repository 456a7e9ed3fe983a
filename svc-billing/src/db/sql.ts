// Raw-SQL plumbing shared by the catalog's reads (db/campaigns.ts, db/offers.ts, db/codes.ts):
// the hot reads go through TenantReader (one statement, one round trip), and the
// row locks through the write transaction; both select the same aliased columns.
import type { Tx } from "./client.js";

/** One statement as the call's tenant (TenantReader.query bound to it). */
export type TenantQuery = <R>(text: string, values?: unknown[]) => Promise<R[]>;

/**
 * A timestamp column as whole epoch milliseconds (float8), made a Date by `dates`: cheaper than
 * pg's text parsing of a timestamptz (svc-identity/src/db/hot-reads.ts measured it).
 */
export const ms = (column: string, alias: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8 AS "${alias}"`;

/** A bigint column as a JS number (pg returns int8 as a string); amounts stay far below 2^53. */
export const num = (column: string, alias: string) => `${column}::float8 AS "${alias}"`;

/** A row as read: `T` with its Date fields as epoch milliseconds (null stays null). */
export type Raw<T, K extends keyof T> = Omit<T, K> & { [F in K]: null extends T[F] ? number | null : number };

/** Turns the row's epoch-millisecond fields into Dates, in place: the row becomes a `T`. */
export function dates<T, K extends keyof T>(row: Raw<T, K>, fields: readonly K[]): T {
  const record = row as Record<K, unknown>;
  for (const field of fields) {
    const value = record[field];
    if (typeof value === "number") record[field] = new Date(value);
  }
  return row as unknown as T;
}

/** `text` with parameters $1… in the write transaction (row locks, set-based inserts). */
export function txQuery<R>(db: Tx, text: string, ...values: unknown[]): Promise<R[]> {
  return db.$queryRawUnsafe<R[]>(text, ...values);
}
