import { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import { createLogger } from "@apgms/common";
import { connectNats, type NatsConnection } from "@apgms/common/nats/connect";
import { domainEventsStream, startOutboxRelay, type OutboxRelay } from "@apgms/common/outbox/index";
import { testNatsPrefix } from "@apgms/common/testing/nats";
import { freePort, PrivateNats, readStoredMessages } from "@apgms/common/testing/private-nats";
import { expect } from "chai";
import { APP_ROLE } from "../src/db/client.js";
import { startHarness, startInstance, type Harness } from "./harness.js";
import { makeCampaign, makeOffer } from "./fixtures.js";

/**
 * The proof of the outbox: NATS down, 1,000 redemptions through two
 * svc-billing instances, NATS back, and the stream holds exactly 1,000
 * transaction.created messages, none twice, in order per campaign, although
 * two relays (one per instance) watched the same table all along.
 */
describe("billing's outbox through a NATS outage", function () {
  this.timeout(180_000);
  let h: Harness;
  let second: Awaited<ReturnType<typeof startInstance>>;
  let nats: PrivateNats;
  const connections: NatsConnection[] = [];
  const relays: OutboxRelay[] = [];
  const prefix = testNatsPrefix("billing-outbox");

  before(async () => {
    h = await startHarness("billing_outbox");
    second = await startInstance(h.db);
    nats = new PrivateNats(await freePort());
    await nats.start();
    const logger = createLogger("billing-outbox-test", { level: process.env.TEST_LOG_LEVEL ?? "silent" });
    for (let i = 0; i < 2; i++) {
      const nc = await connectNats({ url: nats.url, name: `billing-relay-${i}` });
      connections.push(nc);
      relays.push(
        startOutboxRelay({ databaseUrl: h.db.urlAs(APP_ROLE), schema: "billing", nats: nc, prefix, domain: "billing", logger, pollIntervalMs: 200, publishTimeoutMs: 1_000 }),
      );
    }
  });
  after(async () => {
    await Promise.all(relays.map((r) => r.stop()));
    await Promise.all(connections.map((nc) => nc.close()));
    await nats?.remove();
    await second?.stop();
    await h?.stop();
  });

  it("publishes exactly the 1,000 redemptions made while NATS was down, once each, in order per campaign", async () => {
    await nats.kill();
    const t = h.tenant();
    const offers: string[] = [];
    for (let c = 0; c < 4; c++) offers.push(await makeOffer(h.prisma, t.tenantId, await makeCampaign(h.prisma, t.tenantId), { amountOffMinor: 100 }));
    const instances = [h, second];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < 1_000; i = next++) {
        const via = instances[i % 2]!;
        await via.transactions.redeem({ target: { offerId: offers[i % 4]! }, customerRef: `c-${i}`, orderAmount: { amountMinor: 1_000, currency: "EUR" }, idempotencyKey: "" }, t.ctx);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(await h.prisma.outbox.count({ where: { tenantId: t.tenantId, publishedAt: null } })).to.equal(1_000);

    await nats.start();
    await Promise.race(relays.map((r) => r.drained()));
    expect(await h.prisma.outbox.count({ where: { tenantId: t.tenantId, publishedAt: null } })).to.equal(0);

    const reader = await connectNats({ url: nats.url, name: "billing-outbox-reader" });
    try {
      const stored = await readStoredMessages(reader, domainEventsStream(prefix, "billing").name);
      expect(stored).to.have.length(1_000);
      expect(new Set(stored.map((m) => m.msgId)).size).to.equal(1_000);
      const events = stored.map((m) => ({ subject: m.subject, msgId: m.msgId, event: BillingEvent.decode(m.payload) }));
      for (const e of events) {
        expect(e.subject).to.equal(`${prefix}.${t.tenantId}.billing.transaction.created`);
        expect(e.event.id).to.equal(e.msgId);
      }
      // In order per campaign: each campaign's messages come in the order its rows were written.
      const rows = await h.prisma.outbox.findMany({ where: { tenantId: t.tenantId }, orderBy: { seq: "asc" } });
      const byCampaign = (ids: Array<{ campaign: string; id: string }>) => {
        const out = new Map<string, string[]>();
        for (const { campaign, id } of ids) out.set(campaign, [...(out.get(campaign) ?? []), id]);
        return out;
      };
      const published = byCampaign(events.map((e) => ({ campaign: e.event.transaction!.campaignId, id: e.msgId })));
      const written = byCampaign(rows.map((r) => ({ campaign: r.aggregateId, id: r.id })));
      expect(published.size).to.equal(4);
      for (const [campaign, ids] of written) expect(published.get(campaign), campaign).to.deep.equal(ids);
      // Each message is the transaction it announces.
      const transactions = await h.prisma.transaction.findMany({ where: { tenantId: t.tenantId }, select: { id: true } });
      expect(new Set(events.map((e) => e.event.transaction!.id))).to.deep.equal(new Set(transactions.map((x) => x.id)));
      // The export streams the same 1,000 rows, 500 per message.
      const exported = await h.exportTransactions({ filter: undefined }, t.ctx);
      expect(exported.map((m) => m.transactions.length)).to.deep.equal([500, 500]);
      expect(new Set(exported.flatMap((m) => m.transactions.map((x) => x.id))).size).to.equal(1_000);
    } finally {
      await reader.close();
    }
  });
});
