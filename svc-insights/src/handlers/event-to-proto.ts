import type { AttributeValue, Event } from "@apgms/proto/apgms/insights/v1/event";
import type { EventRow } from "../db/events.js";

export function eventToProto(row: EventRow): Event {
  const attributes: { [key: string]: AttributeValue } = {};
  for (const [key, type, s, n, b] of row.attributes ?? []) {
    attributes[key] = type === "string" ? { stringValue: s! } : type === "number" ? { numberValue: n! } : { boolValue: b! };
  }
  return { id: row.id, name: row.name, occurTime: new Date(row.occurredAt), subjectId: row.subjectId, attributes, receiveTime: new Date(row.receivedAt) };
}
