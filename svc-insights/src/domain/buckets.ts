// Time buckets in a time zone. The SQL (db/bucket-sql.ts) computes the
// boundaries with Postgres's date_trunc(unit, t, zone), which follows the
// zone's rules (DST days of 23 or 25 hours, half-hour offsets); this file
// holds what the SQL is built from, per unit.
import { DAY_MS, HOUR_MS, MINUTE_MS } from "./limits.js";

export type BucketUnit = "minute" | "hour" | "day" | "week";

export interface UnitSql {
  /** Shortest a bucket can be: bounds the number of buckets of a range. */
  minMs: number;
  /** Steps that land in every bucket of a range at least once (no bucket is shorter). */
  step: string;
  /** Added to a bucket's start and truncated again: the next bucket's start. */
  next: string;
}

export const UNITS: Record<BucketUnit, UnitSql> = {
  minute: { minMs: MINUTE_MS, step: "1 minute", next: "1 minute" },
  // A local hour is at least 30 minutes (Lord Howe's half-hour DST), and every bucket boundary is a quarter hour.
  hour: { minMs: 30 * MINUTE_MS, step: "15 minutes", next: "1 hour" },
  // Local days are 23..25 hours (and one day in Samoa did not exist): an hour step meets them all.
  day: { minMs: 22 * HOUR_MS, step: "1 hour", next: "26 hours" },
  week: { minMs: 7 * DAY_MS - 2 * HOUR_MS, step: "12 hours", next: "170 hours" },
};

/** The most buckets [start, end) can span in any zone (one partial bucket at each end). */
export function maxBuckets(unit: BucketUnit, start: number, end: number): number {
  return Math.ceil((end - start) / UNITS[unit].minMs) + 1;
}
