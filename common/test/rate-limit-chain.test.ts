import { expect } from "chai";
import type { Redis } from "ioredis";
import { RateLimiterRedis } from "rate-limiter-flexible";
import { createRateLimitChain, type RateLimitChain, type WindowLimit } from "../src/rate-limit-chain.js";
import { createRateLimiter } from "../src/rate-limit.js";
import { createRedis } from "../src/redis.js";
import { deleteKeys, PrivateRedis, SHARED_REDIS_URL, testKeyPrefix, waitFor } from "./cache-support.js";

/** Counts what the client sends to Redis (one command = one round trip here: nothing else runs on it). */
function countCommands(redis: Redis): { readonly sent: number } {
  const counter = { sent: 0 };
  const send = redis.sendCommand.bind(redis);
  redis.sendCommand = (...args: Parameters<Redis["sendCommand"]>) => {
    counter.sent++;
    return send(...args);
  };
  return counter;
}

describe("rate-limit chain: several keys charged in one Redis round trip", () => {
  const prefix = testKeyPrefix("rl-chain");
  let redis: Redis;
  let chain: RateLimitChain;
  let n = 0;
  /** A principal and a tenant limit under prefixes of their own (each test its own keys). */
  const pair = (principal: number, tenant: number, windowSeconds = 60) => {
    n++;
    return {
      principal: chain.limit({ keyPrefix: `t${n}:principal`, points: principal, windowSeconds }),
      tenant: chain.limit({ keyPrefix: `t${n}:tenant`, points: tenant, windowSeconds }),
    };
  };
  const charge = (limits: { principal: WindowLimit; tenant: WindowLimit }, cost: number) =>
    chain.consume([
      { limit: limits.principal, key: "user:1", cost },
      { limit: limits.tenant, key: "tenant-a", cost },
    ]);
  const counter = async (limit: WindowLimit, key: string) => Number((await redis.get(`${limit.keyPrefix}:${key}`)) ?? 0);

  before(async () => {
    redis = createRedis(SHARED_REDIS_URL, prefix);
    await waitFor("redis client", () => redis.status === "ready");
    chain = createRateLimitChain({ redis });
  });

  after(async () => {
    redis.disconnect();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it("charges the principal, then the tenant, in one round trip, with the window's TTL on both keys", async () => {
    const limits = pair(10, 100);
    const sent = countCommands(redis);
    const before = sent.sent;
    const outcomes = await charge(limits, 3);
    expect(sent.sent - before).to.equal(1);
    expect(outcomes).to.have.length(2);
    expect(outcomes[0]).to.deep.include({ allowed: true, remaining: 7, exceededNow: false });
    expect(outcomes[1]).to.deep.include({ allowed: true, remaining: 97, exceededNow: false });
    for (const o of outcomes) expect(o.resetMs).to.be.within(59_000, 60_000);
    expect(await counter(limits.principal, "user:1")).to.equal(3);
    expect(await counter(limits.tenant, "tenant-a")).to.equal(3);
    expect(await redis.pttl(`${limits.tenant.keyPrefix}:tenant-a`)).to.be.within(59_000, 60_000);
  });

  it("refuses a principal over its limit without touching its tenant's counter", async () => {
    const limits = pair(4, 100);
    expect((await charge(limits, 3)).map((o) => o.allowed)).to.deep.equal([true, true]);
    const refused = await charge(limits, 3);
    expect(refused).to.have.length(1);
    expect(refused[0]).to.deep.include({ allowed: false, remaining: 0, exceededNow: true });
    expect(await counter(limits.principal, "user:1")).to.equal(6); // what it asked for counts
    expect(await counter(limits.tenant, "tenant-a")).to.equal(3);
    // Refused from memory from now on: still one outcome, the tenant still untouched.
    expect(await charge(limits, 1)).to.have.length(1);
    expect(await counter(limits.tenant, "tenant-a")).to.equal(3);
  });

  it("counts the principal when its tenant refuses, and reports each key's crossing once per window", async () => {
    const limits = pair(100, 5);
    const outcomes = [];
    for (let i = 0; i < 5; i++) outcomes.push(await charge(limits, 2));
    expect(outcomes.map((o) => o.map((x) => x.allowed))).to.deep.equal([[true, true], [true, true], [true, false], [true, false], [true, false]]);
    expect(outcomes.flat().filter((o) => o.exceededNow)).to.have.length(1);
    expect(outcomes[2]![1]).to.deep.include({ exceededNow: true, remaining: 0 });
    // The tenant's refusals after the first are answered from memory, the principal's points still count.
    expect(await counter(limits.principal, "user:1")).to.equal(10);
    expect(await counter(limits.tenant, "tenant-a")).to.equal(6);
  });

  it("reports a crossing once however many requests were in flight, and not again from another instance", async () => {
    const limits = pair(4, 1_000);
    const burst = await Promise.all(Array.from({ length: 10 }, () => charge(limits, 1)));
    expect(burst.filter((o) => o[0]!.allowed)).to.have.length(4);
    expect(burst.flat().filter((o) => o.exceededNow)).to.have.length(1);
    // A second edge (its own memory, the same Redis counters): refused by Redis, not reported again.
    const other = createRateLimitChain({ redis });
    const again = await other.consume([{ limit: other.limit(limits.principal), key: "user:1", cost: 1 }]);
    expect(again[0]).to.deep.include({ allowed: false, exceededNow: false });
  });

  it("refuses a key over its limit from memory until its window ends: a flood does not reach Redis", async function () {
    this.timeout(10_000);
    const limits = pair(2, 100, 1);
    const sent = countCommands(redis);
    await charge(limits, 2);
    await charge(limits, 1);
    const afterCrossing = sent.sent;
    const flood = await Promise.all(Array.from({ length: 50 }, () => charge(limits, 1)));
    expect(sent.sent).to.equal(afterCrossing);
    expect(flood.every((o) => o.length === 1 && !o[0]!.allowed && !o[0]!.exceededNow)).to.equal(true);
    expect(flood[0]![0]!.resetMs).to.be.within(1, 1_000);
    await waitFor("the window to end", async () => (await charge(limits, 1))[0]!.allowed, 3_000);
    expect(sent.sent).to.be.greaterThan(afterCrossing);
  });

  it("clamps a charge's cost to between 1 and the limit's points", async () => {
    const limits = pair(10, 1_000);
    expect((await charge(limits, 0))[0]!.remaining).to.equal(9);
    expect((await charge(limits, 0.2))[0]!.remaining).to.equal(8);
    const huge = await charge(limits, 1e9); // 10 for the principal: over, so the tenant is not charged
    expect(huge).to.have.length(1);
    expect(await counter(limits.principal, "user:1")).to.equal(12);
    expect(await counter(limits.tenant, "tenant-a")).to.equal(2);
  });

  it("keeps the counters rate-limiter-flexible's RateLimiterRedis keeps, so a running deployment's windows carry over", async () => {
    const limits = pair(50, 100);
    const flexible = new RateLimiterRedis({ storeClient: redis, keyPrefix: limits.principal.keyPrefix, points: 50, duration: 60 });
    await flexible.consume("user:1", 7);
    expect((await charge(limits, 3))[0]).to.deep.include({ remaining: 40 });
    const seen = await flexible.get("user:1");
    expect(seen?.consumedPoints).to.equal(10);
    expect(seen?.msBeforeNext).to.be.within(59_000, 60_000);
  });

  it("serves single-key limits through createRateLimiter on the same keys", async () => {
    const keyPrefix = `t${++n}:ip`;
    const ip = createRateLimiter({ redis, keyPrefix, points: 2, windowSeconds: 60 });
    const outcomes = [await ip.consume("203.0.113.7"), await ip.consume("203.0.113.7"), await ip.consume("203.0.113.7"), await ip.consume("203.0.113.7")];
    expect(outcomes.map((o) => [o.allowed, o.remaining, o.exceededNow])).to.deep.equal([
      [true, 1, false],
      [true, 0, false],
      [false, 0, true],
      [false, 0, false],
    ]);
    expect(await redis.get(`${keyPrefix}:203.0.113.7`)).to.equal("3");
  });
});

describe("rate-limit chain when Redis fails", () => {
  let server: PrivateRedis;
  let redis: Redis;
  let chain: RateLimitChain;
  let n = 0;
  const pair = (principal: number, tenant: number) => {
    n++;
    return {
      principal: chain.limit({ keyPrefix: `t${n}:principal`, points: principal, windowSeconds: 60 }),
      tenant: chain.limit({ keyPrefix: `t${n}:tenant`, points: tenant, windowSeconds: 60 }),
    };
  };
  const charge = async (limits: { principal: WindowLimit; tenant: WindowLimit }, cost: number, withinMs: number) => {
    const started = Date.now();
    const outcomes = await chain.consume([
      { limit: limits.principal, key: "user:1", cost },
      { limit: limits.tenant, key: "tenant-a", cost },
    ]);
    expect(Date.now() - started, "answered within").to.be.below(withinMs);
    return outcomes.map((o) => o.allowed);
  };

  before(async function () {
    this.timeout(20_000);
    server = await PrivateRedis.start();
    redis = createRedis(server.url, "apgms-test-rl-chain:");
    redis.on("error", () => {}); // expected while the server is down
    await waitFor("redis client", () => redis.status === "ready");
    chain = createRateLimitChain({ redis, redisTimeoutMs: 100 });
  });

  after(async () => {
    redis.disconnect();
    await server.kill();
  });

  it("limits from memory, principal then tenant, while Redis is down, and uses Redis again once it is back", async function () {
    this.timeout(20_000);
    const limits = pair(6, 8);
    expect(await charge(limits, 2, 500)).to.deep.equal([true, true]);
    await server.kill();
    await waitFor("the client to notice", () => redis.status !== "ready");
    // The insurance starts empty: the principal allows 3, the tenant 4.
    const down = [];
    for (let i = 0; i < 5; i++) down.push(await charge(limits, 2, 50));
    expect(down).to.deep.equal([[true, true], [true, true], [true, true], [false], [false]]);
    const other = pair(100, 4);
    const viaTenant = [await chain.consume([{ limit: other.principal, key: "user:2", cost: 3 }, { limit: other.tenant, key: "t", cost: 3 }]), await chain.consume([{ limit: other.principal, key: "user:2", cost: 3 }, { limit: other.tenant, key: "t", cost: 3 }])];
    expect(viaTenant.map((o) => o.map((x) => [x.allowed, x.exceededNow]))).to.deep.equal([
      [[true, false], [true, false]],
      [[true, false], [false, true]],
    ]);

    await server.start();
    await waitFor("the client to reconnect", () => redis.status === "ready", 10_000);
    const fresh = pair(6, 8);
    expect(await charge(fresh, 2, 500)).to.deep.equal([true, true]);
    expect(await redis.get(`${fresh.tenant.keyPrefix}:tenant-a`)).to.equal("2");
  });

  it("does not wait on a hung Redis: past the timeout the insurance answers", async function () {
    this.timeout(20_000);
    const limits = pair(6, 100);
    expect(await charge(limits, 2, 500)).to.deep.equal([true, true]);
    server.pause();
    try {
      const hung = [];
      for (let i = 0; i < 4; i++) hung.push(await charge(limits, 2, 400));
      expect(hung).to.deep.equal([[true, true], [true, true], [true, true], [false]]);
    } finally {
      server.resume();
    }
  });
});
