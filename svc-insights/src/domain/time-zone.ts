import { InvalidArgumentError } from "@apgms/common";

/** IANA names only ("Europe/Berlin", "Etc/GMT+5", "UTC"): Postgres reads "+05:30" as a POSIX zone with the sign reversed. */
const IANA = /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/;

/** A request's time zone: "" is UTC; an unknown name is INVALID_ARGUMENT. */
export function timeZone(field: string, value: string): string {
  if (value === "") return "UTC";
  if (value.length > 64 || !IANA.test(value)) throw new InvalidArgumentError(field, "must be an IANA time zone name, e.g. Europe/Berlin");
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: value });
  } catch {
    throw new InvalidArgumentError(field, `unknown time zone ${JSON.stringify(value)}`);
  }
  return value;
}
