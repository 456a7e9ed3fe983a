// Proto answers as the plain shapes of reference.ts, for deep comparison.
import type { FunnelResponse, RetentionResponse, TimeSeriesResponse, BreakdownResponse } from "@apgms/proto/apgms/insights/v1/analytics";
import type { AttributeValue } from "@apgms/proto/apgms/insights/v1/event";
import { expect } from "chai";
import type { Plain } from "./events.js";
import type { ExpectedSeries, FunnelExpectation, RetentionExpectation } from "./reference.js";

export function plain(v: AttributeValue | undefined): Plain | undefined {
  if (!v) return undefined;
  return v.stringValue ?? v.numberValue ?? v.boolValue;
}

export function seriesOf(res: TimeSeriesResponse): ExpectedSeries {
  return {
    start: res.startTime!.getTime(),
    end: res.endTime!.getTime(),
    series: res.series.map((s) => {
      const value = plain(s.splitValue);
      expect(s.values, "one value per bucket").to.have.length(s.bucketStarts.length);
      const points = s.bucketStarts.map((start, i): [number, number] => [start * 1000, s.values[i]!]);
      return value === undefined ? { points } : { value, points };
    }),
  };
}

export function breakdownOf(res: BreakdownResponse): Array<[Plain, number]> {
  return res.rows.map((r) => [plain(r.value)!, r.count]);
}

export function funnelOf(res: FunnelResponse): FunnelExpectation {
  return {
    counts: res.steps.map((s) => s.count),
    breakdowns: res.breakdowns.map((b) => ({ value: plain(b.value), counts: b.steps.map((s) => s.count) })),
  };
}

export function retentionOf(res: RetentionResponse): RetentionExpectation {
  return { start: res.startTime!.getTime(), end: res.endTime!.getTime(), cohorts: res.cohorts.map((c) => ({ start: c.startTime!.getTime(), size: c.size, returned: c.returned })) };
}
