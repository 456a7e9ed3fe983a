import { withTenant } from "@apgms/common";
import type { Campaign } from "../generated/prisma/client.js";
import type { Tx } from "../db/client.js";
import { recordEvent } from "../db/outbox.js";
import { campaignRow } from "../db/rows.js";
import { totalsToProto } from "./catalog-to-proto.js";
import type { HandlerDeps } from "./scope.js";

/**
 * Announces the budget threshold (50, 80, 90 or 100 %) a redemption crossed:
 * billing.redeem() marks it pending on the campaign in the redemption's own
 * transaction; this moves it to "notified" and writes `budget.threshold_reached`
 * to the outbox in one transaction, so it is announced once. Called right
 * after the redemption, and by the schedule sweep for any a crash left behind.
 */
export async function announceThresholdIn(db: Tx, tenantId: string, campaignId: string): Promise<boolean> {
  const [row] = await db.$queryRaw<Campaign[]>`
    UPDATE billing.campaigns SET threshold_notified = threshold_pending, threshold_pending = 0
     WHERE tenant_id = ${tenantId}::uuid AND id = ${campaignId}::uuid AND threshold_pending > threshold_notified
     RETURNING tenant_id AS "tenantId", id, name, description, state, currency, budget_kind AS "budgetKind", budget_limit AS "budgetLimit",
               spent_minor AS "spentMinor", refunded_minor AS "refundedMinor", redemption_count AS "redemptionCount",
               threshold_notified AS "thresholdNotified", threshold_pending AS "thresholdPending", start_at AS "startAt", end_at AS "endAt",
               created_at AS "createdAt", updated_at AS "updatedAt"`;
  if (!row) return false;
  const campaign = campaignRow(row);
  await recordEvent(db, tenantId, campaignId, "budget.threshold_reached", {
    budgetThreshold: { campaignId, percent: campaign.thresholdNotified, totals: totalsToProto(campaign) },
  });
  return true;
}

export async function announceThreshold(deps: Pick<HandlerDeps, "prisma" | "outbox">, tenantId: string, campaignId: string): Promise<boolean> {
  const announced = await withTenant<Tx, boolean>(deps.prisma, tenantId, (db) => announceThresholdIn(db, tenantId, campaignId));
  if (announced) deps.outbox.wake();
  return announced;
}
