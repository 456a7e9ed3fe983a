import type { Cohort, FunnelBreakdown, RetentionResponse, Series, TimeSeriesResponse, BreakdownRow } from "@apgms/proto/apgms/insights/v1/analytics";
import type { Event } from "@apgms/proto/apgms/insights/v1/event";
import { Attributes, AttributeValue } from "../scalars.js";
import { attributeFromProto, attributesFromProto, insightsEnums } from "../to-graphql.js";

/** Field resolvers mapping svc-insights' proto messages onto the GraphQL types (times are …At, ranges from/to). */
export const typeResolvers = {
  AttributeValue,
  Attributes,
  ...insightsEnums,
  Event: {
    occurredAt: (e: Event) => e.occurTime,
    receivedAt: (e: Event) => e.receiveTime,
    attributes: (e: Event) => attributesFromProto(e.attributes),
  },
  TimeSeries: {
    from: (t: TimeSeriesResponse) => t.startTime,
    to: (t: TimeSeriesResponse) => t.endTime,
  },
  Series: {
    splitValue: (s: Series) => attributeFromProto(s.splitValue),
    // The proto's columns as GraphQL's points.
    points: (s: Series) => s.bucketStarts.map((start, i) => ({ startsAt: new Date(start * 1000), value: s.values[i] ?? 0 })),
  },
  BreakdownRow: {
    value: (r: BreakdownRow) => attributeFromProto(r.value),
  },
  FunnelBreakdown: {
    value: (b: FunnelBreakdown) => attributeFromProto(b.value),
  },
  Retention: {
    from: (r: RetentionResponse) => r.startTime,
    to: (r: RetentionResponse) => r.endTime,
  },
  Cohort: {
    startsAt: (c: Cohort) => c.startTime,
  },
};
