import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Redis } from "ioredis";
import { Changes, createCacheRedis, jsonCodec, ReadThroughCache, type CachedEntity, type ReadThroughCacheOptions } from "../src/cache/index.js";
import { createRedis } from "../src/redis.js";
import { deferred, deleteKeys, SHARED_REDIS_URL, testKeyPrefix, waitFor } from "./cache-support.js";

interface User {
  id: string;
  name: string;
  createdAt: Date;
  deletedAt: Date | null;
}

const userCodec = jsonCodec<User>(["createdAt", "deletedAt"]);
const user = (id: string, name: string): User => ({ id, name, createdAt: new Date("2026-01-02T03:04:05.678Z"), deletedAt: null });

describe("read-through cache", () => {
  const prefix = testKeyPrefix("cache");
  // Two clients = two instances of a service. A generous timeout: these tests are not about outages.
  let redisA: Redis;
  let redisB: Redis;
  let raw: Redis;
  const caches: ReadThroughCache[] = [];

  function cache(redis: Redis | null, options: Partial<ReadThroughCacheOptions> = {}): ReadThroughCache {
    const made = new ReadThroughCache({ redis, namespace: "identity", ...options });
    caches.push(made);
    return made;
  }

  const users = (c: ReadThroughCache, version = 1, ttlSeconds?: number): CachedEntity<User> =>
    c.entity({ name: "user", version, codec: userCodec, ...(ttlSeconds ? { ttlSeconds } : {}) });

  /** A loader over a mutable "table" that counts its calls. */
  function table(initial: Record<string, string> = {}) {
    const rows = new Map(Object.entries(initial));
    const t = {
      rows,
      calls: 0,
      load: (id: string) => async (): Promise<User | null> => {
        t.calls++;
        const name = rows.get(id);
        return name === undefined ? null : user(id, name);
      },
    };
    return t;
  }

  before(async () => {
    redisA = createCacheRedis(SHARED_REDIS_URL, prefix, undefined, { commandTimeoutMs: 2_000 });
    redisB = createCacheRedis(SHARED_REDIS_URL, prefix, undefined, { commandTimeoutMs: 2_000 });
    raw = createRedis(SHARED_REDIS_URL, prefix);
    await waitFor("redis clients", () => redisA.status === "ready" && redisB.status === "ready" && raw.status === "ready");
  });

  afterEach(async () => {
    await Promise.all(caches.splice(0).map((c) => c.close()));
  });

  after(async () => {
    redisA?.disconnect();
    redisB?.disconnect();
    raw?.disconnect();
    await deleteKeys(SHARED_REDIS_URL, prefix);
  });

  it("serves a hit in one Redis command after the first read loaded and stored it", async () => {
    const c = cache(redisA);
    const entity = users(c);
    const tenant = randomUUID();
    const t = table({ u1: "Ada" });
    expect(await entity.get(tenant, "u1", t.load("u1"))).to.deep.equal(user("u1", "Ada"));
    expect(await raw.exists(`identity:${tenant}:user:v1:u1`)).to.equal(1);
    const before = c.stats();
    expect(await entity.get(tenant, "u1", t.load("u1"))).to.deep.equal(user("u1", "Ada"));
    const after = c.stats();
    expect(t.calls).to.equal(1);
    expect(after.hits - before.hits).to.equal(1);
    expect(after.redisCommands - before.redisCommands).to.equal(1);
  });

  it("sends the reads asked for side by side, of one entity or several, as one Redis command", async () => {
    const c = cache(redisA);
    const entity = users(c);
    const other = c.entity<User>({ name: "tenant", version: 1, codec: userCodec });
    const tenant = randomUUID();
    const t = table({ u1: "Ada", u2: "Bob", u3: "Cy" });
    await entity.getMany(tenant, ["u1", "u2", "u3"], async (ids) => new Map(ids.map((id) => [id, user(id, t.rows.get(id)!)])));
    await other.get(tenant, "t1", async () => user("t1", "Tenant"));
    const before = c.stats();
    const [one, many, theirs, none] = await Promise.all([
      entity.get(tenant, "u2", t.load("u2")),
      entity.getMany(tenant, ["u3", "u1"], async () => new Map()),
      other.get(tenant, "t1", async () => null),
      entity.get(tenant, "u4", t.load("u4")),
    ]);
    const after = c.stats();
    expect(one).to.deep.equal(user("u2", "Bob"));
    expect([...many.values()]).to.deep.equal([user("u3", "Cy"), user("u1", "Ada")]);
    expect(theirs).to.deep.equal(user("t1", "Tenant"));
    expect(none).to.equal(null);
    expect(after.hits - before.hits).to.equal(4);
    // One MGET for all four reads, then the miss's lock taken and released (nothing to store).
    expect(after.redisCommands - before.redisCommands).to.equal(3);
  });

  it("refuses to store a load that began before a write another instance invalidated", async () => {
    const a = users(cache(redisA));
    const cacheB = cache(redisB);
    const b = users(cacheB);
    const tenant = randomUUID();
    let stored = "old";
    const slowRead = deferred<User | null>();
    let started = false;
    const reading = a.get(tenant, "u1", () => {
      started = true;
      return slowRead.promise;
    });
    await waitFor("the load to start", () => started);

    // The write commits on instance B, which invalidates; then the old read finishes.
    stored = "new";
    await b.invalidate(tenant, ["u1"]);
    slowRead.resolve(user("u1", "old"));
    expect((await reading)?.name).to.equal("old"); // concurrent with the write: allowed

    expect(await raw.exists(`identity:${tenant}:user:v1:u1`)).to.equal(0);
    expect(caches[0]!.stats().staleSetsRefused).to.equal(1);
    const fresh = async () => user("u1", stored);
    expect((await a.get(tenant, "u1", fresh))?.name).to.equal("new");
    expect((await b.get(tenant, "u1", fresh))?.name).to.equal("new");
    expect(cacheB.stats().hits).to.equal(1);
  });

  it("does not let a read after invalidate() join a load that began before it", async () => {
    const c = cache(redisA);
    const entity = users(c);
    const tenant = randomUUID();
    const slowRead = deferred<User | null>();
    const before = entity.get(tenant, "u1", () => slowRead.promise);
    await waitFor("the load to start", () => c.stats().loads === 1);
    await entity.invalidate(tenant, ["u1"]);
    const after = entity.get(tenant, "u1", async () => user("u1", "new"));
    slowRead.resolve(user("u1", "old"));
    expect((await before)?.name).to.equal("old");
    expect((await after)?.name).to.equal("new");
    expect(c.stats().coalesced).to.equal(0);
  });

  it("calls the loader once for 200 concurrent reads of a missing key over two instances", async () => {
    const cacheA = cache(redisA);
    const cacheB = cache(redisB);
    const [a, b] = [users(cacheA), users(cacheB)];
    const tenant = randomUUID();
    let calls = 0;
    const load = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 30));
      return user("u1", "Ada");
    };
    const reads = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).get(tenant, "u1", load));
    const results = await Promise.all(reads);
    expect(calls).to.equal(1);
    for (const r of results) expect(r).to.deep.equal(user("u1", "Ada"));
    const [sa, sb] = [cacheA.stats(), cacheB.stats()];
    expect(sa.coalesced + sb.coalesced).to.equal(198);
    expect(sa.lockWaits + sb.lockWaits).to.equal(1);
    expect(await raw.exists(`identity:${tenant}:user:v1:u1:lock`)).to.equal(0);
  });

  it("waits for a lock it does not hold, then loads itself, and never deletes another's lock", async () => {
    const c = cache(redisA, { lockMs: 100 });
    const entity = users(c);
    const tenant = randomUUID();
    const lockKey = `identity:${tenant}:user:v1:u1:lock`;
    await raw.set(lockKey, "someone-else", "PX", 5_000);
    const started = Date.now();
    expect((await entity.get(tenant, "u1", async () => user("u1", "Ada")))?.name).to.equal("Ada");
    expect(Date.now() - started).to.be.within(90, 1_000);
    expect(await raw.get(lockKey)).to.equal("someone-else");
    expect(await raw.exists(`identity:${tenant}:user:v1:u1`)).to.equal(1);
  });

  it("passes a loader's error to every waiter and caches nothing", async () => {
    const c = cache(redisA);
    const entity = users(c);
    const tenant = randomUUID();
    let calls = 0;
    const failing = async (): Promise<User | null> => {
      calls++;
      await new Promise((r) => setTimeout(r, 20));
      throw new Error("database down");
    };
    const outcomes = await Promise.allSettled(Array.from({ length: 50 }, () => entity.get(tenant, "u1", failing)));
    expect(calls).to.equal(1);
    for (const o of outcomes) {
      expect(o.status).to.equal("rejected");
      expect((o as PromiseRejectedResult).reason.message).to.equal("database down");
    }
    expect(await raw.exists(`identity:${tenant}:user:v1:u1`, `identity:${tenant}:user:v1:u1:lock`)).to.equal(0);
    expect((await entity.get(tenant, "u1", async () => user("u1", "Ada")))?.name).to.equal("Ada");
  });

  it("stores with a TTL jittered within ±10%, the entity's own TTL overriding the cache's", async () => {
    const tenant = randomUUID();
    const c = cache(redisA, { ttlSeconds: 100 });
    const entity = users(c);
    const ids = Array.from({ length: 20 }, (_, i) => `u${i}`);
    for (const id of ids) await entity.get(tenant, id, async () => user(id, "x"));
    const pttls = await Promise.all(ids.map((id) => raw.pttl(`identity:${tenant}:user:v1:${id}`)));
    for (const ms of pttls) expect(ms).to.be.within(89_000, 110_000);
    expect(new Set(pttls).size).to.be.greaterThan(10);

    const short = users(c, 1, 10);
    await short.get(tenant, "s1", async () => user("s1", "x"));
    expect(await raw.pttl(`identity:${tenant}:user:v1:s1`)).to.be.within(8_900, 11_000);
  });

  it("does not store a value over maxValueBytes and counts it", async () => {
    const c = cache(redisA, { maxValueBytes: 200 });
    const entity = users(c);
    const tenant = randomUUID();
    const big = "é".repeat(100); // 200 bytes of UTF-8 in the name alone
    expect((await entity.get(tenant, "big", async () => user("big", big)))?.name).to.equal(big);
    expect((await entity.get(tenant, "small", async () => user("small", "s")))?.name).to.equal("s");
    expect(await raw.exists(`identity:${tenant}:user:v1:big`)).to.equal(0);
    expect(await raw.exists(`identity:${tenant}:user:v1:big:lock`)).to.equal(0);
    expect(await raw.exists(`identity:${tenant}:user:v1:small`)).to.equal(1);
    expect(c.stats().oversize).to.equal(1);
  });

  it("does not cache null", async () => {
    const entity = users(cache(redisA));
    const tenant = randomUUID();
    const t = table();
    expect(await entity.get(tenant, "ghost", t.load("ghost"))).to.equal(null);
    expect(await entity.get(tenant, "ghost", t.load("ghost"))).to.equal(null);
    expect(t.calls).to.equal(2);
    expect(await raw.exists(`identity:${tenant}:user:v1:ghost`)).to.equal(0);
  });

  it("keeps the same id of two tenants apart", async () => {
    const entity = users(cache(redisA));
    const [t1, t2] = [randomUUID(), randomUUID()];
    await entity.get(t1, "u1", async () => user("u1", "of tenant 1"));
    expect((await entity.get(t2, "u1", async () => user("u1", "of tenant 2")))?.name).to.equal("of tenant 2");
    expect((await entity.get(t1, "u1", async () => null))?.name).to.equal("of tenant 1");
    await entity.invalidate(t1, ["u1"]);
    expect((await entity.get(t2, "u1", async () => null))?.name).to.equal("of tenant 2");
  });

  it("round-trips Dates (and null dates) through jsonCodec", async () => {
    const entity = users(cache(redisA));
    const tenant = randomUUID();
    const deleted: User = { ...user("u1", "Ada"), deletedAt: new Date("2026-03-04T05:06:07.089Z") };
    await entity.get(tenant, "u1", async () => deleted);
    await entity.get(tenant, "u2", async () => user("u2", "Bob"));
    const hit1 = await entity.get(tenant, "u1", async () => null);
    const hit2 = await entity.get(tenant, "u2", async () => null);
    expect(hit1?.createdAt).to.be.instanceOf(Date);
    expect(hit1).to.deep.equal(deleted);
    expect(hit2?.deletedAt).to.equal(null);
    expect(hit2?.createdAt.getTime()).to.equal(user("u2", "Bob").createdAt.getTime());
  });

  it("never reads a value stored under another entity version", async () => {
    const c = cache(redisA);
    const tenant = randomUUID();
    await users(c, 1).get(tenant, "u1", async () => user("u1", "v1 shape"));
    expect((await users(c, 2).get(tenant, "u1", async () => user("u1", "v2 shape")))?.name).to.equal("v2 shape");
    expect(await raw.exists(`identity:${tenant}:user:v2:u1`)).to.equal(1);
  });

  it("getMany: one MGET for all ids, one load for the missing ones, which it stores", async () => {
    const c = cache(redisA);
    const entity = users(c);
    const tenant = randomUUID();
    await entity.get(tenant, "u1", async () => user("u1", "one"));
    await entity.get(tenant, "u2", async () => user("u2", "two"));
    const asked: string[][] = [];
    const load = async (missing: string[]) => {
      asked.push(missing);
      return new Map(missing.filter((id) => id !== "ghost").map((id) => [id, user(id, `loaded ${id}`)] as const));
    };
    const before = c.stats();
    const got = await entity.getMany(tenant, ["u1", "u3", "u2", "u4", "ghost", "u3"], load);
    const after = c.stats();
    expect(asked).to.deep.equal([["u3", "u4", "ghost"]]);
    expect([...got.keys()].sort()).to.deep.equal(["u1", "u2", "u3", "u4"]);
    expect(got.get("u1")?.name).to.equal("one");
    expect(got.get("u4")?.name).to.equal("loaded u4");
    expect(got.get("u4")?.createdAt).to.be.instanceOf(Date);
    expect(after.redisCommands - before.redisCommands).to.equal(2); // the MGET and the store
    expect(after.hits - before.hits).to.equal(2);

    const again = await entity.getMany(tenant, ["u1", "u2", "u3", "u4"], load);
    expect(asked).to.have.length(1);
    expect(again.get("u3")?.name).to.equal("loaded u3");
    expect(c.stats().redisCommands - after.redisCommands).to.equal(1);
  });

  it("getMany does not store a load that raced an invalidation", async () => {
    const c = cache(redisA);
    const entity = users(c);
    const b = users(cache(redisB));
    const tenant = randomUUID();
    const slow = deferred<Map<string, User>>();
    let started = false;
    const reading = entity.getMany(tenant, ["u1", "u2"], () => {
      started = true;
      return slow.promise;
    });
    await waitFor("the load to start", () => started);
    await b.invalidate(tenant, ["u2"]);
    slow.resolve(new Map([["u1", user("u1", "one")], ["u2", user("u2", "old")]]));
    await reading;
    expect(await raw.exists(`identity:${tenant}:user:v1:u1`)).to.equal(1);
    expect(await raw.exists(`identity:${tenant}:user:v1:u2`)).to.equal(0);
    expect(c.stats().staleSetsRefused).to.equal(1);
  });

  it("invalidate() bumps the entry's version (kept a day) and deletes its value", async () => {
    const entity = users(cache(redisA));
    const tenant = randomUUID();
    await entity.get(tenant, "u1", async () => user("u1", "Ada"));
    await entity.invalidate(tenant, ["u1"]);
    await entity.invalidate(tenant, ["u1"]);
    expect(await raw.get(`identity:${tenant}:user:v1:u1:ver`)).to.equal("2");
    expect(await raw.ttl(`identity:${tenant}:user:v1:u1:ver`)).to.be.within(86_000, 86_400);
    expect(await raw.exists(`identity:${tenant}:user:v1:u1`)).to.equal(0);
  });

  it("while an invalidation is unconfirmed, reads around the cache even though Redis answers reads", async function () {
    this.timeout(10_000);
    const c = cache(redisA);
    const entity = users(c);
    const tenant = randomUUID();
    const verKey = `identity:${tenant}:user:v1:u1:ver`;
    // A version counter INCR cannot bump makes the invalidation fail while MGET still works.
    await raw.set(verKey, "not-a-number");
    const t = table({ u1: "old" });
    await entity.get(tenant, "u1", t.load("u1"));
    expect(await raw.exists(`identity:${tenant}:user:v1:u1`)).to.equal(1);

    t.rows.set("u1", "new");
    await entity.invalidate(tenant, ["u1"]);
    expect(c.stats().pendingInvalidations).to.equal(1);
    expect((await entity.get(tenant, "u1", t.load("u1")))?.name).to.equal("new");

    await raw.set(verKey, "7");
    await waitFor("the replay", () => c.stats().pendingInvalidations === 0);
    expect(await raw.get(verKey)).to.equal("8");
    expect((await entity.get(tenant, "u1", t.load("u1")))?.name).to.equal("new");
    expect((await entity.get(tenant, "u1", t.load("u1")))?.name).to.equal("new");
    expect(c.stats().hits).to.equal(1);
  });

  it("Changes invalidates entries of several entities and tenants of one cache in one Redis call", async () => {
    const c = cache(redisA);
    const a = users(c);
    const b = c.entity<User>({ name: "plan", version: 1, codec: userCodec });
    const [t1, t2] = [randomUUID(), randomUUID()];
    for (const [entity, tenant, id] of [[a, t1, "u1"], [b, t1, "p1"], [a, t2, "u2"]] as const) await entity.get(tenant, id, async () => user(id, "x"));
    const before = c.stats().redisCommands;
    await new Changes().add(a, t1, "u1").add(b, t1, "p1").add(a, t2, "u2", "u2").invalidate();
    expect(c.stats().redisCommands - before).to.equal(1);
    for (const key of [`identity:${t1}:user:v1:u1`, `identity:${t1}:plan:v1:p1`, `identity:${t2}:user:v1:u2`]) {
      expect(await raw.exists(key), key).to.equal(0);
      expect(await raw.get(`${key}:ver`), key).to.equal("1");
    }
  });

  it("an immutable entity answers from process memory after the first read, never caching a miss", async () => {
    const c = cache(redisA);
    const terms = c.entity<User>({ name: "terms", version: 1, codec: userCodec, immutableLocalEntries: 2 });
    const tenant = randomUUID();
    const t = table({ o1: "A", o2: "B", o3: "C" });
    expect((await terms.get(tenant, "o1", t.load("o1")))?.name).to.equal("A");
    const commands = c.stats().redisCommands;
    expect((await terms.get(tenant, "o1", t.load("o1")))?.name).to.equal("A");
    expect(c.stats().redisCommands).to.equal(commands);
    // Another instance reads it from Redis (stored by the first), not from its loader.
    const other = cache(redisB).entity<User>({ name: "terms", version: 1, codec: userCodec, immutableLocalEntries: 2 });
    expect((await other.get(tenant, "o1", t.load("o1")))?.name).to.equal("A");
    expect(t.calls).to.equal(1);
    // A miss is asked again; past the bound the oldest entry goes (and comes back from Redis).
    expect(await terms.get(tenant, "o9", t.load("o9"))).to.equal(null);
    expect(await terms.get(tenant, "o9", t.load("o9"))).to.equal(null);
    expect(t.calls).to.equal(3);
    await terms.get(tenant, "o2", t.load("o2"));
    await terms.get(tenant, "o3", t.load("o3"));
    const beforeO1 = c.stats().redisCommands;
    expect((await terms.get(tenant, "o1", t.load("o1")))?.name).to.equal("A");
    expect(c.stats().redisCommands).to.be.greaterThan(beforeO1);
    expect(t.calls).to.equal(5);
  });

  it("with redis: null, every read goes to the loader", async () => {
    const c = cache(null);
    const entity = users(c);
    const t = table({ u1: "Ada" });
    await entity.get("t", "u1", t.load("u1"));
    await entity.get("t", "u1", t.load("u1"));
    await entity.invalidate("t", ["u1"]);
    const many = await entity.getMany("t", ["u1"], async (ids) => new Map(ids.map((id) => [id, user(id, "m")])));
    expect(many.get("u1")?.name).to.equal("m");
    expect(t.calls).to.equal(2);
    expect(c.stats()).to.include({ loads: 3, bypassed: 3, hits: 0, redisCommands: 0 });
  });
});
