// Validation every service's handlers share: ids, batches of ids, texts. A
// failure is an InvalidArgumentError naming the proto field at fault, which
// the edge maps to its GraphQL argument (bff/src/graphql/errors.ts).
import { InvalidArgumentError } from "./errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const NAME_MAX = 200;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A required id; returns it lower-cased. */
export function uuid(field: string, value: string): string {
  if (!value) throw new InvalidArgumentError(field, "is required");
  if (!isUuid(value)) throw new InvalidArgumentError(field, "must be a UUID");
  return value.toLowerCase();
}

/** Most ids a BatchGet… call takes. */
export const BATCH_MAX = 500;

/** A batch of ids (each a UUID, at most `max`); returns them lower-cased, without duplicates. */
export function uuids(field: string, values: readonly string[], max: number): string[] {
  if (values.length > max) throw new InvalidArgumentError(field, `must hold at most ${max} ids`);
  return [...new Set(values.map((value, i) => uuid(`${field}[${i}]`, value)))];
}

/** An optional id filter: "" means none. */
export function optionalUuid(field: string, value: string): string | undefined {
  return value === "" ? undefined : uuid(field, value);
}

// Postgres text cannot hold NUL, and no name or identifier needs a control character.
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f]/;

/** A trimmed, non-empty text of at most `max` characters, without control characters. */
export function text(field: string, value: string, max = NAME_MAX): string {
  const v = value.trim();
  if (v.length === 0) throw new InvalidArgumentError(field, "is required");
  if (CONTROL.test(v)) throw new InvalidArgumentError(field, "must not contain control characters");
  if (v.length > max) throw new InvalidArgumentError(field, `must be at most ${max} characters`);
  return v;
}

/** A display name: 1..200 characters once trimmed. */
export function name(field: string, value: string): string {
  return text(field, value, NAME_MAX);
}

export function optionalName(field: string, value: string | undefined): string | undefined {
  return value === undefined ? undefined : name(field, value);
}

