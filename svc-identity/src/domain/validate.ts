import { InvalidArgumentError } from "@apgms/common";
import { CONTROL, text } from "@apgms/common/validate";

const SLUG = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;
// Deliberately simple: one @, no spaces, a dot in the domain. The OIDC provider owns real verification.
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const EMAIL_MAX = 254;

// The validators every service shares live in common; identity's own follow.
export { BATCH_MAX, CONTROL, isUuid, NAME_MAX, name, optionalName, optionalUuid, text, uuid, uuids } from "@apgms/common/validate";

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
