// An attribute value in its three forms: the proto's oneof, the typed columns
// of event_attributes, and the (type, text) pair rollup_dimensions keys by.
import type { AttributeValue } from "@apgms/proto/apgms/insights/v1/event";

export type AttributeType = "string" | "number" | "boolean";

/** A value with its kind: what validation produces and the SQL takes. */
export type TypedValue = { type: "string"; value: string } | { type: "number"; value: number } | { type: "boolean"; value: boolean };

/** The proto value's kind, or a reason it has none (or several). */
export function typedValue(v: AttributeValue | undefined): TypedValue | string {
  if (!v) return "has no value";
  const set = (v.stringValue !== undefined ? 1 : 0) + (v.numberValue !== undefined ? 1 : 0) + (v.boolValue !== undefined ? 1 : 0);
  if (set !== 1) return "must hold exactly one of string_value, number_value, bool_value";
  if (v.stringValue !== undefined) return { type: "string", value: v.stringValue };
  if (v.numberValue !== undefined) return { type: "number", value: v.numberValue };
  return { type: "boolean", value: v.boolValue! };
}

export function toProtoValue(v: TypedValue): AttributeValue {
  switch (v.type) {
    case "string":
      return { stringValue: v.value };
    case "number":
      return { numberValue: v.value };
    case "boolean":
      return { boolValue: v.value };
  }
}

/** A rollup_dimensions (type, value) pair as read back: numbers and booleans were stored as Postgres prints them. */
export function fromDimensionText(type: AttributeType, text: string): TypedValue {
  switch (type) {
    case "string":
      return { type, value: text };
    case "number":
      return { type, value: Number(text) };
    case "boolean":
      return { type, value: text === "true" };
  }
}
