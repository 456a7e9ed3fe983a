import { InvalidArgumentError } from "@apgms/common";
import { RetentionPeriod, type RetentionRequest } from "@apgms/proto/apgms/insights/v1/analytics";
import { maxBuckets } from "./buckets.js";
import { MAX_RETENTION_DAYS, MAX_RETENTION_WEEKS, MAX_ROLLUP_RANGE_MS } from "./limits.js";
import { eventName, timeRange, type TimeRange } from "./query-input.js";
import { timeZone } from "./time-zone.js";

export interface RetentionQuery {
  startEvent: string;
  returnEvent: string;
  unit: "day" | "week";
  range: TimeRange;
  zone: string;
}

export function retentionQuery(req: RetentionRequest): RetentionQuery {
  const unit = req.period === RetentionPeriod.RETENTION_PERIOD_DAY ? "day" : req.period === RetentionPeriod.RETENTION_PERIOD_WEEK ? "week" : undefined;
  if (!unit) throw new InvalidArgumentError("period", "must be RETENTION_PERIOD_DAY or RETENTION_PERIOD_WEEK");
  const range = timeRange(req.startTime, req.endTime, MAX_ROLLUP_RANGE_MS, "for retention");
  const max = unit === "day" ? MAX_RETENTION_DAYS : MAX_RETENTION_WEEKS;
  // maxBuckets counts a partial period at each end; the exact count comes from the zone's calendar in SQL.
  if (maxBuckets(unit, range.start, range.end) > max + 2) throw new InvalidArgumentError("end_time", `the range must span at most ${max} ${unit}s for retention`);
  return {
    startEvent: eventName("start_event", req.startEvent),
    returnEvent: eventName("return_event", req.returnEvent),
    unit,
    range,
    zone: timeZone("time_zone", req.timeZone),
  };
}
