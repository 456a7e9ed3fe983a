// Validation of an IngestEvents batch, item by item, into the column arrays
// insights.ingest_events() takes. A bad item is rejected with its index and
// reason; the batch goes on. Kept to a few checks and pushes per event: this
// is the per-event JS cost of ingestion.
import { InvalidArgumentError } from "@apgms/common";
import { CONTROL } from "@apgms/common/validate";
import type { Event, RejectedEvent } from "@apgms/proto/apgms/insights/v1/event";
import { typedValue, type AttributeType } from "./attribute-value.js";
import {
  MAX_ATTRIBUTES,
  MAX_BATCH_EVENTS,
  MAX_FUTURE_SKEW_MS,
  MAX_ID_LENGTH,
  MAX_STRING_VALUE_LENGTH,
  MAX_SUBJECT_LENGTH,
  MIN_EVENT_TIME_MS,
} from "./limits.js";

/** Event names: 1..100 of letters, digits and `_ . : -`. */
export const EVENT_NAME = /^[A-Za-z0-9_.:-]{1,100}$/;
/** Attribute keys: a letter or `_`, then up to 63 letters, digits and `_ . -`. */
export const ATTRIBUTE_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** The batch as columns: event i is (ids[i], names[i], times[i], subjects[i]); attribute a belongs to event attrEvent[a] (1-based). */
export interface EventColumns {
  ids: string[];
  names: string[];
  /** Epoch milliseconds. */
  times: number[];
  subjects: string[];
  attrEvent: number[];
  keys: string[];
  types: AttributeType[];
  strings: (string | null)[];
  numbers: (number | null)[];
  bools: (boolean | null)[];
}

export interface ValidatedBatch {
  columns: EventColumns;
  /** Valid items whose id came earlier in the same batch. */
  repeated: number;
  rejected: RejectedEvent[];
}

class Rejection {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {}
}

function checkText(field: string, value: string, max: number): Rejection | undefined {
  if (value.length === 0) return new Rejection(field, "is required");
  if (value.length > max) return new Rejection(field, `must be at most ${max} characters`);
  if (CONTROL.test(value)) return new Rejection(field, "must not contain control characters");
  return undefined;
}

/** Refuses a batch over the limit as a whole; otherwise validates each item. `now`: the service's clock (epoch ms). */
export function validateBatch(events: readonly Event[], now: number): ValidatedBatch {
  if (events.length === 0) throw new InvalidArgumentError("events", "must hold at least one event");
  if (events.length > MAX_BATCH_EVENTS) throw new InvalidArgumentError("events", `must hold at most ${MAX_BATCH_EVENTS} events (got ${events.length}); split the batch`);
  const columns: EventColumns = { ids: [], names: [], times: [], subjects: [], attrEvent: [], keys: [], types: [], strings: [], numbers: [], bools: [] };
  const rejected: RejectedEvent[] = [];
  const seen = new Set<string>();
  let repeated = 0;
  const latest = now + MAX_FUTURE_SKEW_MS;
  for (let index = 0; index < events.length; index++) {
    const event = events[index]!;
    const problem = checkEvent(event, latest);
    if (problem) {
      rejected.push({ index, id: event.id, field: problem.field, reason: problem.reason });
      continue;
    }
    if (seen.has(event.id)) {
      repeated++;
      continue;
    }
    seen.add(event.id);
    append(columns, event);
  }
  return { columns, repeated, rejected };
}

function checkEvent(event: Event, latest: number): Rejection | undefined {
  const idProblem = checkText("id", event.id, MAX_ID_LENGTH);
  if (idProblem) return idProblem;
  if (!EVENT_NAME.test(event.name)) return new Rejection("name", "must be 1..100 characters of letters, digits and _ . : -");
  const time = event.occurTime?.getTime();
  if (time === undefined || Number.isNaN(time)) return new Rejection("occur_time", "is required");
  if (time < MIN_EVENT_TIME_MS) return new Rejection("occur_time", "must be after 2000-01-01T00:00:00Z");
  if (time > latest) return new Rejection("occur_time", `must be at most ${MAX_FUTURE_SKEW_MS / 3_600_000} hours ahead of the service's clock`);
  const subjectProblem = checkText("subject_id", event.subjectId, MAX_SUBJECT_LENGTH);
  if (subjectProblem) return subjectProblem;
  let count = 0;
  for (const key in event.attributes) {
    if (++count > MAX_ATTRIBUTES) return new Rejection("attributes", `must hold at most ${MAX_ATTRIBUTES} attributes`);
    const field = `attributes[${key}]`;
    if (!ATTRIBUTE_KEY.test(key)) return new Rejection(field, "key must be 1..64 characters: a letter or _, then letters, digits and _ . -");
    const value = typedValue(event.attributes[key]);
    if (typeof value === "string") return new Rejection(field, value);
    if (value.type === "string") {
      if (value.value.length > MAX_STRING_VALUE_LENGTH) return new Rejection(field, `must be at most ${MAX_STRING_VALUE_LENGTH} characters`);
      if (value.value.includes("\u0000")) return new Rejection(field, "must not contain NUL");
    } else if (value.type === "number" && !Number.isFinite(value.value)) {
      return new Rejection(field, "must be a finite number");
    }
  }
  return undefined;
}

/** Adds a checked event to the columns. */
function append(c: EventColumns, event: Event): void {
  c.ids.push(event.id);
  c.names.push(event.name);
  c.times.push(event.occurTime!.getTime());
  c.subjects.push(event.subjectId);
  const position = c.ids.length;
  for (const key in event.attributes) {
    const v = event.attributes[key]!;
    c.attrEvent.push(position);
    c.keys.push(key);
    if (v.stringValue !== undefined) {
      c.types.push("string");
      c.strings.push(v.stringValue);
      c.numbers.push(null);
      c.bools.push(null);
    } else if (v.numberValue !== undefined) {
      c.types.push("number");
      c.strings.push(null);
      c.numbers.push(v.numberValue);
      c.bools.push(null);
    } else {
      c.types.push("boolean");
      c.strings.push(null);
      c.numbers.push(null);
      c.bools.push(v.boolValue!);
    }
  }
}
