import path from "node:path";
import { randomUUID } from "node:crypto";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase } from "@apgms/common/testing/database";
import { Granularity, Metric } from "@apgms/proto/apgms/insights/v1/analytics";
import { expect } from "chai";
import { Client } from "pg";
import { DEMO_DAYS } from "../src/seed.js";
import { demoCatalog, FALLBACK_OFFERS } from "../src/seed/demo-catalog.js";
import { loadDemoEvents } from "../src/seed/load-events.js";
import { startHarness, type Harness } from "./harness.js";

const DAY = 86_400_000;

describe("the insights demo seed", function () {
  this.timeout(120_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("insights_seed");
  });
  after(async () => {
    await h?.stop();
  });

  it("loads exactly N funnel events over 30 days through ingestion, and a second run stores nothing", async () => {
    const { tenantId, ctx } = h.tenant();
    const end = Date.now();
    const plan = { total: 20_000, end, days: DEMO_DAYS, offers: FALLBACK_OFFERS };
    const progress: number[] = [];
    const first = await loadDemoEvents({ writer: h.reader, tenantId, plan, cache: h.cache.cache, progress: (sent) => progress.push(sent) });
    expect(first).to.include({ sent: 20_000, stored: 20_000, complete: false });
    expect(progress).to.deep.equal([5_000, 10_000, 15_000, 20_000]);

    const byName = await h.prisma.event.groupBy({ by: ["name"], where: { tenantId }, _count: true });
    const count = Object.fromEntries(byName.map((r) => [r.name, r._count]));
    expect(Object.keys(count).sort()).to.deep.equal(["offer.clicked", "offer.redeemed", "offer.viewed"]);
    expect(count["offer.viewed"]! + count["offer.clicked"]! + count["offer.redeemed"]!).to.equal(20_000);
    // A funnel that narrows: some of the views are clicked, some of the clicks redeemed.
    expect(count["offer.clicked"]! / count["offer.viewed"]!).to.be.within(0.05, 0.3);
    expect(count["offer.redeemed"]! / count["offer.clicked"]!).to.be.within(0.1, 0.6);
    const rollups = await h.prisma.rollupCount.aggregate({ where: { tenantId }, _sum: { count: true } });
    expect(Number(rollups._sum.count)).to.equal(20_000);

    // Thirty days up to now, every day busy, weekends busier than weekdays on average.
    const span = await h.prisma.event.aggregate({ where: { tenantId }, _min: { occurredAt: true }, _max: { occurredAt: true } });
    expect(span._max.occurredAt!.getTime()).to.be.below(end);
    expect(span._min.occurredAt!.getTime()).to.be.above(end - (DEMO_DAYS + 1) * DAY);
    const daily = await h.analytics.timeSeries(
      {
        eventName: "offer.viewed",
        metric: Metric.METRIC_COUNT,
        sumAttribute: "",
        granularity: Granularity.GRANULARITY_DAY,
        startTime: new Date(end - (DEMO_DAYS - 1) * DAY),
        endTime: new Date(end - DAY),
        timeZone: "Europe/Berlin",
        filters: [],
        splitBy: "",
        splitLimit: 0,
      },
      ctx,
    );
    const points = daily.series[0]!.bucketStarts.map((start, i) => ({ startTime: new Date(start * 1000), value: daily.series[0]!.values[i]! }));
    expect(points.every((p) => p.value > 0)).to.equal(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const isWeekend = (d: Date) => [0, 6].includes(new Date(d.getTime() + 12 * 3_600_000).getUTCDay());
    expect(mean(points.filter((p) => isWeekend(p.startTime!)).map((p) => p.value))).to.be.above(mean(points.filter((p) => !isWeekend(p.startTime!)).map((p) => p.value)));

    // People come back: a good share of the subjects are active on several days.
    const days = await h.prisma.$queryRaw<Array<{ returning: number; subjects: number }>>`
      SELECT count(*) FILTER (WHERE n > 1)::float8 AS returning, count(*)::float8 AS subjects
        FROM (SELECT subject_id, count(DISTINCT date_trunc('day', occurred_at)) AS n FROM insights.events WHERE tenant_id = ${tenantId}::uuid GROUP BY 1) s`;
    expect(days[0]!.returning / days[0]!.subjects).to.be.above(0.2);

    // Every redemption carries what a marketer sums and breaks down by.
    const redeemedKeys = await h.prisma.$queryRaw<Array<{ key: string; n: number }>>`
      SELECT a.key, count(*)::float8 AS n FROM insights.event_attributes a JOIN insights.events e ON e.tenant_id = a.tenant_id AND e.id = a.event_id
       WHERE e.tenant_id = ${tenantId}::uuid AND e.name = 'offer.redeemed' GROUP BY 1 ORDER BY 1`;
    expect(redeemedKeys).to.deep.equal(
      ["campaign", "channel", "country", "currency", "discount_minor", "offer", "order_amount_minor", "with_code"].map((key) => ({ key, n: count["offer.redeemed"] })),
    );

    const again = await loadDemoEvents({ writer: h.reader, tenantId, plan: { ...plan, end: Date.now() } });
    expect(again).to.include({ sent: 0, stored: 0, complete: true });
    expect(await h.prisma.event.count({ where: { tenantId } })).to.equal(20_000);

    // A larger N sends every event again: only the new ids are stored, the first 20,000 are duplicates.
    const more = await loadDemoEvents({ writer: h.reader, tenantId, plan: { ...plan, total: 25_000 } });
    expect(more).to.include({ sent: 25_000, stored: 5_000, complete: false });
    expect(await h.prisma.event.count({ where: { tenantId } })).to.equal(25_000);
    expect(Number((await h.prisma.rollupCount.aggregate({ where: { tenantId }, _sum: { count: true } }))._sum.count)).to.equal(25_000);
  });

  it("uses billing's campaign and offer ids when billing's tables can be read, stand-ins otherwise", async () => {
    const billing = await createTestDatabase({ prefix: "insights_seed_billing" });
    try {
      await deployMigrations({ databaseUrl: billing.url, schema: "billing", migrationsDir: path.resolve(__dirname, "../../../svc-billing/prisma/migrations") });
      const tenantId = randomUUID();
      const [active, paused, draft] = [randomUUID(), randomUUID(), randomUUID()];
      const offers = [randomUUID(), randomUUID(), randomUUID()];
      const owner = new Client({ connectionString: billing.url });
      await owner.connect();
      try {
        await owner.query(
          `INSERT INTO billing.campaigns (tenant_id, id, name, state, currency, updated_at) VALUES
             ($1, $2, 'Summer Sale', 'active', 'EUR', now()), ($1, $3, 'Loyalty Boost', 'paused', 'EUR', now()), ($1, $4, 'Spring Preview', 'draft', 'EUR', now())`,
          [tenantId, active, paused, draft],
        );
        await owner.query(
          `INSERT INTO billing.offers (tenant_id, id, campaign_id, name, value_kind, percent_bps, max_discount_minor, amount_off_minor, code_kind, updated_at) VALUES
             ($1, $2, $5, 'Summer 15%', 'percent', 1500, 3000, NULL, 'shared', now()),
             ($1, $3, $6, 'Loyalty 5 EUR', 'amount', NULL, NULL, 500, 'none', now()),
             ($1, $4, $7, 'Spring 20%', 'percent', 2000, NULL, NULL, 'none', now())`,
          [tenantId, ...offers, active, paused, draft],
        );
      } finally {
        await owner.end();
      }
      const fromBilling = await demoCatalog(billing.urlAs("apgms_billing_app"), tenantId, 30);
      expect(fromBilling.from).to.equal("billing");
      expect(fromBilling.offers).to.have.deep.members([
        { campaign: active, offer: offers[0], weight: 5, appeal: 1, withCode: true, percentBps: 1_500, maxDiscountMinor: 3_000 },
        { campaign: paused, offer: offers[1], weight: 1, appeal: 0.8, withCode: false, amountOffMinor: 500, untilDay: 21 },
      ]);
      // Row-level security: another tenant's view of billing holds nothing, so the stand-ins are used.
      const elsewhere = await demoCatalog(billing.urlAs("apgms_billing_app"), randomUUID(), 30);
      expect(elsewhere).to.include({ from: "stand-ins" });
      const unreadable = await demoCatalog(billing.urlAs("no_such_role"), tenantId, 30);
      expect(unreadable.from).to.equal("stand-ins");
      expect(unreadable.note).to.match(/could not be read/);
    } finally {
      await billing.drop();
    }
  });
});
