import { DataSource, Granularity, Metric, type TimeSeriesRequest } from "@apgms/proto/apgms/insights/v1/analytics";
import { expect } from "chai";
import { rawSeriesSql, readSeries, rollupSeriesSql } from "../src/db/time-series.js";
import { timeSeriesQuery } from "../src/domain/time-series-input.js";
import { seriesOf } from "./convert.js";
import { dataset, DAY, EDGES, FROM, HOUR, TO } from "./dataset.js";
import { toProto, value, type Plain, type TestEvent } from "./events.js";
import { startHarness, type Harness } from "./harness.js";
import { expectedSeries, type SeriesQuery, type Unit } from "./reference.js";

const GRANULARITY: Record<Unit, Granularity> = {
  minute: Granularity.GRANULARITY_MINUTE,
  hour: Granularity.GRANULARITY_HOUR,
  day: Granularity.GRANULARITY_DAY,
  week: Granularity.GRANULARITY_WEEK,
};

/** The request for a reference query. */
function request(q: SeriesQuery): TimeSeriesRequest {
  return {
    eventName: q.name,
    metric: q.metric.kind === "count" ? Metric.METRIC_COUNT : q.metric.kind === "sum" ? Metric.METRIC_SUM : Metric.METRIC_UNIQUE_SUBJECTS,
    sumAttribute: q.metric.kind === "sum" ? q.metric.key : "",
    granularity: GRANULARITY[q.unit],
    startTime: new Date(q.start),
    endTime: new Date(q.end),
    timeZone: q.zone,
    filters: Object.entries(q.filters ?? {}).map(([key, v]: [string, Plain]) => ({ key, value: value(v) })),
    splitBy: q.split?.key ?? "",
    splitLimit: q.split?.limit ?? 0,
  };
}

describe("TimeSeries", function () {
  this.timeout(120_000);
  let h: Harness;
  let tenant: ReturnType<Harness["tenant"]>;
  let events: TestEvent[];

  before(async () => {
    h = await startHarness("insights_series");
    tenant = h.tenant();
    events = dataset(1);
    for (let i = 0; i < events.length; i += 1_000) {
      const res = await h.events.ingestEvents({ events: events.slice(i, i + 1_000).map(toProto) }, tenant.ctx);
      expect(res.rejected).to.deep.equal([]);
    }
  });
  after(async () => {
    await h?.stop();
  });

  const viewed = "offer.viewed";
  const cases: Array<{ title: string; source: DataSource; q: SeriesQuery }> = [
    { title: "hourly counts in Berlin over its 25-hour day", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: viewed, metric: { kind: "count" }, unit: "hour", start: Date.UTC(2026, 9, 24, 5, 7), end: Date.UTC(2026, 9, 26, 22, 50), zone: "Europe/Berlin" } },
    { title: "daily counts in Berlin", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: "offer.redeemed", metric: { kind: "count" }, unit: "day", start: FROM, end: TO, zone: "Europe/Berlin" } },
    { title: "hourly counts in New York across its repeated 01:00", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: viewed, metric: { kind: "count" }, unit: "hour", start: Date.UTC(2026, 10, 1), end: Date.UTC(2026, 10, 1, 12), zone: "America/New_York" } },
    { title: "daily counts in New York", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: "offer.clicked", metric: { kind: "count" }, unit: "day", start: Date.UTC(2026, 9, 28), end: Date.UTC(2026, 10, 4), zone: "America/New_York" } },
    { title: "hourly counts in Kolkata (+05:30)", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: viewed, metric: { kind: "count" }, unit: "hour", start: Date.UTC(2026, 9, 26), end: Date.UTC(2026, 9, 28), zone: "Asia/Kolkata" } },
    { title: "daily unique subjects in Kolkata", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: viewed, metric: { kind: "unique" }, unit: "day", start: FROM, end: TO, zone: "Asia/Kolkata" } },
    { title: "hourly unique subjects in Kathmandu (+05:45)", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: "offer.redeemed", metric: { kind: "unique" }, unit: "hour", start: Date.UTC(2026, 9, 25), end: Date.UTC(2026, 9, 28), zone: "Asia/Kathmandu" } },
    { title: "weekly sums in UTC", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: "offer.redeemed", metric: { kind: "sum", key: "amount" }, unit: "week", start: FROM, end: TO, zone: "" } },
    { title: "daily sums in Berlin", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: "offer.redeemed", metric: { kind: "sum", key: "amount" }, unit: "day", start: FROM, end: TO, zone: "Europe/Berlin" } },
    { title: "counts filtered by a dimension", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: viewed, metric: { kind: "count" }, unit: "day", start: FROM, end: TO, zone: "Asia/Kolkata", filters: { campaign: "spring" } } },
    { title: "counts split by a dimension", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: viewed, metric: { kind: "count" }, unit: "day", start: FROM, end: TO, zone: "Europe/Berlin", split: { key: "channel", limit: 2 } } },
    { title: "counts filtered by a boolean that is not a dimension", source: DataSource.DATA_SOURCE_RAW, q: { name: viewed, metric: { kind: "count" }, unit: "day", start: FROM, end: TO, zone: "Europe/Berlin", filters: { member: true } } },
    { title: "counts with two filters", source: DataSource.DATA_SOURCE_RAW, q: { name: "offer.clicked", metric: { kind: "count" }, unit: "hour", start: Date.UTC(2026, 9, 24), end: Date.UTC(2026, 9, 27), zone: "Europe/Berlin", filters: { campaign: "summer", position: 2 } } },
    { title: "sums split by a dimension", source: DataSource.DATA_SOURCE_RAW, q: { name: "offer.redeemed", metric: { kind: "sum", key: "amount" }, unit: "day", start: FROM, end: TO, zone: "America/New_York", split: { key: "campaign", limit: 5 } } },
    { title: "unique subjects split by a boolean", source: DataSource.DATA_SOURCE_RAW, q: { name: viewed, metric: { kind: "unique" }, unit: "week", start: FROM, end: TO, zone: "Asia/Kolkata", split: { key: "member", limit: 5 } } },
    { title: "minute buckets around Berlin's midnight", source: DataSource.DATA_SOURCE_RAW, q: { name: viewed, metric: { kind: "count" }, unit: "minute", start: EDGES.berlinMidnight - 30 * 60_000, end: EDGES.berlinMidnight + 30 * 60_000, zone: "Europe/Berlin" } },
    { title: "an empty range", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: viewed, metric: { kind: "count" }, unit: "day", start: Date.UTC(2026, 0, 1), end: Date.UTC(2026, 0, 8), zone: "Europe/Berlin" } },
    { title: "an event name never sent, split", source: DataSource.DATA_SOURCE_ROLLUP, q: { name: "never.sent", metric: { kind: "count" }, unit: "day", start: FROM, end: TO, zone: "UTC", split: { key: "campaign", limit: 3 } } },
  ];

  for (const { title, source, q } of cases) {
    it(`equals the answer computed from the sent events: ${title}`, async () => {
      const res = await h.analytics.timeSeries(request(q), tenant.ctx);
      expect(res.source).to.equal(source);
      const expected = expectedSeries(events, q);
      expect(seriesOf(res)).to.deep.equal(expected);
      if (q.name !== "never.sent" && q.start > Date.UTC(2026, 1)) {
        const total = expected.series.reduce((n, s) => n + s.points.reduce((m, [, v]) => m + v, 0), 0);
        expect(total, "the case has data").to.be.greaterThan(0);
      }
    });
  }

  it("makes Berlin's DST day 25 hours long and New York's repeated 01:00 two hourly buckets, and Kolkata's hours start at :30", async () => {
    const day = seriesOf(await h.analytics.timeSeries(request(cases[1]!.q), tenant.ctx)).series[0]!.points.map(([t]) => t);
    const i = day.indexOf(Date.UTC(2026, 9, 24, 22)); // 2026-10-25 00:00 CEST
    expect(day[i + 1]! - day[i]!).to.equal(25 * HOUR);
    expect(day[i + 2]! - day[i + 1]!).to.equal(24 * HOUR);
    const ny = seriesOf(await h.analytics.timeSeries(request(cases[2]!.q), tenant.ctx)).series[0]!.points;
    expect(ny.map(([t]) => t)).to.include.members([EDGES.newYorkFirstOneAm, EDGES.newYorkSecondOneAm]);
    // Each of the two 01:00 holds its own edge events (at -1 ms the previous hour holds one).
    expect(ny.find(([t]) => t === EDGES.newYorkFirstOneAm)![1]).to.be.at.least(2);
    const kolkata = seriesOf(await h.analytics.timeSeries(request(cases[4]!.q), tenant.ctx)).series[0]!.points;
    for (const [t] of kolkata) expect(new Date(t).getUTCMinutes()).to.equal(30);
  });

  it("widens the range to whole buckets of the zone and says so", async () => {
    const res = seriesOf(await h.analytics.timeSeries(request(cases[0]!.q), tenant.ctx));
    expect(res.start).to.equal(Date.UTC(2026, 9, 24, 5)); // 07:00 CEST
    expect(res.end).to.equal(Date.UTC(2026, 9, 26, 23)); // 00:00 CET
    expect(res.series[0]!.points).to.have.length(66); // 2 days and 18 hours, one of them Berlin's repeated 02:00
  });

  it("answers the same from the rollups as from a scan of the raw events", async () => {
    const shapes: SeriesQuery[] = [
      ...cases.filter((c) => c.source === DataSource.DATA_SOURCE_ROLLUP).map((c) => c.q),
      { name: "offer.clicked", metric: { kind: "count" }, unit: "hour", start: FROM, end: FROM + 10 * DAY, zone: "Asia/Kathmandu", split: { key: "campaign", limit: 3 } },
      { name: "offer.redeemed", metric: { kind: "unique" }, unit: "week", start: FROM, end: TO, zone: "America/New_York" },
    ];
    let withData = 0;
    for (const shape of shapes) {
      const query = timeSeriesQuery(request(shape));
      const fromRollups = await readSeries(h.asTenant(tenant.tenantId), rollupSeriesSql(query, tenant.tenantId));
      const fromRaw = await readSeries(h.asTenant(tenant.tenantId), rawSeriesSql(query, tenant.tenantId));
      expect(fromRollups, JSON.stringify(shape)).to.deep.equal(fromRaw);
      if (fromRollups.some((r) => (r.v ?? 0) > 0)) withData++;
    }
    expect(withData).to.equal(shapes.length - 2); // all but the empty range and the name never sent
  });
});
