// Billing's own validators beside common's; each failure is an InvalidArgumentError naming the proto field.
import { InvalidArgumentError } from "@apgms/common";
import type { BudgetKind } from "./model.js";
import { amountMinor, MAX_MINOR } from "./money.js";

export { BATCH_MAX, name, optionalName, optionalUuid, text, uuid, uuids } from "@apgms/common/validate";

export const DESCRIPTION_MAX = 2_000;
// eslint-disable-next-line no-control-regex
const CONTROL_BUT_LINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** A description: optional, trimmed, up to 2,000 characters; line breaks and tabs allowed. */
export function description(field: string, value: string): string {
  const v = value.trim();
  if (CONTROL_BUT_LINES.test(v)) throw new InvalidArgumentError(field, "must not contain control characters");
  if (v.length > DESCRIPTION_MAX) throw new InvalidArgumentError(field, `must be at most ${DESCRIPTION_MAX} characters`);
  return v;
}

/** A count limit: a whole number ≥ 0 (0: no limit). */
export function limit(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new InvalidArgumentError(field, "must be a whole number, 0 or more (0: no limit)");
  if (value > MAX_MINOR) throw new InvalidArgumentError(field, `must be at most ${MAX_MINOR}`);
  return value;
}

/** A percentage in basis points: 1..10000 (10000 = 100%). */
export function percentBps(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 10_000) throw new InvalidArgumentError(field, "must be 1..10000 basis points (10000 = 100%)");
  return value;
}

/** A timestamp given or not; a malformed one is refused. */
export function time(field: string, value: Date | undefined): Date | undefined {
  if (value === undefined) return undefined;
  if (Number.isNaN(value.getTime())) throw new InvalidArgumentError(field, "is not a valid time");
  return value;
}

export function futureTime(field: string, value: Date | undefined, now = new Date()): Date | undefined {
  const t = time(field, value);
  if (t !== undefined && t.getTime() <= now.getTime()) throw new InvalidArgumentError(field, "must be in the future");
  return t;
}

/** A window's end must come after its start (when both are set). */
export function windowEnd(endField: string, start: Date | null | undefined, end: Date | null | undefined): void {
  if (start && end && end.getTime() <= start.getTime()) {
    throw new InvalidArgumentError(endField, `must be after the start time (${start.toISOString()})`);
  }
}

/** A changed window, checked naming the field that moved: the end when it did, else the start. */
export function changedWindow(start: Date | null, end: Date | null, endMoved: boolean): void {
  if (endMoved) return windowEnd("end_time", start, end);
  if (start && end && end.getTime() <= start.getTime()) {
    throw new InvalidArgumentError("start_time", `must be before the end time (${end.toISOString()})`);
  }
}

export interface BudgetInput {
  kind: Exclude<BudgetKind, "none">;
  limit: number;
}

/** A campaign budget: unset → undefined; set → exactly one of spend_minor, redemptions, positive. */
export function budget(field: string, value: { spendMinor?: number | undefined; redemptions?: number | undefined } | undefined): BudgetInput | undefined {
  if (value === undefined) return undefined;
  const { spendMinor, redemptions } = value;
  if (spendMinor !== undefined && redemptions !== undefined) throw new InvalidArgumentError(field, "set spend_minor or redemptions, not both");
  if (spendMinor !== undefined) return { kind: "spend", limit: amountMinor(`${field}.spend_minor`, spendMinor) };
  if (redemptions !== undefined) {
    if (!Number.isInteger(redemptions) || redemptions <= 0 || redemptions > MAX_MINOR) {
      throw new InvalidArgumentError(`${field}.redemptions`, "must be a positive whole number");
    }
    return { kind: "redemptions", limit: redemptions };
  }
  throw new InvalidArgumentError(field, "set spend_minor or redemptions (or leave the budget unset for none)");
}
