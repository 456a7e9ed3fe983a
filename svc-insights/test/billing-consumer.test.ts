import { randomUUID } from "node:crypto";
import { connectNats, type NatsConnection } from "@apgms/common/nats/connect";
import { TEST_NATS_URL, testNatsPrefix, deleteTestStreams } from "@apgms/common/testing/nats";
import { freePort, PrivateNats } from "@apgms/common/testing/private-nats";
import { CampaignState } from "@apgms/proto/apgms/billing/v1/campaign";
import { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import { Granularity, Metric } from "@apgms/proto/apgms/insights/v1/analytics";
import type { CallOverrides } from "@apgms/common";
import { expect } from "chai";
import type { Pool } from "pg";
import { startBillingConsumer, type BillingConsumer } from "../src/billing-consumer.js";
import { APP_ROLE } from "../src/db/client.js";
import { transactionPool } from "../src/db/ingest-tenants.js";
import { BillingStream, capturingLogger, redeemed, refunded, waitUntil } from "./billing-stream.js";
import { startHarness, type Harness } from "./harness.js";

const DAY = 86_400_000;

function campaignEvent(tenantId: string, type: string, campaignId: string): BillingEvent {
  const now = new Date();
  return {
    id: randomUUID(),
    tenantId,
    type,
    occurTime: now,
    campaign: {
      id: campaignId,
      tenantId,
      name: "Spring Sale",
      description: "",
      state: CampaignState.CAMPAIGN_STATE_ACTIVE,
      currency: "EUR",
      budget: { spendMinor: 100_000 },
      startTime: undefined,
      endTime: undefined,
      createTime: now,
      updateTime: now,
    },
  };
}

describe("billing's events in insights", function () {
  this.timeout(120_000);
  let h: Harness;
  let nc: NatsConnection;
  let pool: Pool;
  let stream: BillingStream;
  let consumer: BillingConsumer;
  const log = capturingLogger();
  const prefix = testNatsPrefix("insights-billing");
  const start = () => startBillingConsumer({ nc, pool, cache: h.cache.cache, logger: log.logger, prefix, retryDelayMs: 200 });

  before(async () => {
    h = await startHarness("insights_billing");
    nc = await connectNats({ url: TEST_NATS_URL, name: "insights-billing-test" });
    pool = transactionPool(h.db.urlAs(APP_ROLE), 2);
    stream = new BillingStream(nc, prefix);
    // No stream yet: the consumer creates it, as it must when billing has never published.
    consumer = await start();
  });
  after(async () => {
    await consumer?.stop();
    await pool?.end();
    await deleteTestStreams(prefix).catch(() => {});
    await nc?.close();
    await h?.stop();
  });

  const settled = () => waitUntil("the consumer to settle every message", () => stream.settled());

  /** Sum over a day-bucketed series around now, through the analytics API. */
  async function total(ctx: CallOverrides, eventName: string, metric: Metric, sumAttribute = ""): Promise<number> {
    const now = Date.now();
    const res = await h.analytics.timeSeries(
      { eventName, metric, sumAttribute, granularity: Granularity.GRANULARITY_DAY, startTime: new Date(now - 2 * DAY), endTime: new Date(now + DAY), timeZone: "", filters: [], splitBy: "", splitLimit: 0 },
      ctx,
    );
    return res.series.flatMap((s) => s.values).reduce((sum, v) => sum + v, 0);
  }

  async function storedEvents(tenantId: string) {
    const events = await h.prisma.event.findMany({ where: { tenantId }, orderBy: [{ name: "asc" }, { id: "asc" }] });
    return events.map((e) => ({ id: e.id, name: e.name, subject: e.subjectId }));
  }

  it("stores each event once, in its own tenant, with the outbox id, however often it is delivered", async () => {
    const a = h.tenant();
    const b = h.tenant();
    const campaignId = randomUUID();
    const offerId = randomUUID();
    const r1 = redeemed({ tenantId: a.tenantId, customer: "c-1", campaignId, offerId, orderMinor: 12_000, discountMinor: 1_800, code: "SUMMER15" });
    const r2 = redeemed({ tenantId: a.tenantId, customer: "c-2", campaignId, offerId, discountMinor: 1_000 });
    const back = refunded({ tenantId: a.tenantId, customer: "c-1", campaignId, offerId, discountMinor: 800 });
    const activated = campaignEvent(a.tenantId, "campaign.activated", campaignId);
    const threshold: BillingEvent = {
      id: randomUUID(),
      tenantId: a.tenantId,
      type: "budget.threshold_reached",
      occurTime: new Date(),
      budgetThreshold: {
        campaignId,
        percent: 80,
        totals: { campaignId, redemptions: 2, discountGiven: { amountMinor: 80_000, currency: "EUR" }, refunded: undefined, budgetLeft: undefined, budgetUsedRatio: 0.8 },
      },
    };
    const other = redeemed({ tenantId: b.tenantId, customer: "c-1", discountMinor: 500 });
    for (const e of [r1, r2, back, activated, threshold, other]) await stream.publish(e);
    await stream.publish(r1, randomUUID()); // the same outbox row published again after the stream's duplicate window
    await stream.publish(r2); // a relay retry inside the window: the stream itself keeps one
    await settled();

    expect(await storedEvents(a.tenantId)).to.deep.equal(
      [
        { id: activated.id, name: "campaign.activated", subject: campaignId },
        { id: threshold.id, name: "campaign.budget_threshold_reached", subject: campaignId },
        ...[r1, r2].map((e) => ({ id: e.id, name: "offer.redeemed", subject: e.transaction!.customerRef })).sort((x, y) => (x.id < y.id ? -1 : 1)),
        { id: back.id, name: "offer.refunded", subject: "c-1" },
      ],
    );
    expect(await storedEvents(b.tenantId)).to.deep.equal([{ id: other.id, name: "offer.redeemed", subject: "c-1" }]);

    const attributes = await h.prisma.eventAttribute.findMany({ where: { tenantId: a.tenantId, eventId: r1.id }, orderBy: { key: "asc" } });
    const plain = Object.fromEntries(attributes.map((x) => [x.key, x.stringValue ?? x.numberValue ?? x.boolValue]));
    expect(plain).to.deep.equal({
      campaign: campaignId,
      currency: "EUR",
      discount_minor: 1_800,
      offer: offerId,
      order_amount_minor: 12_000,
      transaction: r1.transaction!.id,
      with_code: true,
    });
    const thresholdAttributes = await h.prisma.eventAttribute.findMany({ where: { tenantId: a.tenantId, eventId: threshold.id }, orderBy: { key: "asc" } });
    expect(thresholdAttributes.map((x) => [x.key, x.stringValue ?? x.numberValue])).to.deep.equal([
      ["budget_used_ratio", 0.8],
      ["campaign", campaignId],
      ["currency", "EUR"],
      ["discount_given_minor", 80_000],
      ["percent", 80],
      ["redemptions", 2],
    ]);

    // The answers a marketer reads count each redemption once.
    expect(await total(a.ctx, "offer.redeemed", Metric.METRIC_COUNT)).to.equal(2);
    expect(await total(a.ctx, "offer.redeemed", Metric.METRIC_SUM, "discount_minor")).to.equal(2_800);
    expect(await total(a.ctx, "offer.redeemed", Metric.METRIC_UNIQUE_SUBJECTS)).to.equal(2);
    expect(await total(b.ctx, "offer.redeemed", Metric.METRIC_COUNT)).to.equal(1);
    expect(await total(b.ctx, "offer.refunded", Metric.METRIC_COUNT)).to.equal(0);
    expect(consumer.stats()).to.include({ stored: 6, duplicates: 1, rejected: 0 });
  });

  it("terminates and logs a message that can never become an event, and stores the others of its batch", async () => {
    const a = h.tenant();
    const b = h.tenant();
    const before = consumer.stats();
    const first = redeemed({ tenantId: a.tenantId, customer: "c-1" });
    const last = redeemed({ tenantId: a.tenantId, customer: "c-2" });
    const garbageId = randomUUID();
    const elsewhere = redeemed({ tenantId: b.tenantId, customer: "c-9" });
    const renamed = campaignEvent(a.tenantId, "campaign.renamed", randomUUID());
    await stream.publish(first);
    await stream.publishRaw(a.tenantId, "transaction.created", Uint8Array.from([0x0a, 0xff, 0xff, 0xff]), garbageId);
    // B's event on A's subject: filed under neither.
    await stream.publishRaw(a.tenantId, "transaction.created", BillingEvent.encode(elsewhere).finish());
    await stream.publish(renamed); // a type insights does not record: acknowledged, not stored
    await stream.publish(last);
    await settled();

    expect((await storedEvents(a.tenantId)).map((e) => e.id).sort()).to.deep.equal([first.id, last.id].sort());
    expect(await storedEvents(b.tenantId)).to.deep.equal([]);
    const after = consumer.stats();
    expect(after.stored - before.stored).to.equal(2);
    expect(after.rejected - before.rejected).to.equal(2);
    expect(after.ignored - before.ignored).to.equal(1);
    const dropped = log.lines().filter((l) => l.msg === "billing event dropped: it can never become an insights event");
    expect(dropped.map((l) => l.msgId)).to.include(garbageId);
    expect(dropped.map((l) => l.reason)).to.include("tenant_id is not the subject's tenant");
  });

  it("redelivers a batch while Postgres refuses it and stores it once when it accepts again", async () => {
    const c = h.tenant();
    const before = consumer.stats();
    const events = [1, 2, 3].map((i) => redeemed({ tenantId: c.tenantId, customer: `c-${i}`, discountMinor: 100 * i }));
    await h.prisma.$executeRawUnsafe(`REVOKE INSERT ON insights.events FROM ${APP_ROLE}`);
    try {
      for (const e of events) await stream.publish(e);
      // Failed, nak'ed with a delay, delivered again and failed again: nothing dropped, nothing stored.
      await waitUntil("two failed deliveries", () => consumer.stats().failedBatches >= before.failedBatches + 2);
      expect(await storedEvents(c.tenantId)).to.deep.equal([]);
    } finally {
      await h.prisma.$executeRawUnsafe(`GRANT INSERT ON insights.events TO ${APP_ROLE}`);
    }
    await settled();
    expect((await storedEvents(c.tenantId)).map((e) => e.id).sort()).to.deep.equal(events.map((e) => e.id).sort());
    expect(await total(c.ctx, "offer.redeemed", Metric.METRIC_COUNT)).to.equal(3);
    expect(await total(c.ctx, "offer.redeemed", Metric.METRIC_SUM, "discount_minor")).to.equal(600);
    expect(consumer.stats().stored - before.stored).to.equal(3);
  });

  it("replays the whole stream into the same counts when its durable consumer is recreated", async () => {
    const storedBefore = await h.prisma.event.count();
    const countsBefore = await h.prisma.rollupCount.aggregate({ _sum: { count: true } });
    await consumer.stop();
    await stream.deleteConsumer();
    consumer = await start();
    await settled();
    const replay = consumer.stats();
    expect(replay.stored).to.equal(0);
    expect(replay.duplicates).to.be.greaterThan(10);
    expect(replay.rejected).to.equal(2); // the two messages terminated before, terminated again
    expect(await h.prisma.event.count()).to.equal(storedBefore);
    expect((await h.prisma.rollupCount.aggregate({ _sum: { count: true } }))._sum.count).to.equal(countsBefore._sum.count);
  });

  it("resumes by itself after NATS restarts, and stores what was published on both sides of the outage once", async () => {
    const own = new PrivateNats(await freePort());
    await own.start();
    const ownNc = await connectNats({ url: own.url, name: "insights-billing-restart" });
    const ownPrefix = testNatsPrefix("insights-billing-restart");
    const ownStream = new BillingStream(ownNc, ownPrefix);
    // A short ack wait: acknowledgements the killed server had not written down come back sooner.
    const resumed = await startBillingConsumer({ nc: ownNc, pool, cache: h.cache.cache, logger: log.logger, prefix: ownPrefix, retryDelayMs: 200, ackWaitMs: 2_000 });
    try {
      const t = h.tenant();
      const before = [1, 2].map((i) => redeemed({ tenantId: t.tenantId, customer: `before-${i}` }));
      for (const e of before) await ownStream.publish(e);
      await waitUntil("the events before the outage", () => ownStream.settled());
      await own.kill();
      await own.start(); // the same store: the stream and the durable consumer survive
      const after = [1, 2, 3].map((i) => redeemed({ tenantId: t.tenantId, customer: `after-${i}` }));
      await waitUntil("the client to reconnect and publish", async () => {
        await ownStream.publish(after[0]!);
        return true;
      });
      for (const e of after.slice(1)) await ownStream.publish(e);
      await waitUntil("the events after the outage", async () => (await h.prisma.event.count({ where: { tenantId: t.tenantId } })) === 5 && (await ownStream.settled()));
      expect((await storedEvents(t.tenantId)).map((e) => e.id).sort()).to.deep.equal([...before, ...after].map((e) => e.id).sort());
      // Acks the server lost when it was killed redeliver those messages: duplicates, never a second count.
      expect(resumed.stats()).to.include({ stored: 5, rejected: 0 });
    } finally {
      await resumed.stop();
      await ownNc.close();
      await own.remove();
    }
  });
});
