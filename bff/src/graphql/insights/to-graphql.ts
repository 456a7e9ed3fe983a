import { DataSource, Granularity, Metric, RetentionPeriod } from "@apgms/proto/apgms/insights/v1/analytics";
import type { AttributeValue, Event, IngestEventsResponse, RejectedEvent } from "@apgms/proto/apgms/insights/v1/event";
import type { AttributeMap, AttributePrimitive } from "./scalars.js";

/** The insights enums' resolvers (GraphQL name → proto value); UNSPECIFIED has no GraphQL name. */
export const insightsEnums = {
  Granularity: { MINUTE: Granularity.GRANULARITY_MINUTE, HOUR: Granularity.GRANULARITY_HOUR, DAY: Granularity.GRANULARITY_DAY, WEEK: Granularity.GRANULARITY_WEEK },
  Metric: { COUNT: Metric.METRIC_COUNT, SUM: Metric.METRIC_SUM, UNIQUE_SUBJECTS: Metric.METRIC_UNIQUE_SUBJECTS },
  DataSource: { ROLLUP: DataSource.DATA_SOURCE_ROLLUP, RAW: DataSource.DATA_SOURCE_RAW },
  RetentionPeriod: { DAY: RetentionPeriod.RETENTION_PERIOD_DAY, WEEK: RetentionPeriod.RETENTION_PERIOD_WEEK },
};

export function attributeToProto(v: AttributePrimitive): AttributeValue {
  if (typeof v === "string") return { stringValue: v };
  if (typeof v === "number") return { numberValue: v };
  return { boolValue: v };
}

export function attributesToProto(map: AttributeMap | null | undefined): Event["attributes"] {
  const out: Event["attributes"] = {};
  if (map) for (const key of Object.keys(map)) out[key] = attributeToProto(map[key]!);
  return out;
}

/** A proto value as JSON carries it; null when unset (a funnel breakdown of entries without the attribute). */
export function attributeFromProto(v: AttributeValue | undefined): AttributePrimitive | null {
  if (v?.stringValue !== undefined) return v.stringValue;
  if (v?.numberValue !== undefined) return v.numberValue;
  if (v?.boolValue !== undefined) return v.boolValue;
  return null;
}

export function attributesFromProto(map: Event["attributes"]): AttributeMap {
  const out: AttributeMap = {};
  for (const key of Object.keys(map)) {
    const v = attributeFromProto(map[key]);
    if (v !== null) out[key] = v;
  }
  return out;
}

/** svc-insights names an event's fields as the proto does; clients send them as the edge names them. */
const EVENT_FIELDS: Readonly<Record<string, string>> = { occur_time: "occurredAt", subject_id: "subjectId" };

/** One rejected item of a report (GraphQL's RejectedEvent and POST /v1/events' JSON alike). */
export interface RejectedItem {
  index: number;
  id: string;
  field: string;
  reason: string;
}

export const rejectedItem = (r: RejectedEvent): RejectedItem => ({ index: r.index, id: r.id, field: EVENT_FIELDS[r.field] ?? r.field, reason: r.reason });

/** What an ingestion call answers: accepted + duplicates + rejected.length = the events sent. */
export interface IngestReport {
  accepted: number;
  duplicates: number;
  rejected: RejectedItem[];
}

export const ingestReport = (res: IngestEventsResponse): IngestReport => ({ accepted: res.accepted, duplicates: res.duplicates, rejected: res.rejected.map(rejectedItem) });
