// Analytics answers come from Redis until the tenant ingests new events.
import { createCacheRedis } from "@apgms/common";
import { Granularity, Metric, TimeSeriesResponse, type TimeSeriesRequest } from "@apgms/proto/apgms/insights/v1/analytics";
import { expect } from "chai";
import { AnswerCache, answerOf } from "../src/cache.js";
import { toProto } from "./events.js";
import { startHarness, type Harness } from "./harness.js";

const HOUR = 3_600_000;

describe("answer cache", function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("insights_cache");
  });
  after(async () => {
    await h?.stop();
  });

  const start = Date.now() - 10 * HOUR;
  const series: TimeSeriesRequest = {
    eventName: "viewed",
    metric: Metric.METRIC_COUNT,
    sumAttribute: "",
    granularity: Granularity.GRANULARITY_DAY,
    startTime: new Date(start),
    endTime: new Date(start + 11 * HOUR),
    timeZone: "UTC",
    filters: [],
    splitBy: "",
    splitLimit: 0,
  };
  const total = (res: TimeSeriesResponse) => res.series[0]!.values.reduce((n, v) => n + v, 0);
  const event = (id: string) => toProto({ id, name: "viewed", t: start + HOUR, subject: "s", attributes: { campaign: "c" } });
  const stats = () => h.cache.cache.stats();

  it("answers a repeated question from Redis, and afresh once the tenant ingested new events", async () => {
    const t = h.tenant();
    await h.events.ingestEvents({ events: [event("e1")] }, t.ctx);
    const first = await h.analytics.timeSeries(series, t.ctx);
    expect(total(first)).to.equal(1);
    const before = stats();
    expect(await h.analytics.timeSeries(series, t.ctx)).to.deep.equal(first);
    expect(stats().hits).to.equal(before.hits + 1);

    await h.events.ingestEvents({ events: [event("e2")] }, t.ctx);
    const afterIngest = stats();
    expect(total(await h.analytics.timeSeries(series, t.ctx))).to.equal(2);
    expect(stats().misses).to.equal(afterIngest.misses + 1);
    expect(stats().hits).to.equal(afterIngest.hits);
  });

  it("is not invalidated by a batch of duplicates, nor by another tenant's events", async () => {
    const a = h.tenant();
    const b = h.tenant();
    await h.events.ingestEvents({ events: [event("e1")] }, a.ctx);
    await h.analytics.timeSeries(series, a.ctx);
    await h.events.ingestEvents({ events: [event("e1")] }, a.ctx); // a duplicate: nothing new
    await h.events.ingestEvents({ events: [event("e1"), event("e2")] }, b.ctx);
    const before = stats();
    expect(total(await h.analytics.timeSeries(series, a.ctx))).to.equal(1);
    expect(stats().hits).to.equal(before.hits + 1);
    expect(total(await h.analytics.timeSeries(series, b.ctx))).to.equal(2);
  });

  it("never stores an answer computed while the tenant's next batch committed", async () => {
    const t = h.tenant();
    const question = "a question";
    const codec = TimeSeriesResponse;
    const answer = (n: number): TimeSeriesResponse => ({ startTime: new Date(0), endTime: new Date(1), series: [{ splitValue: undefined, bucketStarts: [0], values: [n] }], source: 0 });
    const before = stats();
    // The batch commits (and bumps the tenant's generation) while the answer is being computed.
    const get = async (load: () => Promise<TimeSeriesResponse>) => answerOf(codec, await h.cache.cache.get(t.tenantId, question, codec, load));
    const raced = await get(async () => {
      await h.cache.cache.invalidate(t.tenantId);
      return answer(1);
    });
    expect(total(raced)).to.equal(1);
    expect(stats().staleRefused).to.equal(before.staleRefused + 1);
    const fresh = await get(async () => answer(2));
    expect(total(fresh)).to.equal(2);
    expect(total(await get(async () => answer(3)))).to.equal(2);
  });

  it("answers from Postgres while Redis is unreachable, and keeps the tenant's invalidation until Redis confirms it", async () => {
    const redis = createCacheRedis("redis://127.0.0.1:1", "apgms-test-down:");
    const cache = new AnswerCache(redis, { ttlSeconds: 60, replayIntervalMs: 50 });
    try {
      let loads = 0;
      const load = async () => {
        loads++;
        return TimeSeriesResponse.fromPartial({});
      };
      await cache.get("t", "q", TimeSeriesResponse, load);
      await cache.get("t", "q", TimeSeriesResponse, load);
      expect(loads).to.equal(2);
      await cache.invalidate("t");
      expect(cache.stats().pendingInvalidations).to.equal(1);
      expect(cache.stats().bypassed).to.equal(2);
    } finally {
      await cache.close();
      redis.disconnect();
    }
  });
});
