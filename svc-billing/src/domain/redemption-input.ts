import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@apgms/common";
import { CONTROL, text, uuid } from "@apgms/common/validate";
import type { Money } from "@apgms/proto/apgms/common/v1/money";
import type { RedemptionTarget } from "@apgms/proto/apgms/billing/v1/transaction";
import { code } from "./codes.js";

export const CUSTOMER_REF_MAX = 200;
export const IDEMPOTENCY_KEY_MAX = 200;
const CURRENCY = /^[A-Z]{3}$/;

export type Target = { code: string; offerId?: undefined } | { offerId: string; code?: undefined };

export interface RedemptionInput {
  target: Target;
  customerRef: string;
  orderMinor: number;
  currency: string;
}

export function target(field: string, value: RedemptionTarget | undefined): Target {
  if (value?.code !== undefined && value.code !== "") return { code: code(`${field}.code`, value.code) };
  if (value?.offerId !== undefined && value.offerId !== "") return { offerId: uuid(`${field}.offer_id`, value.offerId) };
  throw new InvalidArgumentError(field, "needs a code or an offer_id");
}

/** A positive amount in minor units with an ISO 4217 code (the campaign's currency is checked where it is known). */
export function money(field: string, value: Money | undefined): { amountMinor: number; currency: string } {
  if (!value) throw new InvalidArgumentError(field, "is required");
  if (!Number.isSafeInteger(value.amountMinor) || value.amountMinor <= 0) throw new InvalidArgumentError(`${field}.amount_minor`, "must be a positive whole number of minor units");
  if (!CURRENCY.test(value.currency)) throw new InvalidArgumentError(`${field}.currency`, "must be an ISO 4217 code such as EUR");
  return { amountMinor: value.amountMinor, currency: value.currency };
}

export function redemptionInput(req: { target: RedemptionTarget | undefined; customerRef: string; orderAmount: Money | undefined }): RedemptionInput {
  const order = money("order_amount", req.orderAmount);
  return {
    target: target("target", req.target),
    customerRef: text("customer_ref", req.customerRef, CUSTOMER_REF_MAX),
    orderMinor: order.amountMinor,
    currency: order.currency,
  };
}

/** An optional idempotency key: "" means none. */
export function idempotencyKey(value: string): string | null {
  if (value === "") return null;
  if (value.length > IDEMPOTENCY_KEY_MAX) throw new InvalidArgumentError("idempotency_key", `must be at most ${IDEMPOTENCY_KEY_MAX} characters`);
  if (CONTROL.test(value)) throw new InvalidArgumentError("idempotency_key", "must not contain control characters");
  return value;
}

/** What a retry with the same key must repeat exactly: the operation and its parameters. */
export function requestHash(operation: string, parameters: unknown): string {
  return createHash("sha256").update(JSON.stringify([operation, parameters])).digest("base64url");
}
