// The rows handlers work with: Prisma's rows with BigInt counters as numbers
// (amounts in minor units stay far below 2^53; db/rows.ts checks) so they
// cache as JSON and map straight to proto (int64 as number).
import type { BudgetKind, CampaignState, CodeKind, OfferValueKind, TransactionKind, TransactionStatus } from "../generated/prisma/client.js";

export type { BudgetKind, CampaignState, CodeKind, OfferValueKind, TransactionKind, TransactionStatus };

export interface CampaignRow {
  tenantId: string;
  id: string;
  name: string;
  description: string;
  state: CampaignState;
  currency: string;
  budgetKind: BudgetKind;
  budgetLimit: number | null;
  spentMinor: number;
  refundedMinor: number;
  redemptionCount: number;
  thresholdNotified: number;
  startAt: Date | null;
  endAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface OfferRow {
  tenantId: string;
  id: string;
  campaignId: string;
  name: string;
  valueKind: OfferValueKind;
  percentBps: number | null;
  amountOffMinor: number | null;
  maxDiscountMinor: number | null;
  codeKind: CodeKind;
  /** The shared code (CODE_KIND_SHARED), from the codes table. */
  sharedCode: string | null;
  maxRedemptions: number;
  maxPerCustomer: number;
  minOrderMinor: number | null;
  startAt: Date | null;
  endAt: Date | null;
  enabled: boolean;
  redemptionCount: number;
  codeCount: number;
  codesRedeemed: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface TransactionRow {
  tenantId: string;
  id: string;
  kind: TransactionKind;
  status: TransactionStatus;
  campaignId: string;
  offerId: string;
  code: string | null;
  customerRef: string;
  currency: string;
  orderAmountMinor: number | null;
  discountMinor: number;
  refundedMinor: number;
  redemptionId: string | null;
  reason: string;
  createdAt: Date;
}

export const CAMPAIGN_TIMES = ["startAt", "endAt", "createdAt", "updatedAt"] as const;
export const OFFER_TIMES = ["startAt", "endAt", "createdAt", "updatedAt"] as const;
