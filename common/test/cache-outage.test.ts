import { randomUUID } from "node:crypto";
import { expect } from "chai";
import type { Redis } from "ioredis";
import { createCacheRedis, jsonCodec, ReadThroughCache, type CachedEntity, type ReadThroughCacheOptions } from "../src/cache/index.js";
import { deferred, PrivateRedis, testKeyPrefix, waitFor } from "./cache-support.js";

interface Plan {
  id: string;
  name: string;
  renewsAt: Date | null;
}

const codec = jsonCodec<Plan>(["renewsAt"]);

/** The cache against a redis-server of its own, stopped (SIGSTOP), killed and restarted under it. */
describe("read-through cache when Redis fails", () => {
  let server: PrivateRedis;
  const prefix = testKeyPrefix("cache-outage");
  const clients: Redis[] = [];
  const caches: ReadThroughCache[] = [];
  /** The "database": what a loader reads. */
  const rows = new Map<string, string>();
  let loads = 0;

  const load = (id: string) => async (): Promise<Plan | null> => {
    loads++;
    const name = rows.get(id);
    return name === undefined ? null : { id, name, renewsAt: new Date("2027-01-01T00:00:00.000Z") };
  };

  /** One service instance: its own fail-fast client (100 ms command timeout) and cache. */
  async function instance(options: Partial<ReadThroughCacheOptions> = {}): Promise<{ cache: ReadThroughCache; plans: CachedEntity<Plan>; redis: Redis }> {
    const redis = createCacheRedis(server.url, prefix);
    clients.push(redis);
    await waitFor("cache client", () => redis.status === "ready");
    const cache = new ReadThroughCache({ redis, namespace: "billing", ...options });
    caches.push(cache);
    return { cache, plans: cache.entity({ name: "plan", version: 1, codec }), redis };
  }

  /** Runs `fn`, failing if it takes longer than `ms`. */
  async function within<R>(ms: number, fn: () => Promise<R>): Promise<R> {
    const started = Date.now();
    const out = await fn();
    expect(Date.now() - started, "took").to.be.below(ms);
    return out;
  }

  before(async function () {
    this.timeout(20_000);
    server = await PrivateRedis.start();
  });

  afterEach(async () => {
    server.resume();
    for (const c of caches.splice(0)) await c.close();
    for (const r of clients.splice(0)) r.disconnect();
  });

  after(async () => {
    await server?.kill();
  });

  it("with Redis stopped, a write's invalidation is kept, reads are right, and the replay makes every instance read the new value", async function () {
    this.timeout(20_000);
    const a = await instance();
    const b = await instance();
    const tenant = randomUUID();
    rows.set("p1", "old");
    expect((await a.plans.get(tenant, "p1", load("p1")))?.name).to.equal("old");
    expect((await b.plans.get(tenant, "p1", load("p1")))?.name).to.equal("old");
    expect(b.cache.stats().hits).to.equal(1);

    server.pause();
    rows.set("p1", "new"); // the write commits...
    await within(1_000, () => a.plans.invalidate(tenant, ["p1"])); // ...and invalidates: no throw, no hang
    expect(a.cache.stats().pendingInvalidations).to.equal(1);
    for (let i = 0; i < 3; i++) {
      expect((await within(1_000, () => a.plans.get(tenant, "p1", load("p1"))))?.name).to.equal("new");
      expect((await within(1_000, () => b.plans.get(tenant, "p1", load("p1"))))?.name).to.equal("new");
    }
    expect(a.cache.stats().bypassed).to.be.greaterThan(0);
    expect(b.cache.stats().redisErrors).to.be.greaterThan(0);

    server.resume();
    await waitFor("the replay", () => a.cache.stats().pendingInvalidations === 0);
    for (const inst of [a, b, a, b]) expect((await inst.plans.get(tenant, "p1", load("p1")))?.name).to.equal("new");
    // Caching resumes: reads become hits again, on both instances.
    await waitFor("hits on A", async () => {
      const before = a.cache.stats().hits;
      expect((await a.plans.get(tenant, "p1", load("p1")))?.name).to.equal("new");
      return a.cache.stats().hits > before;
    });
    await waitFor("hits on B", async () => {
      const before = b.cache.stats().hits;
      expect((await b.plans.get(tenant, "p1", load("p1")))?.name).to.equal("new");
      return b.cache.stats().hits > before;
    });
  });

  it("with Redis killed, reads stay right; once it is back on the same port, invalidations replay and caching resumes", async function () {
    this.timeout(30_000);
    const a = await instance();
    const tenant = randomUUID();
    rows.set("p2", "before");
    await a.plans.get(tenant, "p2", load("p2"));
    expect(a.cache.stats().hits).to.equal(0);
    await a.plans.get(tenant, "p2", load("p2"));
    expect(a.cache.stats().hits).to.equal(1);

    await server.kill();
    await waitFor("the client to notice", () => a.redis.status !== "ready");
    rows.set("p2", "after");
    await within(1_000, () => a.plans.invalidate(tenant, ["p2"]));
    const loadsBefore = loads;
    for (let i = 0; i < 5; i++) expect((await within(500, () => a.plans.get(tenant, "p2", load("p2"))))?.name).to.equal("after");
    const many = await within(500, () => a.plans.getMany(tenant, ["p2"], async (ids) => new Map(ids.map((id) => [id, { id, name: "after", renewsAt: null }]))));
    expect(many.get("p2")?.name).to.equal("after");
    expect(loads - loadsBefore).to.equal(5);

    await server.start();
    await waitFor("the client to reconnect", () => a.redis.status === "ready");
    await waitFor("the replay", () => a.cache.stats().pendingInvalidations === 0);
    const hitsBefore = a.cache.stats().hits;
    expect((await a.plans.get(tenant, "p2", load("p2")))?.name).to.equal("after"); // the new server is empty: a miss
    expect((await a.plans.get(tenant, "p2", load("p2")))?.name).to.equal("after");
    expect(a.cache.stats().hits).to.equal(hitsBefore + 1);
  });

  it("does not store a load that began before Redis restarted empty (its version counters lost)", async function () {
    this.timeout(30_000);
    const a = await instance();
    const b = await instance();
    const tenant = randomUUID();
    const slow = deferred<Plan | null>();
    let started = false;
    const reading = a.plans.get(tenant, "p3", () => {
      started = true;
      return slow.promise;
    });
    await waitFor("the load to start", () => started); // it read "no version yet"
    await b.plans.invalidate(tenant, ["p3"]); // the version becomes 1...
    await server.kill(); // ...and is lost with the rest
    await server.start();
    await waitFor("the client to reconnect", () => a.redis.status === "ready");
    slow.resolve({ id: "p3", name: "read before the write", renewsAt: null });
    await reading;
    const probe = await instance();
    expect(await probe.redis.exists("billing:" + tenant + ":plan:v1:p3")).to.equal(0);
  });

  it("past maxPendingInvalidations, the replay invalidates the whole namespace", async function () {
    this.timeout(20_000);
    const a = await instance({ maxPendingInvalidations: 2 });
    const b = await instance();
    const [t1, t2] = [randomUUID(), randomUUID()];
    for (const id of ["q1", "q2", "q3"]) rows.set(id, "old");
    for (const tenant of [t1, t2]) for (const id of ["q1", "q2", "q3"]) await b.plans.get(tenant, id, load(id));

    // This instance loses its connection (the server itself stays up, so these invalidations never reach it).
    a.redis.disconnect();
    await waitFor("the disconnect", () => a.redis.status === "end");
    for (const id of ["q1", "q2", "q3"]) {
      rows.set(id, "new");
      await a.plans.invalidate(t1, [id]);
    }
    expect(a.cache.stats().pendingInvalidations).to.equal(1); // "everything", not three keys
    expect((await a.plans.get(t1, "q1", load("q1")))?.name).to.equal("new");
    // The honest window: an instance that never saw the outage still reads the old entry until the replay.
    expect((await b.plans.get(t1, "q1", load("q1")))?.name).to.equal("old");

    await a.redis.connect();
    await waitFor("the replay", () => a.cache.stats().pendingInvalidations === 0);
    for (const tenant of [t1, t2]) {
      for (const id of ["q1", "q2", "q3"]) expect((await b.plans.get(tenant, id, load(id)))?.name).to.equal("new");
    }
  });
});
