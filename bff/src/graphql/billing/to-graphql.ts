import type { Money } from "@apgms/proto/apgms/common/v1/money";
import { CampaignState, type Campaign } from "@apgms/proto/apgms/billing/v1/campaign";
import { CodeKind } from "@apgms/proto/apgms/billing/v1/offer";
import { RefusalReason, TransactionKind, TransactionStatus } from "@apgms/proto/apgms/billing/v1/transaction";

/**
 * A proto enum as GraphQL enum values: `CAMPAIGN_STATE_DRAFT = 1` becomes
 * `DRAFT` with the internal value 1, so resolvers see and return proto
 * values. UNSPECIFIED and UNRECOGNIZED have no GraphQL name: a service that
 * sent one would fail that field rather than invent a state.
 */
function enumValues(protoEnum: Record<string, string | number>, prefix: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(protoEnum)) {
    if (typeof value !== "number" || !name.startsWith(prefix) || name === `${prefix}UNSPECIFIED`) continue;
    out[name.slice(prefix.length)] = value;
  }
  return out;
}

/** The billing enums' resolvers (GraphQL name → proto value). */
export const billingEnums = {
  CampaignState: enumValues(CampaignState, "CAMPAIGN_STATE_"),
  CodeKind: enumValues(CodeKind, "CODE_KIND_"),
  TransactionKind: enumValues(TransactionKind, "TRANSACTION_KIND_"),
  TransactionStatus: enumValues(TransactionStatus, "TRANSACTION_STATUS_"),
  RefusalReason: enumValues(RefusalReason, "REFUSAL_REASON_"),
};

/** GraphQL's Money: unset (or without a currency, proto's empty message) is null. */
export const money = (m: Money | undefined): Money | null => (m && m.currency ? m : null);

/** Proto's empty string and 0 mean "none": GraphQL says null. */
export const orNull = <T extends string | number>(v: T | undefined): T | null => (v === undefined || v === "" || v === 0 ? null : v);

export const timeOrNull = (d: Date | undefined): Date | null => d ?? null;

/** A campaign's budget: spend in the campaign's currency, or a number of redemptions; null when it has none. */
export function budget(c: Campaign): { spend: Money | null; redemptions: number | null } | null {
  const b = c.budget;
  if (b?.spendMinor !== undefined) return { spend: { amountMinor: b.spendMinor, currency: c.currency }, redemptions: null };
  if (b?.redemptions !== undefined) return { spend: null, redemptions: b.redemptions };
  return null;
}
