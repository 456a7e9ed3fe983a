// svc-identity's reads through the Redis cache, as gRPC callers see them:
// the stampede rule across instances, and Redis stopped or killed mid-test.
import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { PrivateRedis } from "@apgms/common/testing/private-redis";
import { expect } from "chai";
import { connectIdentityCache } from "../src/cache.js";
import { expectError, startHarness, startInstance, type Harness, type Provisioned } from "./harness.js";

type Instance = Awaited<ReturnType<typeof startInstance>>;

describe("svc-identity read cache", function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness("identity_read_cache");
  });
  after(async () => h?.stop());

  async function newUser(t: Provisioned, name = "Reader"): Promise<string> {
    const res = await h.users.createUser(
      { accountId: t.accountId, email: `${randomUUID().slice(0, 8)}@reader.example`, displayName: name, role: 4, oidcIssuer: "https://issuer.test", oidcSubject: randomUUID() },
      t.ctx,
    );
    return res.user!.id;
  }

  it("loads a key that 200 concurrent calls miss, spread over two instances, from the database once", async () => {
    const t = await h.provision("stampede");
    const userId = await newUser(t);
    const second = await startInstance(h.db);
    try {
      // Both instances know the tenant is live: what is left to load is the user alone.
      await h.tenants.getTenant({ tenantId: t.tenantId }, t.ctx);
      await second.tenants.getTenant({ tenantId: t.tenantId }, t.ctx);
      const loadsBefore = h.cache.stats().loads + second.cache.stats().loads;
      const calls = Array.from({ length: 200 }, (_, i) => (i % 2 ? second : h).users.getUser({ userId }, t.ctx));
      const answers = await Promise.all(calls);
      expect(answers.every((a) => a.user?.id === userId && a.user.displayName === "Reader")).to.equal(true);
      const loads = h.cache.stats().loads + second.cache.stats().loads - loadsBefore;
      expect(loads).to.equal(1);
    } finally {
      await second.stop();
    }
  });

  it("serves a warm GetUser from Redis: no database read", async () => {
    const t = await h.provision("warm");
    const userId = await newUser(t);
    await h.users.getUser({ userId }, t.ctx);
    const before = h.cache.stats();
    for (let i = 0; i < 20; i++) await h.users.getUser({ userId }, t.ctx);
    const after = h.cache.stats();
    expect(after.loads - before.loads).to.equal(0);
    expect(after.hits - before.hits).to.equal(40); // the tenant's liveness and the user, each call
  });

  describe("with Redis stopped mid-test", () => {
    let redis: PrivateRedis;
    let a: Instance;
    let b: Instance;
    const config = () => ({ REDIS_URL: redis.url, REDIS_KEY_PREFIX: `apgms-read-cache-${randomUUID().slice(0, 8)}:`, READ_CACHE_ENABLED: true, READ_CACHE_TTL_SECONDS: 300 });

    before(async () => {
      redis = await PrivateRedis.start();
      const cfg = config();
      a = await startInstance(h.db, connectIdentityCache(cfg));
      b = await startInstance(h.db, connectIdentityCache(cfg));
    });
    after(async () => {
      await a?.stop();
      await b?.stop();
      await redis?.kill();
    });

    const name = async (inst: Instance, t: Provisioned, userId: string) => (await inst.users.getUser({ userId }, t.ctx)).user?.displayName;
    const rename = (inst: Instance, t: Provisioned, userId: string, displayName: string) => inst.users.updateUser({ userId, displayName }, t.ctx);

    it("answers every read right while Redis does not answer (SIGSTOP), and after it is back", async () => {
      const t = await h.provision("paused");
      const userId = await newUser(t, "Before");
      expect(await name(a, t, userId)).to.equal("Before");
      expect(await name(b, t, userId)).to.equal("Before"); // cached in Redis now

      redis.pause();
      try {
        const started = Date.now();
        await rename(a, t, userId, "During");
        expect(Date.now() - started).to.be.below(3_000);
        for (let i = 0; i < 5; i++) {
          expect(await name(a, t, userId)).to.equal("During");
          expect(await name(b, t, userId)).to.equal("During");
        }
      } finally {
        redis.resume();
      }
      // Instance a replays its invalidation; b (which never failed a write) must not see "Before" either.
      for (let i = 0; i < 20; i++) {
        expect(await name(b, t, userId)).to.equal("During");
        expect(await name(a, t, userId)).to.equal("During");
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(a.cache.stats().pendingInvalidations).to.equal(0);
    });

    it("answers every read and write right with Redis killed, and caches again once it is restarted", async () => {
      const t = await h.provision("killed");
      const userId = await newUser(t, "One");
      expect(await name(b, t, userId)).to.equal("One");

      await redis.kill();
      expect(await name(a, t, userId)).to.equal("One");
      await rename(a, t, userId, "Two");
      expect(await name(b, t, userId)).to.equal("Two");
      await a.users.deleteUser({ userId }, t.ctx);
      await expectError(b.users.getUser({ userId }, t.ctx), status.NOT_FOUND);

      await redis.start();
      const other = await newUser(t, "Three");
      let hitsBefore = a.cache.stats().hits;
      // The client reconnects within a second; until then reads go to the database, and stay right.
      for (let i = 0; i < 60 && a.cache.stats().hits - hitsBefore < 2; i++) {
        expect(await name(a, t, other)).to.equal("Three");
        await new Promise((r) => setTimeout(r, 50));
      }
      hitsBefore = a.cache.stats().hits;
      expect(await name(a, t, other)).to.equal("Three");
      expect(a.cache.stats().hits - hitsBefore).to.equal(2);
      await expectError(a.users.getUser({ userId }, t.ctx), status.NOT_FOUND);
    });
  });
});
