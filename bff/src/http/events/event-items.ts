import type { Event } from "@apgms/proto/apgms/insights/v1/event";
import { DateTime } from "../../graphql/scalars.js";
import type { RejectedItem } from "../../graphql/insights/to-graphql.js";
import { attributeToProto } from "../../graphql/insights/to-graphql.js";

/** The fields of an event in a body (the same as GraphQL's EventInput). */
const FIELDS = new Set(["id", "name", "occurredAt", "subjectId", "attributes"]);

export interface CheckedItems {
  /** The items that have an event's shape, for svc-insights (which checks their content). */
  events: Event[];
  /** positions[i]: the index in the body of events[i]. */
  positions: number[];
  /** Items without an event's shape, rejected here with their index and reason. */
  rejected: RejectedItem[];
}

class ShapeError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);

function text(item: Record<string, unknown>, field: string): string {
  const v = item[field];
  if (v === undefined || v === null) throw new ShapeError(field, "is required");
  if (typeof v !== "string") throw new ShapeError(field, `must be a string, not ${describe(v)}`);
  return v;
}

function time(item: Record<string, unknown>): Date {
  const v = text(item, "occurredAt");
  try {
    return DateTime.parseValue(v);
  } catch (err) {
    throw new ShapeError("occurredAt", (err as Error).message.replace("DateTime", "occurredAt"));
  }
}

function attributes(item: Record<string, unknown>): Event["attributes"] {
  const v = item.attributes;
  const out: Event["attributes"] = {};
  if (v === undefined || v === null) return out;
  if (typeof v !== "object" || Array.isArray(v)) throw new ShapeError("attributes", `must be a JSON object of keys to values, not ${describe(v)}`);
  for (const [key, value] of Object.entries(v)) {
    if (typeof value !== "string" && typeof value !== "boolean" && typeof value !== "number") {
      throw new ShapeError(`attributes[${key}]`, `must be a string, a number or a boolean, not ${describe(value)}`);
    }
    out[key] = attributeToProto(value);
  }
  return out;
}

function toEvent(item: unknown): Event {
  if (typeof item !== "object" || item === null || Array.isArray(item)) throw new ShapeError("", `an event must be a JSON object, not ${describe(item)}`);
  const fields = item as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    if (!FIELDS.has(key)) throw new ShapeError(key, `is not a field of an event (${[...FIELDS].join(", ")})`);
  }
  return { id: text(fields, "id"), name: text(fields, "name"), occurTime: time(fields), subjectId: text(fields, "subjectId"), attributes: attributes(fields), receiveTime: undefined };
}

const idOf = (item: unknown) => {
  const id = typeof item === "object" && item !== null ? (item as { id?: unknown }).id : undefined;
  return typeof id === "string" ? id : "";
};

/**
 * Turns a body's items into proto events. An item without an event's shape
 * (not an object, a field of the wrong JSON type, a time that does not parse,
 * an unknown field) is rejected here, with its index, like the items
 * svc-insights rejects for their content: a bad item never sinks the call.
 */
export function checkItems(items: readonly unknown[]): CheckedItems {
  const out: CheckedItems = { events: [], positions: [], rejected: [] };
  items.forEach((item, index) => {
    try {
      out.events.push(toEvent(item));
      out.positions.push(index);
    } catch (err) {
      if (!(err instanceof ShapeError)) throw err;
      out.rejected.push({ index, id: idOf(item), field: err.field, reason: err.message });
    }
  });
  return out;
}
