// The bucket CTEs every bucketed query starts with. `r` is the range widened
// to whole buckets of the zone (lo, hi); `b` lists every bucket's start in it.
// Boundaries come from date_trunc(unit, t, zone), so DST days of 23 or 25
// hours and half-hour zones are bucketed by the zone's own rules.
import { UNITS, type BucketUnit } from "../domain/buckets.js";

/** `start`, `end` and `zone` are parameter references ($3...); the unit is one of four constants, inlined. */
export function bucketCtes(unit: BucketUnit, start: string, end: string, zone: string): string {
  const { step, next } = UNITS[unit];
  return `r AS (
    SELECT date_trunc('${unit}', ${start}::timestamptz, ${zone}::text) AS lo,
           date_trunc('${unit}', date_trunc('${unit}', ${end}::timestamptz - interval '1 millisecond', ${zone}::text) + interval '${next}', ${zone}::text) AS hi
  ),
  b AS (
    SELECT DISTINCT date_trunc('${unit}', g, ${zone}::text) AS s
    FROM r, generate_series(r.lo, r.hi - interval '1 millisecond', interval '${step}') AS g
  )`;
}

/** A bucket expression of a timestamptz column, in the zone. */
export function bucketOf(unit: BucketUnit, column: string, zone: string): string {
  return `date_trunc('${unit}', ${column}, ${zone}::text)`;
}
