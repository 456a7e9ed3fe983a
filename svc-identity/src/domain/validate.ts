import { InvalidArgumentError } from "@apgms/common";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SLUG = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// Deliberately simple: one @, no spaces, a dot in the domain. The OIDC provider owns real verification.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const NAME_MAX = 200;
export const EMAIL_MAX = 254;

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
const CONTROL = /[\u0000-\u001f\u007f]/;

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

export function slug(field: string, value: string): string {
  if (!SLUG.test(value)) {
    throw new InvalidArgumentError(field, "must be 3..63 lower-case letters, digits or '-', not starting or ending with '-'");
  }
  return value;
}

export function isEmail(value: string): boolean {
  const v = value.trim();
  return v.length > 0 && v.length <= EMAIL_MAX && EMAIL.test(v) && !CONTROL.test(v);
}

/** Emails are compared and stored lower-case. */
export function email(field: string, value: string): string {
  const v = value.trim().toLowerCase();
  if (v.length === 0) throw new InvalidArgumentError(field, "is required");
  if (v.length > EMAIL_MAX || !EMAIL.test(v) || CONTROL.test(v)) throw new InvalidArgumentError(field, "must be an email address");
  return v;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * An OIDC issuer: an absolute https URL without query or fragment (plain http
 * only on loopback, for the development issuer), at most 500 characters.
 */
export function issuerUrl(field: string, value: string): string {
  const v = text(field, value, 500);
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new InvalidArgumentError(field, "must be an https URL");
  }
  const secure = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!secure || url.search || url.hash || url.username || url.password) {
    throw new InvalidArgumentError(field, "must be an https URL without query, fragment or credentials");
  }
  return v;
}

/** A timestamp that, when set, must lie in the future. */
export function futureTime(field: string, value: Date | undefined, now = new Date()): Date | undefined {
  if (value === undefined) return undefined;
  if (Number.isNaN(value.getTime())) throw new InvalidArgumentError(field, "is not a valid time");
  if (value.getTime() <= now.getTime()) throw new InvalidArgumentError(field, "must be in the future");
  return value;
}
