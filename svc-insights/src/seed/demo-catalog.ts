// Which campaigns and offers the demo events are about. Billing's demo catalog
// when its tables can be read (so a breakdown by campaign or offer shows the
// ids the rest of the platform uses, and redemptions billing publishes later
// line up with the seeded ones); else stable stand-in names.
//
// The one place svc-insights reads billing's tables, and only in this
// development seed, as billing's own role (BILLING_DATABASE_URL, under its
// row-level security): asking billing over gRPC would need a service
// credential and a running svc-billing, which `make seed-insights` does not.
import { TenantReader } from "@apgms/common";
import type { DemoOffer } from "./demo-events.js";

/** How the demo weighs billing's demo campaigns (svc-billing/src/seed.ts), by name. */
const PROFILE: Record<string, Pick<DemoOffer, "weight" | "appeal"> & { pausedDaysAgo?: number }> = {
  "Summer Sale": { weight: 5, appeal: 1 },
  "Welcome Offer": { weight: 3, appeal: 1.3 },
  "VIP Codes": { weight: 1.5, appeal: 1.6 },
  "Loyalty Boost": { weight: 1, appeal: 0.8, pausedDaysAgo: 9 },
};

/** Billing's demo offers as stand-ins (used when billing's tables cannot be read). */
export const FALLBACK_OFFERS: DemoOffer[] = [
  { campaign: "summer-sale", offer: "summer-15", weight: 5, appeal: 1, percentBps: 1_500, maxDiscountMinor: 3_000, withCode: true },
  { campaign: "welcome-offer", offer: "welcome-10", weight: 3, appeal: 1.3, amountOffMinor: 1_000, withCode: true },
  { campaign: "vip-codes", offer: "vip-25", weight: 1.5, appeal: 1.6, percentBps: 2_500, withCode: true },
  { campaign: "loyalty-boost", offer: "loyalty-5", weight: 1, appeal: 0.8, amountOffMinor: 500, withCode: false },
];

interface OfferRow {
  campaign_id: string;
  campaign_name: string;
  state: string;
  offer_id: string;
  value_kind: string;
  percent_bps: number | null;
  amount_off_minor: number | null;
  max_discount_minor: number | null;
  code_kind: string;
}

const OFFERS = `
  SELECT c.id::text AS campaign_id, c.name AS campaign_name, c.state::text AS state, o.id::text AS offer_id,
         o.value_kind::text AS value_kind, o.percent_bps, o.amount_off_minor::float8 AS amount_off_minor,
         o.max_discount_minor::float8 AS max_discount_minor, o.code_kind::text AS code_kind
    FROM billing.campaigns c JOIN billing.offers o ON o.tenant_id = c.tenant_id AND o.campaign_id = c.id
   WHERE c.tenant_id = $1::uuid AND c.state IN ('active', 'paused')
   ORDER BY c.created_at, c.id, o.created_at, o.id`;

/** The offers of the tenant's active and paused campaigns in billing (a paused one stopped some days ago), for a window of `days`. */
export function offersFromRows(rows: readonly OfferRow[], days: number): DemoOffer[] {
  return rows.map((r) => {
    const profile = PROFILE[r.campaign_name] ?? { weight: 1, appeal: 1 };
    const offer: DemoOffer = {
      campaign: r.campaign_id,
      offer: r.offer_id,
      weight: profile.weight,
      appeal: profile.appeal,
      withCode: r.code_kind !== "none",
    };
    if (r.value_kind === "percent") offer.percentBps = r.percent_bps ?? 0;
    else offer.amountOffMinor = r.amount_off_minor ?? 0;
    if (r.max_discount_minor !== null) offer.maxDiscountMinor = r.max_discount_minor;
    if (r.state === "paused") offer.untilDay = Math.max(1, days - (profile.pausedDaysAgo ?? 7));
    return offer;
  });
}

export type CatalogSource = { offers: DemoOffer[]; from: "billing" | "stand-ins"; note?: string };

/** Billing's offers of the tenant, or the stand-ins (saying why). */
export async function demoCatalog(billingDatabaseUrl: string | undefined, tenantId: string, days: number): Promise<CatalogSource> {
  if (!billingDatabaseUrl) return { offers: FALLBACK_OFFERS, from: "stand-ins", note: "BILLING_DATABASE_URL is not set" };
  const billing = new TenantReader({ databaseUrl: billingDatabaseUrl, max: 1 });
  try {
    const rows = await billing.query<OfferRow>(tenantId, OFFERS, [tenantId]);
    if (rows.length === 0) return { offers: FALLBACK_OFFERS, from: "stand-ins", note: "billing has no active or paused campaign for the tenant" };
    return { offers: offersFromRows(rows, days), from: "billing" };
  } catch (err) {
    return { offers: FALLBACK_OFFERS, from: "stand-ins", note: `billing's tables could not be read (${(err as Error).message})` };
  } finally {
    await billing.close();
  }
}
