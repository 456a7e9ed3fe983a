import { InvalidArgumentError } from "@apgms/common";

/** IANA names only ("Europe/Berlin", "Etc/GMT+5", "UTC"): Postgres reads "+05:30" as a POSIX zone with the sign reversed. */
const IANA = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;

/**
 * Names already found valid. Checking one builds an Intl.DateTimeFormat (~80 µs,
 * the largest cost of a cached answer); there are only a few hundred zones, and
 * the bound keeps junk that happens to be valid from growing the set.
 */
const known = new Set<string>();
const KNOWN_MAX = 2_000;

/** A request's time zone: "" is UTC; an unknown name is INVALID_ARGUMENT. */
export function timeZone(field: string, value: string): string {
  if (value === "") return "UTC";
  if (known.has(value)) return value;
  if (value.length > 64 || !IANA.test(value)) throw new InvalidArgumentError(field, "must be an IANA time zone name, e.g. Europe/Berlin");
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
  } catch {
    throw new InvalidArgumentError(field, `unknown time zone ${JSON.stringify(value)}`);
  }
  if (known.size < KNOWN_MAX) known.add(value);
  return value;
}
