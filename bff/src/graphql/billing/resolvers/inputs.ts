import type { Budget } from "@apgms/proto/apgms/billing/v1/campaign";
import type { OfferValue } from "@apgms/proto/apgms/billing/v1/offer";
import type { RedemptionTarget } from "@apgms/proto/apgms/billing/v1/transaction";
import type { Money } from "@apgms/proto/apgms/common/v1/money";
import { badInput } from "../../errors.js";

/** An input object as graphql-js hands it: optional fields may be absent or null. */
export type Nullable<T> = { [K in keyof T]?: T[K] | null };

/** null (sent) and absent mean the same to the service: not set. */
export const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

export const moneyIn = (m: Money | null | undefined): Money | undefined => (m ? { amountMinor: m.amountMinor, currency: m.currency } : undefined);

/**
 * Proto's oneofs take one member: graphql-js cannot say "exactly one", and
 * two set would reach the service as whichever it decodes last, so the edge
 * refuses both (none is the service's to refuse, in its own words).
 */
function onlyOne(field: string, names: string[], values: unknown[]): void {
  if (values.filter((v) => v !== undefined && v !== null).length > 1) throw badInput(field, `give ${names.join(" or ")}, not both`);
}

export function budgetIn(b: Nullable<{ spendMinor: number; redemptions: number }> | null | undefined): Budget | undefined {
  if (!b) return undefined;
  onlyOne("budget", ["spendMinor", "redemptions"], [b.spendMinor, b.redemptions]);
  return { spendMinor: opt(b.spendMinor), redemptions: opt(b.redemptions) };
}

export interface OfferValueArgs {
  percentOffBps?: number | null;
  amountOff?: Money | null;
  maxDiscount?: Money | null;
}

export function offerValueIn(v: OfferValueArgs): OfferValue {
  onlyOne("value", ["percentOffBps", "amountOff"], [v.percentOffBps, v.amountOff]);
  return { percentOffBps: opt(v.percentOffBps), amountOff: moneyIn(v.amountOff), maxDiscount: moneyIn(v.maxDiscount) };
}

export interface RedemptionArgs {
  code?: string | null;
  offerId?: string | null;
  customerRef: string;
  orderAmount: Money;
}

/** A code, or an offer's id for an offer without codes: the edge refuses neither and both in GraphQL's names (the service would say `target`). */
export function redemptionIn(input: RedemptionArgs): { target: RedemptionTarget; customerRef: string; orderAmount: Money | undefined } {
  onlyOne("code", ["code", "offerId"], [input.code, input.offerId]);
  if (input.code == null && input.offerId == null) throw badInput("code", "give code, or offerId for an offer without codes");
  return {
    target: input.code != null ? { code: input.code } : { offerId: input.offerId! },
    customerRef: input.customerRef,
    orderAmount: moneyIn(input.orderAmount),
  };
}
