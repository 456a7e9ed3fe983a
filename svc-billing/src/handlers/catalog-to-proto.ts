import { CampaignState, type Budget, type Campaign, type CampaignTotals } from "@apgms/proto/apgms/billing/v1/campaign";
import { CodeKind, type Offer, type OfferCode, type OfferValue } from "@apgms/proto/apgms/billing/v1/offer";
import type { Money } from "@apgms/proto/apgms/common/v1/money";
import type { CodeRow } from "../db/codes.js";
import type { CampaignRow, OfferRow } from "../domain/model.js";

const time = (d: Date | null): Date | undefined => d ?? undefined;

const STATES: Record<CampaignRow["state"], CampaignState> = {
  draft: CampaignState.CAMPAIGN_STATE_DRAFT,
  scheduled: CampaignState.CAMPAIGN_STATE_SCHEDULED,
  active: CampaignState.CAMPAIGN_STATE_ACTIVE,
  paused: CampaignState.CAMPAIGN_STATE_PAUSED,
  ended: CampaignState.CAMPAIGN_STATE_ENDED,
};

const CODE_KINDS: Record<OfferRow["codeKind"], CodeKind> = {
  none: CodeKind.CODE_KIND_NONE,
  shared: CodeKind.CODE_KIND_SHARED,
  unique: CodeKind.CODE_KIND_UNIQUE,
};

/** The stored state of a proto state; undefined for UNSPECIFIED or an unknown value. */
export function stateFromProto(state: CampaignState): CampaignRow["state"] | undefined {
  return (Object.keys(STATES) as Array<CampaignRow["state"]>).find((s) => STATES[s] === state);
}

export function codeKindFromProto(kind: CodeKind): OfferRow["codeKind"] | undefined {
  return (Object.keys(CODE_KINDS) as Array<OfferRow["codeKind"]>).find((k) => CODE_KINDS[k] === kind);
}

function budgetToProto(c: CampaignRow): Budget | undefined {
  if (c.budgetKind === "spend" && c.budgetLimit !== null) return { spendMinor: c.budgetLimit };
  if (c.budgetKind === "redemptions" && c.budgetLimit !== null) return { redemptions: c.budgetLimit };
  return undefined;
}

export function campaignToProto(c: CampaignRow): Campaign {
  return {
    id: c.id,
    tenantId: c.tenantId,
    name: c.name,
    description: c.description,
    state: STATES[c.state],
    currency: c.currency,
    budget: budgetToProto(c),
    startTime: time(c.startAt),
    endTime: time(c.endAt),
    createTime: c.createdAt,
    updateTime: c.updatedAt,
  };
}

/** Totals from the campaign's own counters (kept by every redemption and refund). */
export function totalsToProto(c: CampaignRow): CampaignTotals {
  const money = (amountMinor: number): Money => ({ amountMinor, currency: c.currency });
  const limit = c.budgetLimit ?? 0;
  const used = c.budgetKind === "spend" ? c.spentMinor : c.budgetKind === "redemptions" ? c.redemptionCount : 0;
  return {
    campaignId: c.id,
    redemptions: c.redemptionCount,
    discountGiven: money(c.spentMinor),
    refunded: money(c.refundedMinor),
    budgetLeft: c.budgetKind === "spend" ? money(Math.max(0, limit - c.spentMinor)) : undefined,
    redemptionsLeft: c.budgetKind === "redemptions" ? Math.max(0, limit - c.redemptionCount) : undefined,
    budgetUsedRatio: c.budgetKind === "none" || limit <= 0 ? 0 : Math.min(1, Math.max(0, used / limit)),
  };
}

/** Only the offer's money fields need `currency` (its campaign's); a percentage-only offer maps without it. */
export function offerNeedsCurrency(o: OfferRow): boolean {
  return o.amountOffMinor !== null || o.maxDiscountMinor !== null || o.minOrderMinor !== null;
}

export function offerToProto(o: OfferRow, currency: string): Offer {
  const money = (amountMinor: number | null): Money | undefined => (amountMinor === null ? undefined : { amountMinor, currency });
  const value: OfferValue =
    o.valueKind === "percent"
      ? { percentOffBps: o.percentBps ?? 0, maxDiscount: money(o.maxDiscountMinor) }
      : { amountOff: money(o.amountOffMinor), maxDiscount: undefined };
  return {
    id: o.id,
    tenantId: o.tenantId,
    campaignId: o.campaignId,
    name: o.name,
    value,
    codeKind: CODE_KINDS[o.codeKind],
    sharedCode: o.sharedCode ?? "",
    maxRedemptions: o.maxRedemptions,
    maxPerCustomer: o.maxPerCustomer,
    minOrder: money(o.minOrderMinor),
    startTime: time(o.startAt),
    endTime: time(o.endAt),
    redemptionCount: o.redemptionCount,
    codeCount: o.codeKind === "unique" ? o.codeCount : 0,
    codesAvailable: o.codeKind === "unique" ? Math.max(0, o.codeCount - o.codesRedeemed) : 0,
    enabled: o.enabled,
    createTime: o.createdAt,
    updateTime: o.updatedAt,
  };
}

export function codeToProto(k: CodeRow): OfferCode {
  return {
    code: k.code,
    offerId: k.offerId,
    redeemed: k.redeemedAt !== null,
    transactionId: k.transactionId ?? "",
    redeemTime: time(k.redeemedAt),
  };
}
