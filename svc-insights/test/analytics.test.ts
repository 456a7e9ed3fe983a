// Breakdown, Funnel and Retention against answers computed in the test from
// the events it sent (reference.ts), on the flows of dataset.ts.
import { DataSource, RetentionPeriod } from "@apgms/proto/apgms/insights/v1/analytics";
import { expect } from "chai";
import { rawBreakdownSql, readBreakdown, rollupBreakdownSql } from "../src/db/breakdown.js";
import { breakdownQuery } from "../src/domain/breakdown-input.js";
import { breakdownOf, funnelOf, retentionOf } from "./convert.js";
import { dataset, DAY, EDGES, FROM, HOUR, TO } from "./dataset.js";
import { toProto, value, type Plain, type TestEvent } from "./events.js";
import { startHarness, type Harness } from "./harness.js";
import { expectedBreakdown, expectedFunnel, expectedRetention } from "./reference.js";

describe("Breakdown, Funnel, Retention", function () {
  this.timeout(120_000);
  let h: Harness;
  let tenant: ReturnType<Harness["tenant"]>;
  let events: TestEvent[];

  before(async () => {
    h = await startHarness("insights_analytics");
    tenant = h.tenant();
    events = dataset(2);
    for (let i = 0; i < events.length; i += 1_000) {
      const res = await h.events.ingestEvents({ events: events.slice(i, i + 1_000).map(toProto) }, tenant.ctx);
      expect(res.rejected).to.deep.equal([]);
    }
  });
  after(async () => {
    await h?.stop();
  });

  describe("Breakdown", () => {
    const cases: Array<{ title: string; source: DataSource; q: { name?: string; key: string; start: number; end: number; limit: number; filters?: Record<string, Plain> } }> = [
      { title: "a dimension over the whole data", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: "offer.viewed", key: "campaign", start: FROM, end: TO, limit: 10 } },
      { title: "a dimension over a range off the 15-minute grid (raw edges)", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: "offer.redeemed", key: "campaign", start: EDGES.berlinMidnight - 7 * 60_000 + 1, end: EDGES.kolkataMidnight + 1, limit: 10 } },
      { title: "a dimension, every event name, top 2", source: DataSource.DATA_SOURCE_ROLLUP, q: { key: "channel", start: FROM + 3 * DAY + 1_234, end: TO - 5 * HOUR - 17, limit: 2 } },
      { title: "a range inside one 15-minute bucket", source: DataSource.DATA_SOURCE_ROLLUP, q: { key: "campaign", start: EDGES.kolkataMidnight - 1, end: EDGES.kolkataMidnight + 2, limit: 10 } },
      { title: "an attribute that is not a dimension", source: DataSource.DATA_SOURCE_RAW, q: { name: "offer.clicked", key: "position", start: FROM, end: TO, limit: 10 } },
      { title: "a boolean, filtered", source: DataSource.DATA_SOURCE_RAW, q: { name: "offer.viewed", key: "member", start: FROM, end: TO, limit: 10, filters: { channel: "web" } } },
      { title: "an empty range", source: DataSource.DATA_SOURCE_ROLLUP, q: { key: "campaign", start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 0, 2), limit: 10 } },
    ];
    const request = (q: (typeof cases)[number]["q"]) => ({
      eventName: q.name ?? "",
      attribute: q.key,
      startTime: new Date(q.start),
      endTime: new Date(q.end),
      limit: q.limit,
      filters: Object.entries(q.filters ?? {}).map(([key, v]) => ({ key, value: value(v) })),
    });

    for (const { title, source, q } of cases) {
      it(`equals the answer computed from the sent events: ${title}`, async () => {
        const res = await h.analytics.breakdown(request(q), tenant.ctx);
        expect(res.source).to.equal(source);
        const expected = expectedBreakdown(events, q);
        expect(breakdownOf(res)).to.deep.equal(expected);
        if (!title.includes("empty")) expect(expected.length).to.be.greaterThan(0);
      });
    }

    it("answers the same from the rollups (with raw edges) as from a scan of the raw events", async () => {
      for (const { q, source } of cases) {
        if (source !== DataSource.DATA_SOURCE_ROLLUP) continue;
        const query = breakdownQuery(request(q));
        const as = h.asTenant(tenant.tenantId);
        expect(await readBreakdown(as, rollupBreakdownSql(tenant.tenantId, query))).to.deep.equal(await readBreakdown(as, rawBreakdownSql(tenant.tenantId, query)));
      }
    });
  });

  describe("Funnel", () => {
    const steps = ["offer.viewed", "offer.clicked", "offer.redeemed"];
    const cases: Array<{ title: string; q: { steps: string[]; start: number; end: number; windowMs: number; breakdown?: { key: string; limit: number } } }> = [
      { title: "three steps within a day", q: { steps, start: FROM, end: TO, windowMs: DAY } },
      { title: "three steps within an hour", q: { steps, start: FROM, end: TO, windowMs: HOUR } },
      { title: "two steps over part of the range, window past its end", q: { steps: steps.slice(0, 2), start: FROM + 2 * DAY, end: FROM + 9 * DAY, windowMs: 3 * DAY } },
      { title: "clicked then redeemed, by campaign", q: { steps: steps.slice(1), start: FROM, end: TO, windowMs: 2 * DAY, breakdown: { key: "campaign", limit: 5 } } },
      { title: "three steps by a boolean (some entries without it), top 2", q: { steps, start: FROM, end: TO, windowMs: 2 * DAY, breakdown: { key: "member", limit: 2 } } },
      { title: "an empty range", q: { steps, start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 0, 5), windowMs: DAY, breakdown: { key: "campaign", limit: 5 } } },
    ];

    for (const { title, q } of cases) {
      it(`equals the answer computed from the sent events: ${title}`, async () => {
        const res = await h.analytics.funnel(
          { steps: q.steps, startTime: new Date(q.start), endTime: new Date(q.end), conversionWindowSeconds: q.windowMs / 1000, breakdownBy: q.breakdown?.key ?? "", breakdownLimit: q.breakdown?.limit ?? 0 },
          tenant.ctx,
        );
        const expected = expectedFunnel(events, q);
        expect(funnelOf(res)).to.deep.equal(expected);
        expect(res.steps.map((s) => s.eventName)).to.deep.equal(q.steps);
        const [first, ...rest] = res.steps;
        for (const [i, s] of rest.entries()) {
          expect(s.conversionRate).to.equal(first!.count ? s.count / first!.count : 0);
          expect(s.stepConversionRate).to.equal(res.steps[i]!.count ? s.count / res.steps[i]!.count : 0);
        }
        if (!title.includes("empty")) expect(expected.counts[1], "some subjects convert").to.be.greaterThan(0);
      });
    }
  });

  describe("Retention", () => {
    const cases: Array<{ title: string; q: { startEvent: string; returnEvent: string; unit: "day" | "week"; start: number; end: number; zone: string } }> = [
      { title: "daily in Berlin across its DST end", q: { startEvent: "offer.viewed", returnEvent: "offer.viewed", unit: "day", start: FROM, end: TO, zone: "Europe/Berlin" } },
      { title: "daily in Kolkata, viewed then redeemed", q: { startEvent: "offer.viewed", returnEvent: "offer.redeemed", unit: "day", start: FROM + DAY, end: TO - DAY, zone: "Asia/Kolkata" } },
      { title: "weekly in New York", q: { startEvent: "offer.clicked", returnEvent: "offer.viewed", unit: "week", start: FROM, end: TO, zone: "America/New_York" } },
      { title: "an empty range", q: { startEvent: "offer.viewed", returnEvent: "offer.viewed", unit: "day", start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 0, 4), zone: "UTC" } },
    ];
    for (const { title, q } of cases) {
      it(`equals the answer computed from the sent events: ${title}`, async () => {
        const res = await h.analytics.retention(
          { startEvent: q.startEvent, returnEvent: q.returnEvent, period: q.unit === "day" ? RetentionPeriod.RETENTION_PERIOD_DAY : RetentionPeriod.RETENTION_PERIOD_WEEK, startTime: new Date(q.start), endTime: new Date(q.end), timeZone: q.zone },
          tenant.ctx,
        );
        expect(res.source).to.equal(DataSource.DATA_SOURCE_ROLLUP);
        const expected = expectedRetention(events, q);
        expect(retentionOf(res)).to.deep.equal(expected);
        for (const c of res.cohorts) expect(c.shares).to.deep.equal(c.returned.map((n) => (c.size ? n / c.size : 0)));
        if (!title.includes("empty")) expect(expected.cohorts.some((c) => c.returned.some((n) => n > 0))).to.equal(true);
      });
    }
  });
});
