import { InvalidArgumentError } from "@apgms/common";
import { RetentionPeriod, type RetentionRequest } from "@apgms/proto/apgms/insights/v1/analytics";
import { DAY_MS, MAX_RETENTION_DAYS, MAX_RETENTION_WEEKS } from "./limits.js";
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
  const max = unit === "day" ? MAX_RETENTION_DAYS : MAX_RETENTION_WEEKS;
  const range = timeRange(req.startTime, req.endTime, max * (unit === "day" ? DAY_MS : 7 * DAY_MS), `for retention (${max} ${unit === "day" ? "daily" : "weekly"} periods)`);
  return {
    startEvent: eventName("start_event", req.startEvent),
    returnEvent: eventName("return_event", req.returnEvent),
    unit,
    range,
    zone: timeZone("time_zone", req.timeZone),
  };
}
