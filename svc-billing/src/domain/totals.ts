import type { CampaignTotals } from "@apgms/proto/apgms/billing/v1/campaign";
import type { CampaignRow } from "./model.js";

/** A campaign's totals, from the counters its row keeps (every redemption and refund updates them in its transaction). */
export function campaignTotals(c: CampaignRow): CampaignTotals {
  const money = (amountMinor: number) => ({ amountMinor, currency: c.currency });
  const limit = c.budgetLimit ?? 0;
  const used = c.budgetKind === "spend" ? c.spentMinor : c.budgetKind === "redemptions" ? c.redemptionCount : 0;
  return {
    campaignId: c.id,
    redemptions: c.redemptionCount,
    discountGiven: money(c.spentMinor),
    refunded: money(c.refundedMinor),
    budgetLeft: c.budgetKind === "spend" ? money(Math.max(0, limit - c.spentMinor)) : undefined,
    redemptionsLeft: c.budgetKind === "redemptions" ? Math.max(0, limit - c.redemptionCount) : undefined,
    budgetUsedRatio: c.budgetKind !== "none" && limit > 0 ? Math.min(1, used / limit) : 0,
  };
}
