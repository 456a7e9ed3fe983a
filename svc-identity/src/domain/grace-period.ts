import { InvalidArgumentError } from "@apgms/common";

/** The longest a rotated API key's old secret may keep working. */
export const MAX_GRACE_SECONDS = 30 * 86_400;

/** grace_period_seconds of a rotation: 0 → the default; otherwise at most 30 days. */
export function gracePeriod(field: string, seconds: number, fallback: number): number {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > MAX_GRACE_SECONDS) {
    throw new InvalidArgumentError(field, `must be between 0 and ${MAX_GRACE_SECONDS} seconds (30 days)`);
  }
  return seconds === 0 ? fallback : seconds;
}
