// Validation shared by the analytics requests: event names, attribute keys,
// filters, ranges, limits. Each failure names the proto field at fault.
import { InvalidArgumentError } from "@apgms/common";
import type { AttributeFilter as ProtoFilter } from "@apgms/proto/apgms/insights/v1/analytics";
import { typedValue, type TypedValue } from "./attribute-value.js";
import { ATTRIBUTE_KEY, EVENT_NAME } from "./event-batch.js";
import { MAX_FILTERS } from "./limits.js";

export interface AttributeFilter {
  key: string;
  value: TypedValue;
}

/** [start, end) in epoch milliseconds. */
export interface TimeRange {
  start: number;
  end: number;
}

export function eventName(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (!EVENT_NAME.test(value)) throw new InvalidArgumentError(field, "must be 1..100 characters of letters, digits and _ . : -");
  return value;
}

export function optionalEventName(field: string, value: string): string | undefined {
  return value === "" ? undefined : eventName(field, value);
}

export function attributeKey(field: string, value: string): string {
  if (value === "") throw new InvalidArgumentError(field, "is required");
  if (!ATTRIBUTE_KEY.test(value)) throw new InvalidArgumentError(field, "must be 1..64 characters: a letter or _, then letters, digits and _ . -");
  return value;
}

export function optionalAttributeKey(field: string, value: string): string | undefined {
  return value === "" ? undefined : attributeKey(field, value);
}

export function filters(field: string, list: readonly ProtoFilter[]): AttributeFilter[] {
  if (list.length > MAX_FILTERS) throw new InvalidArgumentError(field, `must hold at most ${MAX_FILTERS} filters`);
  return list.map((f, i) => {
    const key = attributeKey(`${field}[${i}].key`, f.key);
    const value = typedValue(f.value);
    if (typeof value === "string") throw new InvalidArgumentError(`${field}[${i}].value`, value);
    if (value.type === "number" && !Number.isFinite(value.value)) throw new InvalidArgumentError(`${field}[${i}].value`, "must be a finite number");
    return { key, value };
  });
}

/** start and end are required and ordered; `maxMs` bounds the length (`why` says which limit). */
export function timeRange(start: Date | undefined, end: Date | undefined, maxMs: number, why: string): TimeRange {
  if (!start) throw new InvalidArgumentError("start_time", "is required");
  if (!end) throw new InvalidArgumentError("end_time", "is required");
  const range = { start: start.getTime(), end: end.getTime() };
  if (range.end <= range.start) throw new InvalidArgumentError("end_time", "must be after start_time");
  checkLength(range, maxMs, why);
  return range;
}

export function checkLength(range: TimeRange, maxMs: number, why: string): void {
  if (range.end - range.start > maxMs) throw new InvalidArgumentError("end_time", `the range must be at most ${formatDuration(maxMs)} ${why}`);
}

/** 0 → the default; otherwise 1..max. */
export function limit(field: string, value: number, fallback: number, max: number): number {
  if (value === 0) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidArgumentError(field, `must be 1..${max} (0: ${fallback})`);
  return value;
}

function formatDuration(ms: number): string {
  const hours = ms / 3_600_000;
  return hours > 48 && hours % 24 === 0 ? `${hours / 24} days` : `${hours} hours`;
}
