import { connectNats, type NatsConnection } from "@apgms/common/nats/connect";
import { deleteTestStreams, TEST_NATS_URL, testNatsPrefix } from "@apgms/common/testing/nats";
import { CodeKind } from "@apgms/proto/apgms/billing/v1/offer";
import { Granularity, Metric } from "@apgms/proto/apgms/insights/v1/analytics";
import { expect } from "chai";
import type { Pool } from "pg";
import { startBillingConsumer, type BillingConsumer } from "../src/billing-consumer.js";
import { APP_ROLE } from "../src/db/client.js";
import { transactionPool } from "../src/db/ingest-tenants.js";
import { startBillingProcess } from "./billing-process.js";
import { BillingStream, capturingLogger, waitUntil } from "./billing-stream.js";
import { startHarness, type Harness } from "./harness.js";

const DAY = 86_400_000;

/** The whole path: a redemption in the real svc-billing, its outbox relay, NATS, this consumer, the analytics API. */
describe("a redemption in svc-billing, seen by insights", function () {
  this.timeout(120_000);
  let h: Harness;
  let billing: Awaited<ReturnType<typeof startBillingProcess>>;
  let nc: NatsConnection;
  let pool: Pool;
  let consumer: BillingConsumer;
  const prefix = testNatsPrefix("insights-billing-e2e");

  before(async () => {
    h = await startHarness("insights_billing_e2e");
    nc = await connectNats({ url: TEST_NATS_URL, name: "insights-billing-e2e" });
    pool = transactionPool(h.db.urlAs(APP_ROLE), 2);
    consumer = await startBillingConsumer({ nc, pool, cache: h.cache.cache, logger: capturingLogger().logger, prefix, retryDelayMs: 200 });
    billing = await startBillingProcess(prefix);
  });
  after(async () => {
    await billing?.stop();
    await consumer?.stop();
    await pool?.end();
    await deleteTestStreams(prefix).catch(() => {});
    await nc?.close();
    await h?.stop();
  });

  it("counts each redemption and refund once, with billing's ids and amounts, a retried redemption included", async () => {
    const t = h.tenant();
    const { campaign } = await billing.campaigns.createCampaign({ name: "Spring", description: "", currency: "EUR", budget: undefined, startTime: undefined, endTime: undefined }, t.ctx);
    const { offer } = await billing.offers.createOffer(
      {
        campaignId: campaign!.id,
        name: "Spring 15%",
        value: { percentOffBps: 1_500, maxDiscount: undefined },
        codeKind: CodeKind.CODE_KIND_SHARED,
        sharedCode: "SPRING15",
        maxRedemptions: 0,
        maxPerCustomer: 0,
        minOrder: undefined,
        startTime: undefined,
        endTime: undefined,
      },
      t.ctx,
    );
    await billing.campaigns.activateCampaign({ campaignId: campaign!.id }, t.ctx);
    const redeem = (customerRef: string, amountMinor: number, idempotencyKey = "") =>
      billing.transactions.redeem({ target: { code: "SPRING15" }, customerRef, orderAmount: { amountMinor, currency: "EUR" }, idempotencyKey }, t.ctx);
    const first = (await redeem("alice", 10_000, "order-1")).transaction!;
    const retried = (await redeem("alice", 10_000, "order-1")).transaction!; // the client's retry: the same transaction, no new event
    expect(retried.id).to.equal(first.id);
    const second = (await redeem("bob", 20_000)).transaction!;
    const { refund } = await billing.transactions.refundTransaction({ transactionId: second.id, amount: undefined, reason: "returned", idempotencyKey: "" }, t.ctx);

    const stream = new BillingStream(nc, prefix);
    await waitUntil("billing's 4 events in insights", async () => (await h.prisma.event.count({ where: { tenantId: t.tenantId } })) === 4 && (await stream.settled()));
    const events = await h.prisma.event.findMany({ where: { tenantId: t.tenantId }, orderBy: { occurredAt: "asc" } });
    expect(events.map((e) => e.name)).to.deep.equal(["campaign.activated", "offer.redeemed", "offer.redeemed", "offer.refunded"]);
    const attributes = await h.prisma.eventAttribute.findMany({ where: { tenantId: t.tenantId, key: { in: ["transaction", "discount_minor", "offer"] } } });
    const of = (eventId: string, key: string) => {
      const a = attributes.find((x) => x.eventId === eventId && x.key === key);
      return a?.stringValue ?? a?.numberValue;
    };
    const [, r1, r2, back] = events;
    expect([r1, r2].map((e) => of(e!.id, "transaction"))).to.deep.equal([first.id, second.id]);
    expect([r1, r2].map((e) => of(e!.id, "discount_minor"))).to.deep.equal([1_500, 3_000]);
    expect([r1, r2, back].map((e) => of(e!.id, "offer"))).to.deep.equal([offer!.id, offer!.id, offer!.id]);
    expect(of(back!.id, "transaction")).to.equal(refund!.id);
    expect(back!.subjectId).to.equal("bob");

    const series = await h.analytics.timeSeries(
      {
        eventName: "offer.redeemed",
        metric: Metric.METRIC_SUM,
        sumAttribute: "discount_minor",
        granularity: Granularity.GRANULARITY_DAY,
        startTime: new Date(Date.now() - DAY),
        endTime: new Date(Date.now() + DAY),
        timeZone: "Europe/Berlin",
        filters: [],
        splitBy: "",
        splitLimit: 0,
      },
      t.ctx,
    );
    expect(series.series.flatMap((s) => s.values).reduce((sum, v) => sum + v, 0)).to.equal(4_500);
    expect(consumer.stats()).to.include({ stored: 4, duplicates: 0, rejected: 0 });
  });
});
