import { InvalidArgumentError } from "@apgms/common";
import { Granularity, Metric, type TimeSeriesRequest } from "@apgms/proto/apgms/insights/v1/analytics";
import { maxBuckets, type BucketUnit } from "./buckets.js";
import { DEFAULT_SPLIT_LIMIT, MAX_BUCKETS, MAX_MINUTE_RANGE_MS, MAX_RAW_RANGE_MS, MAX_ROLLUP_RANGE_MS, MAX_SPLIT_LIMIT } from "./limits.js";
import { attributeKey, checkLength, eventName, filters, limit, optionalAttributeKey, timeRange, type AttributeFilter, type TimeRange } from "./query-input.js";
import { timeZone } from "./time-zone.js";

export type MetricKind = "count" | "sum" | "unique";

export interface TimeSeriesQuery {
  name: string;
  metric: MetricKind;
  /** metric "sum": the numeric attribute. */
  sumKey?: string;
  unit: BucketUnit;
  range: TimeRange;
  zone: string;
  filters: AttributeFilter[];
  split?: { key: string; limit: number };
}

const UNIT: Partial<Record<Granularity, BucketUnit>> = {
  [Granularity.GRANULARITY_MINUTE]: "minute",
  [Granularity.GRANULARITY_HOUR]: "hour",
  [Granularity.GRANULARITY_DAY]: "day",
  [Granularity.GRANULARITY_WEEK]: "week",
};

const METRIC: Partial<Record<Metric, MetricKind>> = {
  [Metric.METRIC_COUNT]: "count",
  [Metric.METRIC_SUM]: "sum",
  [Metric.METRIC_UNIQUE_SUBJECTS]: "unique",
};

export function timeSeriesQuery(req: TimeSeriesRequest): TimeSeriesQuery {
  const name = eventName("event_name", req.eventName);
  const metric = METRIC[req.metric];
  if (!metric) throw new InvalidArgumentError("metric", "must be METRIC_COUNT, METRIC_SUM or METRIC_UNIQUE_SUBJECTS");
  const sumKey = metric === "sum" ? attributeKey("sum_attribute", req.sumAttribute) : undefined;
  if (metric !== "sum" && req.sumAttribute !== "") throw new InvalidArgumentError("sum_attribute", "is only for METRIC_SUM");
  const unit = UNIT[req.granularity];
  if (!unit) throw new InvalidArgumentError("granularity", "must be GRANULARITY_MINUTE, _HOUR, _DAY or _WEEK");
  const range = timeRange(req.startTime, req.endTime, MAX_ROLLUP_RANGE_MS, "for a time series");
  if (unit === "minute") checkLength(range, MAX_MINUTE_RANGE_MS, "for minute buckets");
  if (maxBuckets(unit, range.start, range.end) > MAX_BUCKETS) {
    throw new InvalidArgumentError("end_time", `the range spans more than ${MAX_BUCKETS} ${unit} buckets; use a coarser granularity or a shorter range`);
  }
  const splitKey = optionalAttributeKey("split_by", req.splitBy);
  if (!splitKey && req.splitLimit !== 0) throw new InvalidArgumentError("split_limit", "is only for split_by");
  const split = splitKey ? { key: splitKey, limit: limit("split_limit", req.splitLimit, DEFAULT_SPLIT_LIMIT, MAX_SPLIT_LIMIT) } : undefined;
  return { name, metric, sumKey, unit, range, zone: timeZone("time_zone", req.timeZone), filters: filters("filters", req.filters), split };
}

/**
 * Whether the rollups can answer: hour buckets and above, and a COUNT at
 * most filtered by one dimension or split by one, or a plain SUM or
 * UNIQUE_SUBJECTS. Anything else reads raw events over at most 31 days.
 */
export function servedByRollups(q: TimeSeriesQuery, dimensions: ReadonlySet<string>): boolean {
  if (q.unit === "minute") return false;
  if (q.metric !== "count") return q.filters.length === 0 && !q.split;
  if (q.split) return q.filters.length === 0 && dimensions.has(q.split.key);
  return q.filters.length === 0 || (q.filters.length === 1 && dimensions.has(q.filters[0]!.key));
}

export function checkRawRange(q: TimeSeriesQuery): void {
  checkLength(q.range, MAX_RAW_RANGE_MS, "when the answer reads raw events (minute buckets, several filters, a filter or split on a non-dimension, a split SUM or UNIQUE_SUBJECTS)");
}
