// Dimensions: the defaults, a tenant's own set, and the backfill that keeps
// rollup answers exact when a key becomes a dimension.
import { DataSource } from "@apgms/proto/apgms/insights/v1/analytics";
import { expect } from "chai";
import { breakdownOf } from "./convert.js";
import { dataset, FROM, TO } from "./dataset.js";
import { toProto, type TestEvent } from "./events.js";
import { startHarness, type Harness } from "./harness.js";
import { expectedBreakdown } from "./reference.js";

describe("dimensions", function () {
  this.timeout(120_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("insights_dimensions");
  });
  after(async () => {
    await h?.stop();
  });

  const breakdown = (key: string) => ({ eventName: "", attribute: key, startTime: new Date(FROM + 1), endTime: new Date(TO - 1), limit: 0, filters: [] });

  it("starts with the defaults, rolls up a key made a dimension over every stored event, and drops the rollup of a key that is not one any more", async () => {
    const t = h.tenant();
    expect(await h.analytics.listDimensions({}, t.ctx)).to.deep.equal({ keys: ["campaign", "channel", "country", "offer"], defaults: true });
    const events: TestEvent[] = dataset(3);
    const half = Math.floor(events.length / 2);
    await h.events.ingestEvents({ events: events.slice(0, half).map(toProto) }, t.ctx);

    expect((await h.analytics.breakdown(breakdown("member"), t.ctx)).source).to.equal(DataSource.DATA_SOURCE_RAW);
    expect(await h.analytics.setDimensions({ keys: ["member", "campaign"] }, t.ctx)).to.deep.equal({ keys: ["campaign", "member"], defaults: false });
    expect(await h.analytics.listDimensions({}, t.ctx)).to.deep.equal({ keys: ["campaign", "member"], defaults: false });
    // Events after the change are rolled up by ingestion, those before by the backfill.
    await h.events.ingestEvents({ events: events.slice(half).map(toProto) }, t.ctx);

    const member = await h.analytics.breakdown(breakdown("member"), t.ctx);
    expect(member.source).to.equal(DataSource.DATA_SOURCE_ROLLUP);
    expect(breakdownOf(member)).to.deep.equal(expectedBreakdown(events, { key: "member", start: FROM + 1, end: TO - 1, limit: 10 }));
    const channel = await h.analytics.breakdown(breakdown("channel"), t.ctx);
    expect(channel.source).to.equal(DataSource.DATA_SOURCE_RAW);
    expect(breakdownOf(channel)).to.deep.equal(expectedBreakdown(events, { key: "channel", start: FROM + 1, end: TO - 1, limit: 10 }));
    expect(await h.prisma.rollupDimension.count({ where: { tenantId: t.tenantId, key: "channel" } })).to.equal(0);
    const campaign = await h.analytics.breakdown(breakdown("campaign"), t.ctx);
    expect(campaign.source).to.equal(DataSource.DATA_SOURCE_ROLLUP);
    expect(breakdownOf(campaign)).to.deep.equal(expectedBreakdown(events, { key: "campaign", start: FROM + 1, end: TO - 1, limit: 10 }));

    // An empty list restores the defaults (and their rollups).
    expect(await h.analytics.setDimensions({ keys: [] }, t.ctx)).to.deep.equal({ keys: ["campaign", "channel", "country", "offer"], defaults: true });
    const again = await h.analytics.breakdown(breakdown("channel"), t.ctx);
    expect(again.source).to.equal(DataSource.DATA_SOURCE_ROLLUP);
    expect(breakdownOf(again)).to.deep.equal(breakdownOf(channel));
    expect(await h.prisma.rollupDimension.count({ where: { tenantId: t.tenantId, key: "member" } })).to.equal(0);
  });

  it("keeps rollups exact when dimensions change while batches are being ingested", async () => {
    const t = h.tenant();
    const events = dataset(4);
    const batches = Array.from({ length: Math.ceil(events.length / 200) }, (_, i) => events.slice(i * 200, i * 200 + 200));
    await Promise.all([
      ...batches.map((b) => h.events.ingestEvents({ events: b.map(toProto) }, t.ctx)),
      h.analytics.setDimensions({ keys: ["member"] }, t.ctx),
    ]);
    const member = await h.analytics.breakdown(breakdown("member"), t.ctx);
    expect(member.source).to.equal(DataSource.DATA_SOURCE_ROLLUP);
    expect(breakdownOf(member)).to.deep.equal(expectedBreakdown(events, { key: "member", start: FROM + 1, end: TO - 1, limit: 10 }));
  });
});
