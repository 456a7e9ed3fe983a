// ListEvents pages, ExportEvents streams, and another tenant's events never appear.
import { status } from "@grpc/grpc-js";
import { Granularity, Metric, RetentionPeriod } from "@apgms/proto/apgms/insights/v1/analytics";
import type { Event } from "@apgms/proto/apgms/insights/v1/event";
import { expect } from "chai";
import { plain } from "./convert.js";
import { toProto, type TestEvent } from "./events.js";
import { expectError, startHarness, type Harness } from "./harness.js";

const HOUR = 3_600_000;

describe("ListEvents, ExportEvents, tenant isolation", function () {
  this.timeout(60_000);
  let h: Harness;
  let a: ReturnType<Harness["tenant"]>;
  let b: ReturnType<Harness["tenant"]>;
  const start = Date.UTC(2026, 10, 10);
  const mine: TestEvent[] = Array.from({ length: 130 }, (_, i) => ({
    id: `a-${String(i).padStart(3, "0")}`,
    name: i % 2 ? "viewed" : "clicked",
    // Pairs share a time: the id orders them.
    t: start + Math.floor(i / 2) * 60_000,
    subject: `s-${i % 7}`,
    attributes: { campaign: `c${i % 3}`, n: i, flag: i % 2 === 0 },
  }));

  before(async () => {
    h = await startHarness("insights_list");
    a = h.tenant();
    b = h.tenant();
    await h.events.ingestEvents({ events: mine.map(toProto) }, a.ctx);
    // Tenant B: the same names and attribute values, other ids.
    await h.events.ingestEvents({ events: mine.slice(0, 10).map((e) => toProto({ ...e, id: `b-${e.id}` })) }, b.ctx);
  });
  after(async () => {
    await h?.stop();
  });

  it("lists newest first (time, then id), in pages, with typed attributes and the receive time", async () => {
    const seen: Event[] = [];
    let token = "";
    do {
      const res = await h.events.listEvents({ page: { pageSize: 40, pageToken: token }, filter: undefined }, a.ctx);
      expect(res.events.length).to.be.at.most(40);
      seen.push(...res.events);
      token = res.page!.nextPageToken;
    } while (token);
    const expected = [...mine].sort((x, y) => y.t - x.t || (x.id < y.id ? 1 : -1));
    expect(seen.map((e) => e.id)).to.deep.equal(expected.map((e) => e.id));
    const e7 = seen.find((e) => e.id === "a-007")!;
    expect(Object.fromEntries(Object.entries(e7.attributes).map(([k, v]) => [k, plain(v)]))).to.deep.equal({ campaign: "c1", n: 7, flag: false });
    expect(e7.receiveTime!.getTime()).to.be.closeTo(Date.now(), 60_000);
  });

  it("filters by name and time range, and refuses a page token of another filter", async () => {
    const res = await h.events.listEvents({ page: { pageSize: 5, pageToken: "" }, filter: { name: "viewed", startTime: new Date(start + 10 * 60_000), endTime: new Date(start + 20 * 60_000) } }, a.ctx);
    expect(res.events.map((e) => e.id)).to.deep.equal(["a-039", "a-037", "a-035", "a-033", "a-031"]);
    await expectError(h.events.listEvents({ page: { pageSize: 5, pageToken: res.page!.nextPageToken }, filter: { name: "clicked", startTime: undefined, endTime: undefined } }, a.ctx), status.INVALID_ARGUMENT, "page.page_token");
    const next = await h.events.listEvents({ page: { pageSize: 5, pageToken: res.page!.nextPageToken }, filter: { name: "viewed", startTime: new Date(start + 10 * 60_000), endTime: new Date(start + 20 * 60_000) } }, a.ctx);
    expect(next.events.map((e) => e.id)).to.deep.equal(["a-029", "a-027", "a-025", "a-023", "a-021"]);
    expect(next.page!.nextPageToken).to.equal("");
  });

  it("exports every event oldest first in messages of at most 500", async () => {
    const messages = await h.exportEvents({ filter: undefined }, a.ctx);
    const ids = messages.flatMap((m) => m.events.map((e) => e.id));
    expect(ids).to.deep.equal([...mine].sort((x, y) => x.t - y.t || (x.id < y.id ? -1 : 1)).map((e) => e.id));
    const viewed = (await h.exportEvents({ filter: { name: "viewed", startTime: undefined, endTime: undefined } }, a.ctx)).flatMap((m) => m.events);
    expect(viewed).to.have.length(65);
  });

  it("never shows another tenant's events in lists, exports or answers", async () => {
    expect((await h.events.listEvents({ page: { pageSize: 200, pageToken: "" }, filter: undefined }, b.ctx)).events.map((e) => e.id).every((id) => id.startsWith("b-"))).to.equal(true);
    expect((await h.exportEvents({ filter: undefined }, b.ctx)).flatMap((m) => m.events)).to.have.length(10);
    const range = { startTime: new Date(start), endTime: new Date(start + 3 * HOUR) };
    const counts = await h.analytics.timeSeries({ eventName: "viewed", metric: Metric.METRIC_COUNT, sumAttribute: "", granularity: Granularity.GRANULARITY_HOUR, ...range, timeZone: "", filters: [], splitBy: "", splitLimit: 0 }, b.ctx);
    expect(counts.series[0]!.values.reduce((n, v) => n + v, 0)).to.equal(5);
    const breakdown = await h.analytics.breakdown({ eventName: "", attribute: "campaign", ...range, limit: 0, filters: [] }, b.ctx);
    expect(breakdown.rows.reduce((n, r) => n + r.count, 0)).to.equal(10);
    const funnel = await h.analytics.funnel({ steps: ["clicked", "viewed"], ...range, conversionWindowSeconds: 3_600, breakdownBy: "", breakdownLimit: 0 }, b.ctx);
    expect(funnel.steps[0]!.count).to.equal(5);
    const retention = await h.analytics.retention({ startEvent: "clicked", returnEvent: "viewed", period: RetentionPeriod.RETENTION_PERIOD_DAY, ...range, timeZone: "" }, b.ctx);
    expect(retention.cohorts.reduce((n, c) => n + c.size, 0)).to.equal(5);
    // A tenant that sent nothing sees nothing.
    const c = h.tenant();
    expect((await h.events.listEvents({ page: undefined, filter: undefined }, c.ctx)).events).to.deep.equal([]);
    const none = await h.analytics.breakdown({ eventName: "", attribute: "campaign", ...range, limit: 0, filters: [] }, c.ctx);
    expect(none.rows).to.deep.equal([]);
  });
});
