import type { BreakdownRequest } from "@apgms/proto/apgms/insights/v1/analytics";
import { DEFAULT_BREAKDOWN_LIMIT, MAX_BREAKDOWN_LIMIT, MAX_RAW_RANGE_MS, MAX_ROLLUP_RANGE_MS, ROLLUP_BUCKET_MS } from "./limits.js";
import { attributeKey, checkLength, filters, limit, optionalEventName, timeRange, type AttributeFilter, type TimeRange } from "./query-input.js";

export interface BreakdownQuery {
  name?: string;
  key: string;
  range: TimeRange;
  limit: number;
  filters: AttributeFilter[];
}

export function breakdownQuery(req: BreakdownRequest): BreakdownQuery {
  return {
    name: optionalEventName("event_name", req.eventName),
    key: attributeKey("attribute", req.attribute),
    range: timeRange(req.startTime, req.endTime, MAX_ROLLUP_RANGE_MS, "for a breakdown"),
    limit: limit("limit", req.limit, DEFAULT_BREAKDOWN_LIMIT, MAX_BREAKDOWN_LIMIT),
    filters: filters("filters", req.filters),
  };
}

/** A dimension without filters reads the rollups (and raw events at the edges); anything else raw events. */
export function breakdownFromRollups(q: BreakdownQuery, dimensions: ReadonlySet<string>): boolean {
  return q.filters.length === 0 && dimensions.has(q.key);
}

export function checkRawBreakdown(q: BreakdownQuery): void {
  checkLength(q.range, MAX_RAW_RANGE_MS, "when a breakdown reads raw events (an attribute that is not a dimension, or filters)");
}

/**
 * The whole 15-minute buckets inside the range, which the rollups answer; the
 * parts before `from` and from `to` on are read from raw events (under 15
 * minutes each). `from >= to`: no whole bucket, all raw.
 */
export function rollupInterior(range: TimeRange): { from: number; to: number } {
  const from = Math.ceil(range.start / ROLLUP_BUCKET_MS) * ROLLUP_BUCKET_MS;
  const to = Math.floor(range.end / ROLLUP_BUCKET_MS) * ROLLUP_BUCKET_MS;
  return from < to ? { from, to } : { from: range.end, to: range.end };
}
