import type { Campaign, Offer, Transaction } from "../generated/prisma/client.js";
import type { CampaignRow, OfferRow, TransactionRow } from "../domain/model.js";

/** A BigInt column as a number; amounts and counts never come near 2^53, and if one did it must not wrap silently. */
export function num(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) throw new RangeError(`value out of range: ${value}`);
  return Number(value);
}

const optNum = (value: bigint | null): number | null => (value === null ? null : num(value));

export function campaignRow(c: Campaign): CampaignRow {
  return {
    tenantId: c.tenantId,
    id: c.id,
    name: c.name,
    description: c.description,
    state: c.state,
    currency: c.currency,
    budgetKind: c.budgetKind,
    budgetLimit: optNum(c.budgetLimit),
    spentMinor: num(c.spentMinor),
    refundedMinor: num(c.refundedMinor),
    redemptionCount: num(c.redemptionCount),
    thresholdNotified: c.thresholdNotified,
    startAt: c.startAt,
    endAt: c.endAt,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

export function offerRow(o: Offer, sharedCode: string | null): OfferRow {
  return {
    tenantId: o.tenantId,
    id: o.id,
    campaignId: o.campaignId,
    name: o.name,
    valueKind: o.valueKind,
    percentBps: o.percentBps,
    amountOffMinor: optNum(o.amountOffMinor),
    maxDiscountMinor: optNum(o.maxDiscountMinor),
    codeKind: o.codeKind,
    sharedCode,
    maxRedemptions: num(o.maxRedemptions),
    maxPerCustomer: num(o.maxPerCustomer),
    minOrderMinor: optNum(o.minOrderMinor),
    startAt: o.startAt,
    endAt: o.endAt,
    enabled: o.enabled,
    redemptionCount: num(o.redemptionCount),
    codeCount: num(o.codeCount),
    codesRedeemed: num(o.codesRedeemed),
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
}

export function transactionRow(t: Transaction): TransactionRow {
  return {
    tenantId: t.tenantId,
    id: t.id,
    kind: t.kind,
    status: t.status,
    campaignId: t.campaignId,
    offerId: t.offerId,
    code: t.code,
    customerRef: t.customerRef,
    currency: t.currency,
    orderAmountMinor: optNum(t.orderAmountMinor),
    discountMinor: num(t.discountMinor),
    refundedMinor: num(t.refundedMinor),
    redemptionId: t.redemptionId,
    reason: t.reason,
    createdAt: t.createdAt,
  };
}
