// Every query limit answers INVALID_ARGUMENT naming the field, before any work.
import { status } from "@grpc/grpc-js";
import { Granularity, Metric, RetentionPeriod, type FunnelRequest, type RetentionRequest, type TimeSeriesRequest } from "@apgms/proto/apgms/insights/v1/analytics";
import { expect } from "chai";
import { expectError, startHarness, type Harness } from "./harness.js";

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 9, 1);

describe("analytics limits", function () {
  this.timeout(60_000);
  let h: Harness;
  let ctx: ReturnType<Harness["tenant"]>["ctx"];
  before(async () => {
    h = await startHarness("insights_limits");
    ctx = h.tenant().ctx;
  });
  after(async () => {
    await h?.stop();
  });

  const series = (extra: Partial<TimeSeriesRequest>): TimeSeriesRequest => ({
    eventName: "v",
    metric: Metric.METRIC_COUNT,
    sumAttribute: "",
    granularity: Granularity.GRANULARITY_DAY,
    startTime: new Date(T0),
    endTime: new Date(T0 + 7 * DAY),
    timeZone: "Europe/Berlin",
    filters: [],
    splitBy: "",
    splitLimit: 0,
    ...extra,
  });

  it("TimeSeries", async () => {
    const refused: Array<[Partial<TimeSeriesRequest>, string, string]> = [
      [{ eventName: "" }, "event_name", "is required"],
      [{ metric: Metric.METRIC_UNSPECIFIED }, "metric", "METRIC_COUNT"],
      [{ metric: Metric.METRIC_SUM }, "sum_attribute", "is required"],
      [{ sumAttribute: "amount" }, "sum_attribute", "only for METRIC_SUM"],
      [{ granularity: Granularity.GRANULARITY_UNSPECIFIED }, "granularity", "GRANULARITY_MINUTE"],
      [{ startTime: undefined }, "start_time", "is required"],
      [{ endTime: new Date(T0) }, "end_time", "after start_time"],
      [{ granularity: Granularity.GRANULARITY_MINUTE, endTime: new Date(T0 + DAY + 60_000) }, "end_time", "24 hours for minute buckets"],
      [{ granularity: Granularity.GRANULARITY_HOUR, endTime: new Date(T0 + 63 * DAY) }, "end_time", "1500 hour buckets"],
      [{ endTime: new Date(T0 + 401 * DAY) }, "end_time", "400 days"],
      [{ timeZone: "+05:30" }, "time_zone", "IANA"],
      [{ timeZone: "Mars/Olympus_Mons" }, "time_zone", "unknown time zone"],
      [{ filters: Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: { stringValue: "x" } })) }, "filters", "at most 5"],
      [{ filters: [{ key: "campaign", value: {} }] }, "filters[0].value", "exactly one"],
      [{ filters: [{ key: "9x", value: { boolValue: true } }] }, "filters[0].key", "a letter or _"],
      [{ splitLimit: 3 }, "split_limit", "only for split_by"],
      [{ splitBy: "campaign", splitLimit: 21 }, "split_limit", "1..20"],
      // Raw reads are bounded: a non-dimension filter over more than 31 days.
      [{ filters: [{ key: "member", value: { boolValue: true } }], endTime: new Date(T0 + 32 * DAY) }, "end_time", "31 days when the answer reads raw events"],
    ];
    for (const [extra, field, message] of refused) {
      const err = await expectError(h.analytics.timeSeries(series(extra), ctx), status.INVALID_ARGUMENT, field);
      expect(err.details, field).to.include(message);
    }
    // The same non-dimension filter over 31 days is answered.
    const ok = await h.analytics.timeSeries(series({ filters: [{ key: "member", value: { boolValue: true } }], endTime: new Date(T0 + 31 * DAY) }), ctx);
    expect(ok.series[0]!.bucketStarts.length).to.be.within(31, 32);
  });

  it("Breakdown", async () => {
    const base = { eventName: "", attribute: "campaign", startTime: new Date(T0), endTime: new Date(T0 + DAY), limit: 0, filters: [] };
    await expectError(h.analytics.breakdown({ ...base, attribute: "" }, ctx), status.INVALID_ARGUMENT, "attribute");
    await expectError(h.analytics.breakdown({ ...base, limit: 101 }, ctx), status.INVALID_ARGUMENT, "limit");
    await expectError(h.analytics.breakdown({ ...base, endTime: new Date(T0 + 401 * DAY) }, ctx), status.INVALID_ARGUMENT, "end_time");
    const raw = await expectError(h.analytics.breakdown({ ...base, attribute: "position", endTime: new Date(T0 + 40 * DAY) }, ctx), status.INVALID_ARGUMENT, "end_time");
    expect(raw.details).to.include("not a dimension");
    expect((await h.analytics.breakdown({ ...base, endTime: new Date(T0 + 400 * DAY) }, ctx)).rows).to.deep.equal([]);
  });

  it("Funnel", async () => {
    const base: FunnelRequest = { steps: ["a", "b"], startTime: new Date(T0), endTime: new Date(T0 + DAY), conversionWindowSeconds: 0, breakdownBy: "", breakdownLimit: 0 };
    const refused: Array<[Partial<FunnelRequest>, string, string]> = [
      [{ steps: ["a"] }, "steps", "2..10"],
      [{ steps: Array.from({ length: 11 }, (_, i) => `s${i}`) }, "steps", "2..10"],
      [{ steps: ["a", "b", "a"] }, "steps", "different"],
      [{ steps: ["a", "no spaces"] }, "steps[1]", "letters"],
      [{ conversionWindowSeconds: 31 * 86_400 + 1 }, "conversion_window_seconds", "1..2678400"],
      [{ conversionWindowSeconds: -1 }, "conversion_window_seconds", "1..2678400"],
      [{ endTime: new Date(T0 + 32 * DAY) }, "end_time", "31 days for a funnel"],
      [{ breakdownLimit: 2 }, "breakdown_limit", "only for breakdown_by"],
    ];
    for (const [extra, field, message] of refused) {
      const err = await expectError(h.analytics.funnel({ ...base, ...extra }, ctx), status.INVALID_ARGUMENT, field);
      expect(err.details, field).to.include(message);
    }
  });

  it("Retention", async () => {
    const base: RetentionRequest = { startEvent: "a", returnEvent: "a", period: RetentionPeriod.RETENTION_PERIOD_DAY, startTime: new Date(T0), endTime: new Date(T0 + 7 * DAY), timeZone: "" };
    await expectError(h.analytics.retention({ ...base, period: RetentionPeriod.RETENTION_PERIOD_UNSPECIFIED }, ctx), status.INVALID_ARGUMENT, "period");
    await expectError(h.analytics.retention({ ...base, returnEvent: "" }, ctx), status.INVALID_ARGUMENT, "return_event");
    const long = await expectError(h.analytics.retention({ ...base, endTime: new Date(T0 + 100 * DAY) }, ctx), status.INVALID_ARGUMENT, "end_time");
    expect(long.details).to.include("at most 92 days for retention (92 daily periods)");
    await expectError(h.analytics.retention({ ...base, period: RetentionPeriod.RETENTION_PERIOD_WEEK, endTime: new Date(T0 + 60 * 7 * DAY) }, ctx), status.INVALID_ARGUMENT, "end_time");
    expect((await h.analytics.retention({ ...base, endTime: new Date(T0 + 92 * DAY) }, ctx)).cohorts.length).to.be.within(92, 93);
  });

  it("SetDimensions", async () => {
    await expectError(h.analytics.setDimensions({ keys: Array.from({ length: 21 }, (_, i) => `k${i}`) }, ctx), status.INVALID_ARGUMENT, "keys");
    await expectError(h.analytics.setDimensions({ keys: ["a", "a"] }, ctx), status.INVALID_ARGUMENT, "keys");
    await expectError(h.analytics.setDimensions({ keys: ["ok", "not ok"] }, ctx), status.INVALID_ARGUMENT, "keys[1]");
  });
});
