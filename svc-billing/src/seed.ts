// Seeds the demo tenant's billing data (a development convenience, run by
// `make seed` / `make dev`): campaigns in every state with their offers, a
// shared code, a batch of unique codes; and, with `--transactions N` (run by
// `make dev` after its banner, in the background), N historical redemptions
// over the last 90 days, in batches with progress, so lists and totals look
// real. Idempotent: what exists is left alone; transactions are topped up to N.
// Seeded history is not announced on NATS (it happened "before").
import { readFileSync } from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { env, loadConfig, withTenant } from "@apgms/common";
import { z } from "zod";
import { DATABASE_SCHEMA } from "./config.js";
import { createPrisma, type Tx } from "./db/client.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import type { BudgetKind, CampaignState, CodeKind, OfferValueKind } from "./domain/model.js";

const seedSchema = z.object({
  DATABASE_URL: env.url(),
  /** The demo tenant's id, or the file svc-identity's seed wrote it to. */
  DEMO_TENANT_ID: z.string().uuid().optional(),
  DEMO_TENANT_FILE: z.string().min(1).default(".dev/demo-tenant-id"),
});

interface OfferSeed {
  name: string;
  valueKind: OfferValueKind;
  percentBps?: number;
  amountOffMinor?: number;
  maxDiscountMinor?: number;
  codeKind: CodeKind;
  sharedCode?: string;
  uniqueCodes?: number;
  maxPerCustomer?: number;
  minOrderMinor?: number;
  /** Share of the seeded transactions (0 for none). */
  weight: number;
}

interface CampaignSeed {
  name: string;
  description: string;
  state: CampaignState;
  budget?: { kind: Exclude<BudgetKind, "none">; limit: number };
  startInDays?: number;
  endInDays?: number;
  offers: OfferSeed[];
}

const DAY = 86_400_000;

/** The demo catalog: one campaign in each state and a few active ones, in EUR. */
export const DEMO_CAMPAIGNS: CampaignSeed[] = [
  {
    name: "Summer Sale",
    description: "15% off everything, capped at 30 EUR",
    state: "active",
    budget: { kind: "spend", limit: 40_000_000 },
    startInDays: -90,
    offers: [{ name: "Summer 15%", valueKind: "percent", percentBps: 1_500, maxDiscountMinor: 3_000, codeKind: "shared", sharedCode: "SUMMER15", weight: 5 }],
  },
  {
    name: "Welcome Offer",
    description: "10 EUR off a first order over 50 EUR",
    state: "active",
    startInDays: -120,
    offers: [{ name: "Welcome 10", valueKind: "amount", amountOffMinor: 1_000, minOrderMinor: 5_000, maxPerCustomer: 1, codeKind: "shared", sharedCode: "WELCOME10", weight: 3 }],
  },
  {
    name: "VIP Codes",
    description: "single-use codes for the VIP list",
    state: "active",
    budget: { kind: "redemptions", limit: 5_000 },
    offers: [{ name: "VIP 25%", valueKind: "percent", percentBps: 2_500, codeKind: "unique", uniqueCodes: 2_000, weight: 0 }],
  },
  {
    name: "Loyalty Boost",
    description: "paused while the loyalty rules are reviewed",
    state: "paused",
    budget: { kind: "spend", limit: 10_000_000 },
    offers: [{ name: "Loyalty 5 EUR", valueKind: "amount", amountOffMinor: 500, codeKind: "none", weight: 1 }],
  },
  {
    name: "Winter Clearance",
    description: "last winter's clearance",
    state: "ended",
    startInDays: -200,
    endInDays: -100,
    offers: [{ name: "Clearance 30%", valueKind: "percent", percentBps: 3_000, codeKind: "shared", sharedCode: "WINTER30", weight: 1 }],
  },
  {
    name: "Black Friday",
    description: "starts next week",
    state: "scheduled",
    budget: { kind: "spend", limit: 50_000_000 },
    startInDays: 7,
    endInDays: 10,
    offers: [{ name: "Black Friday 40%", valueKind: "percent", percentBps: 4_000, maxDiscountMinor: 10_000, codeKind: "shared", sharedCode: "BLACKFRIDAY", weight: 0 }],
  },
  {
    name: "Spring Preview",
    description: "a draft for next spring",
    state: "draft",
    offers: [{ name: "Spring 20%", valueKind: "percent", percentBps: 2_000, codeKind: "none", weight: 0 }],
  },
];

const CHARSET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
function vipCode(): string {
  const bytes = randomBytes(8);
  return `VIP-${Array.from(bytes, (b) => CHARSET[b % CHARSET.length]).join("")}`;
}

export function demoTenantId(config: z.infer<typeof seedSchema>): string {
  if (config.DEMO_TENANT_ID) return config.DEMO_TENANT_ID;
  const file = path.resolve(config.DEMO_TENANT_FILE);
  const id = readFileSync(file, "utf8").trim();
  if (!z.string().uuid().safeParse(id).success) throw new Error(`${file} does not hold a tenant id; run svc-identity's seed first`);
  return id;
}

/** The catalog: campaigns and offers by name, created when missing. */
export async function seedCatalog(prisma: PrismaClient, tenantId: string): Promise<string[]> {
  const lines: string[] = [];
  const now = Date.now();
  for (const c of DEMO_CAMPAIGNS) {
    await withTenant<Tx, void>(prisma, tenantId, async (db) => {
      const existing = await db.campaign.findFirst({ where: { tenantId, name: c.name } });
      if (existing) {
        lines.push(`campaign ${c.name} (${existing.state}) exists`);
        return;
      }
      const campaignId = randomUUID();
      await db.campaign.create({
        data: {
          tenantId,
          id: campaignId,
          name: c.name,
          description: c.description,
          state: c.state,
          currency: "EUR",
          budgetKind: c.budget?.kind ?? "none",
          budgetLimit: c.budget ? BigInt(c.budget.limit) : null,
          startAt: c.startInDays === undefined ? null : new Date(now + c.startInDays * DAY),
          endAt: c.endInDays === undefined ? null : new Date(now + c.endInDays * DAY),
          createdAt: new Date(now - 150 * DAY + DEMO_CAMPAIGNS.indexOf(c) * DAY),
        },
      });
      for (const o of c.offers) {
        const offerId = randomUUID();
        await db.offer.create({
          data: {
            tenantId,
            id: offerId,
            campaignId,
            name: o.name,
            valueKind: o.valueKind,
            percentBps: o.percentBps ?? null,
            amountOffMinor: o.amountOffMinor === undefined ? null : BigInt(o.amountOffMinor),
            maxDiscountMinor: o.maxDiscountMinor === undefined ? null : BigInt(o.maxDiscountMinor),
            codeKind: o.codeKind,
            maxPerCustomer: BigInt(o.maxPerCustomer ?? 0),
            minOrderMinor: o.minOrderMinor === undefined ? null : BigInt(o.minOrderMinor),
            codeCount: BigInt(o.uniqueCodes ?? 0),
          },
        });
        if (o.sharedCode) await db.code.create({ data: { tenantId, code: o.sharedCode, offerId, shared: true } });
        if (o.uniqueCodes) {
          const codes = new Set<string>();
          while (codes.size < o.uniqueCodes) codes.add(vipCode());
          await db.code.createMany({ data: [...codes].map((code) => ({ tenantId, code, offerId })), skipDuplicates: true });
        }
      }
      lines.push(`campaign ${c.name} (${c.state}) created with ${c.offers.length} offer(s)`);
    });
  }
  return lines;
}

/**
 * Tops the demo tenant's redemptions up to `target`, in batches of `batch`,
 * spread over the offers by weight and over the last 90 days; each batch also
 * adds its counts and discounts to the offers', customers' and campaigns'
 * counters, in the same transaction, so totals and limits agree with the rows
 * (a seeded customer may exceed an offer's per-customer limit: history was made
 * before the limit, as an imported history would be).
 */
export async function seedTransactions(prisma: PrismaClient, tenantId: string, target: number, batch = 2_000, progress: (done: number, total: number) => void = () => {}): Promise<number> {
  const offers = await withTenant<Tx, Array<{ id: string; name: string }>>(prisma, tenantId, (db) =>
    db.offer.findMany({ where: { tenantId, name: { in: DEMO_CAMPAIGNS.flatMap((c) => c.offers.filter((o) => o.weight > 0).map((o) => o.name)) } }, select: { id: true, name: true } }),
  );
  const weights = offers.map((o) => DEMO_CAMPAIGNS.flatMap((c) => c.offers).find((s) => s.name === o.name)!.weight);
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  let done = await withTenant<Tx, number>(prisma, tenantId, (db) => db.transaction.count({ where: { tenantId, kind: "redemption" } }));
  while (done < target && totalWeight > 0) {
    const size = Math.min(batch, target - done);
    await withTenant<Tx, void>(prisma, tenantId, async (db) => {
      for (let i = 0; i < offers.length; i++) {
        const n = Math.round((size * weights[i]!) / totalWeight);
        if (n === 0) continue;
        // Discounts as billing.redeem() computes them: a percentage rounded down and capped, an amount never above the order.
        await db.$executeRaw`
          WITH made AS (
            INSERT INTO billing.transactions (tenant_id, id, kind, status, campaign_id, offer_id, code, customer_ref, currency,
                                              order_amount_minor, discount_minor, created_at)
            SELECT o.tenant_id, gen_random_uuid(), 'redemption', 'completed', o.campaign_id, o.id, sc.code,
                   'customer-' || (floor(random() * 20000))::int, 'EUR', g.amount,
                   LEAST(g.amount, COALESCE(o.max_discount_minor, 9223372036854775807),
                         CASE WHEN o.value_kind = 'percent' THEN g.amount * o.percent_bps / 10000 ELSE o.amount_off_minor END),
                   now() - random() * interval '90 days'
              FROM billing.offers o
              LEFT JOIN billing.codes sc ON sc.tenant_id = o.tenant_id AND sc.offer_id = o.id AND sc.shared
              CROSS JOIN LATERAL (SELECT 5000 + floor(random() * 20000)::bigint AS amount FROM generate_series(1, ${n}::int)) g
             WHERE o.tenant_id = ${tenantId}::uuid AND o.id = ${offers[i]!.id}::uuid
            RETURNING campaign_id, offer_id, customer_ref, discount_minor
          ), customers AS (
            INSERT INTO billing.customer_redemptions (tenant_id, offer_id, customer_ref, count)
            SELECT ${tenantId}::uuid, offer_id, customer_ref, count(*) FROM made GROUP BY offer_id, customer_ref
            ON CONFLICT (tenant_id, offer_id, customer_ref) DO UPDATE SET count = billing.customer_redemptions.count + excluded.count
          ), sums AS (SELECT campaign_id, count(*) AS n, sum(discount_minor) AS spent FROM made GROUP BY campaign_id),
          offer_up AS (
            UPDATE billing.offers SET redemption_count = redemption_count + (SELECT n FROM sums)
             WHERE tenant_id = ${tenantId}::uuid AND id = ${offers[i]!.id}::uuid
          )
          UPDATE billing.campaigns c SET redemption_count = c.redemption_count + s.n, spent_minor = c.spent_minor + s.spent
            FROM sums s WHERE c.tenant_id = ${tenantId}::uuid AND c.id = s.campaign_id`;
        done += n;
      }
    });
    progress(Math.min(done, target), target);
  }
  return done;
}

async function main(): Promise<void> {
  const config = loadConfig(seedSchema);
  const prisma = createPrisma({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA, maxConnections: 2 });
  try {
    const tenantId = demoTenantId(config);
    const flag = process.argv.indexOf("--transactions");
    if (flag >= 0) {
      const target = Number(process.argv[flag + 1] ?? "30000");
      if (!Number.isInteger(target) || target < 0) throw new Error("--transactions needs a whole number");
      const t0 = Date.now();
      const done = await seedTransactions(prisma, tenantId, target, 2_000, (n, total) => process.stdout.write(`transactions ${n}/${total} (${Math.round((n * 100) / total)}%)\n`));
      process.stdout.write(`transactions: the demo tenant has ${done} redemptions (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    } else {
      const lines = await seedCatalog(prisma, tenantId);
      process.stdout.write(`svc-billing seed:\n  ${lines.join("\n  ")}\n`);
    }
  } finally {
    await prisma.$disconnect();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`svc-billing seed failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
