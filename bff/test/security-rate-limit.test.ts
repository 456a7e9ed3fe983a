import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { createLogger } from "@apgms/common/logger";
import { createRedis } from "@apgms/common/redis";
import { expect } from "chai";
import type { Redis } from "ioredis";
import { buildSchema, parse } from "graphql";
import type { App, AppDeps } from "../src/app.js";
import { typeDefs } from "../src/graphql/yoga.js";
import { clientKey } from "../src/limits/client-key.js";
import { operationCost } from "../src/limits/operation-cost.js";
import { AUDIENCE, dataOf, getStack, type Stack } from "./stack.js";
import { freePort, startEdge, waitFor } from "./support.js";

/**
 * Rate limits through the real edge: each edge here has small limits and a
 * Redis key prefix of its own (or a Redis server of its own), so the tests
 * neither see nor disturb one another's counters.
 */
interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

const ME = "{ me { kind } }"; // 2 points
const ACCOUNTS = "query($n: Int) { accounts(first: $n) { nodes { id name } } }"; // 1 + n + 2n

/** `r` (available) and `t` (seconds) of one policy in a RateLimit field. */
function serviceLimit(headers: Headers, policy: string): { r: number; t: number } | undefined {
  const m = new RegExp(`"${policy}";r=(\\d+);t=(\\d+)`).exec(headers.get("ratelimit") ?? "");
  return m ? { r: Number(m[1]), t: Number(m[2]) } : undefined;
}

describe("rate limits at the edge", () => {
  let s: Stack;
  const edges: App[] = [];
  const clients: Redis[] = [];
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  after(async function () {
    this.timeout(30_000);
    for (const app of edges) await app.close();
    for (const c of clients) {
      const prefix = String(c.options.keyPrefix ?? "");
      if (c.status === "ready" && prefix) {
        const keys = await c.keys(`${prefix}*`).catch(() => []);
        if (keys.length) await c.del(...keys.map((k) => k.slice(prefix.length))).catch(() => 0);
      }
      c.disconnect();
    }
  });

  async function edge(config: Partial<AppDeps["config"]>, redis?: Redis, logger?: ReturnType<typeof createLogger>): Promise<string> {
    const client = redis ?? createRedis(redisUrl, `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}rl-${randomBytes(4).toString("hex")}:`);
    if (!redis) clients.push(client);
    // Until the client is ready the in-memory insurance limiter would count instead.
    await waitFor("redis client", () => client.status === "ready");
    const started = await startEdge({
      issuerUrl: s.issuerUrl,
      audience: AUDIENCE,
      identity: s.identity,
      redis: client,
      config: { IDENTITY_GRPC_ADDRESS: s.identityAddress, RATE_LIMIT_WINDOW_SECONDS: 60, ...config },
      ...(logger && { logger }),
    });
    edges.push(started.app);
    return started.url;
  }

  const plan = (principal: number, tenant: number) => ({ RATE_LIMIT_PLANS: { standard: { principal, tenant } } });

  async function ask(url: string, query: string, token?: string, variables: Record<string, unknown> = {}): Promise<Answer> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Answer["body"] };
  }

  it("lets exactly the principal's budget through a burst, then answers 429 with Retry-After and the RateLimit fields", async function () {
    this.timeout(30_000);
    const url = await edge({ RATE_LIMIT_IP: 1_000, ...plan(20, 1_000) });
    const token = s.token(s.a.users.analyst.subject);
    const answers = await Promise.all(Array.from({ length: 16 }, () => ask(url, ME, token)));

    const ok = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    expect(ok).to.have.length(10); // 20 points at 2 a request
    expect(limited).to.have.length(6);
    for (const a of ok) {
      expect(a.body.errors).to.equal(undefined);
      expect(a.headers.get("ratelimit-policy")).to.equal('"ip";q=1000;w=60, "principal";q=20;w=60, "tenant";q=1000;w=60');
      expect(serviceLimit(a.headers, "principal")!.t).to.be.within(1, 60);
    }
    expect(ok.map((a) => serviceLimit(a.headers, "principal")!.r).sort((x, y) => x - y)).to.deep.equal([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    for (const a of limited) {
      expect(a.body.errors?.[0]?.extensions?.code).to.equal("RATE_LIMITED");
      expect(a.body.data).to.equal(undefined);
      expect(Number(a.headers.get("retry-after"))).to.be.within(1, 60);
      expect(serviceLimit(a.headers, "principal")).to.deep.include({ r: 0 });
      expect(Number(a.headers.get("retry-after"))).to.be.at.least(serviceLimit(a.headers, "principal")!.t);
    }
  });

  it("limits a client address before authentication: an unauthenticated flood gets 429, not 401, past the limit", async function () {
    this.timeout(30_000);
    const url = await edge({ RATE_LIMIT_IP: 5 });
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const a = await ask(url, ME);
      statuses.push(a.status);
      expect(a.headers.get("ratelimit-policy")).to.equal('"ip";q=5;w=60');
      expect(serviceLimit(a.headers, "ip")!.r, a.headers.get("ratelimit")!).to.equal(Math.max(0, 4 - i));
      if (a.status === 429) {
        expect(a.body.errors?.[0]?.extensions?.code).to.equal("RATE_LIMITED");
        expect(Number(a.headers.get("retry-after"))).to.be.within(1, 60);
        expect(a.headers.get("www-authenticate")).to.equal(null);
      }
    }
    expect(statuses).to.deep.equal([401, 401, 401, 401, 401, 429, 429, 429]);
    // Credentials do not get past the address's limit either.
    expect((await ask(url, ME, s.token(s.a.users.owner.subject))).status).to.equal(429);
  });

  it("shares a tenant's budget between its principals and leaves other tenants alone", async function () {
    this.timeout(30_000);
    const url = await edge({ RATE_LIMIT_IP: 1_000, ...plan(1_000, 20) });
    const owner = s.token(s.a.users.owner.subject);
    const viewer = s.token(s.a.users.viewer.subject);
    const statuses: Record<string, number[]> = { owner: [], viewer: [] };
    for (let i = 0; i < 7; i++) {
      statuses.owner!.push((await ask(url, ME, owner)).status);
      statuses.viewer!.push((await ask(url, ME, viewer)).status);
    }
    expect(statuses.owner).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
    expect(statuses.viewer).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
    const refused = await ask(url, ME, viewer);
    expect(serviceLimit(refused.headers, "tenant")).to.deep.include({ r: 0 });
    expect(serviceLimit(refused.headers, "principal")!.r).to.equal(1_000 - 8 * 2);

    const other = s.token(s.b.users.viewer.subject);
    for (let i = 0; i < 5; i++) {
      const a = await ask(url, ME, other);
      expect(a.status).to.equal(200);
      expect(serviceLimit(a.headers, "tenant")!.r).to.equal(20 - 2 * (i + 1));
    }
  });

  it("does not spend a tenant's budget on its principal's refused requests", async function () {
    this.timeout(30_000);
    const url = await edge({ RATE_LIMIT_IP: 1_000, ...plan(4, 1_000) });
    const owner = s.token(s.a.users.owner.subject);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const a = await ask(url, ME, owner);
      statuses.push(a.status);
      if (a.status === 429) expect(serviceLimit(a.headers, "tenant"), "no tenant outcome on a principal refusal").to.equal(undefined);
    }
    expect(statuses).to.deep.equal([200, 200, 429, 429, 429, 429]);
    const viewer = await ask(url, ME, s.token(s.a.users.viewer.subject));
    expect(viewer.status).to.equal(200);
    expect(serviceLimit(viewer.headers, "tenant")!.r).to.equal(1_000 - 3 * 2); // the owner's two admitted requests and this one
  });

  it("charges a costly query more than a cheap one, and a refused mutation runs no resolver", async function () {
    this.timeout(30_000);
    const url = await edge({ RATE_LIMIT_IP: 1_000, ...plan(400, 10_000) });
    const token = s.token(s.a.users.admin.subject);
    const remaining = async (query: string, variables?: Record<string, unknown>) => {
      const a = await ask(url, query, token, variables);
      expect(a.status, JSON.stringify(a.body)).to.equal(200);
      return serviceLimit(a.headers, "principal")!.r;
    };
    expect(await remaining(ME)).to.equal(398);
    expect(await remaining(ACCOUNTS, { n: 20 })).to.equal(398 - 61);
    expect(await remaining(ACCOUNTS)).to.equal(337 - 151); // svc-identity's default page of 50
    expect(await remaining(ACCOUNTS)).to.equal(186 - 151);
    // 151 points with 35 left: refused, and what it asked for counts, so the window is spent.
    const refused = await ask(url, ACCOUNTS, token);
    expect(refused.status).to.equal(429);
    const { name } = dataOf<{ name: string }>(await s.as(s.a.users.owner, "query($id: ID!) { account(id: $id) { name } }", { id: s.a.accountId }), "account");
    const rename = await ask(url, 'mutation($id: ID!) { updateAccount(id: $id, input: { name: "renamed by a refused request" }) { name } }', token, { id: s.a.accountId });
    expect(rename.status).to.equal(429);
    expect(rename.body.errors?.[0]?.extensions?.code).to.equal("RATE_LIMITED");
    const after = dataOf<{ name: string }>(await s.as(s.a.users.owner, "query($id: ID!) { account(id: $id) { name } }", { id: s.a.accountId }), "account");
    expect(after.name).to.equal(name);
  });

  it("records a key's first refusal in a window as one rateLimit.hit audit record, however long the flood", async function () {
    this.timeout(30_000);
    const records: Array<{ action?: string; principal?: string; tenantId?: string; outcome?: string; details?: Record<string, string> }> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString("utf8").split("\n").filter(Boolean)) {
          const line = JSON.parse(l) as { audit?: (typeof records)[number] };
          if (line.audit) records.push(line.audit);
        }
        done();
      },
    });
    const url = await edge({ RATE_LIMIT_IP: 1_000, ...plan(4, 1_000) }, undefined, createLogger("bff", { level: "info" }, sink));
    const token = s.token(s.a.users.owner.subject);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await ask(url, ME, token)).status);
    expect(statuses).to.deep.equal([200, 200, 429, 429, 429, 429]);
    const hits = records.filter((r) => r.action === "rateLimit.hit");
    expect(hits).to.have.length(1);
    expect(hits[0]).to.deep.include({ principal: `user:${s.a.users.owner.id}`, tenantId: s.a.id });
    expect(hits[0]!.details).to.deep.include({ policy: "principal", quota: "4" });
  });
});

describe("rate limits when Redis fails", () => {
  let s: Stack;
  let port: number;
  let server: ChildProcess | undefined;
  let redis: Redis;
  let app: App | undefined;
  let url: string;

  async function startServer(): Promise<void> {
    const child = spawn("/usr/bin/redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
    server = child;
    await waitFor("private redis-server", async () => {
      const probe = createRedis(`redis://127.0.0.1:${port}`, "");
      probe.on("error", () => {});
      try {
        return (await probe.ping()) === "PONG";
      } finally {
        probe.disconnect();
      }
    });
  }

  async function stopServer(signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const child = server!;
    const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
    child.kill(signal);
    await exited;
    server = undefined;
  }

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    port = await freePort();
    await startServer();
    redis = createRedis(`redis://127.0.0.1:${port}`, "apgms-test-rl:");
    redis.on("error", () => {}); // expected while the server is down
    await waitFor("redis client", () => redis.status === "ready");
    const started = await startEdge({
      issuerUrl: s.issuerUrl,
      audience: AUDIENCE,
      identity: s.identity,
      redis,
      config: { IDENTITY_GRPC_ADDRESS: s.identityAddress, RATE_LIMIT_IP: 1_000, RATE_LIMIT_WINDOW_SECONDS: 60, RATE_LIMIT_PLANS: { standard: { principal: 10, tenant: 1_000 } } },
    });
    app = started.app;
    url = started.url;
  });

  after(async function () {
    this.timeout(30_000);
    await app?.close();
    redis?.disconnect();
    if (server) {
      server.kill("SIGCONT");
      await stopServer();
    }
  });

  /** Sends `n` requests one after another; their statuses, each answered within `withinMs`. */
  async function burst(token: string, n: number, withinMs = 2_000): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < n; i++) {
      const started = Date.now();
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query: ME }),
      });
      await res.arrayBuffer();
      expect(Date.now() - started, "answered promptly").to.be.below(withinMs);
      statuses.push(res.status);
    }
    return statuses;
  }

  it("keeps answering and keeps limiting with Redis stopped, and uses Redis again once it is back", async function () {
    this.timeout(30_000);
    const token = s.token(s.a.users.analyst.subject);
    expect(await burst(token, 3)).to.deep.equal([200, 200, 200]);
    expect(await redis.keys("*")).to.not.be.empty;

    await stopServer();
    await waitFor("the client to notice", () => redis.status !== "ready");
    // The in-memory insurance limiter starts empty: 10 points at 2 a request, then 429.
    expect(await burst(token, 7)).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);

    await startServer();
    await waitFor("the client to reconnect", () => redis.status === "ready", 10_000);
    // The new server is empty (no persistence): a fresh window in Redis.
    const back = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: ME }),
    });
    expect(back.status).to.equal(200);
    expect(back.headers.get("ratelimit")).to.contain('"principal";r=8;');
    expect((await redis.keys("*")).length).to.be.greaterThan(0);
  });

  it("does not wait on a hung Redis: past the timeout the insurance limiter answers", async function () {
    this.timeout(30_000);
    const token = s.token(s.a.users.viewer.subject);
    expect(await burst(token, 1)).to.deep.equal([200]);
    server!.kill("SIGSTOP");
    try {
      // 100 ms Redis timeout per request, then the in-memory count (fresh for this principal).
      expect(await burst(token, 7, 1_000)).to.deep.equal([200, 200, 200, 200, 200, 429, 429]);
    } finally {
      server!.kill("SIGCONT");
    }
  });
});

describe("operation cost", () => {
  const schema = buildSchema(typeDefs);
  const cost = (query: string, variables?: Record<string, unknown>) => operationCost(schema, parse(query), undefined, variables);

  it("counts each field once per item it is selected for", () => {
    expect(cost(ME)).to.equal(2);
    expect(cost("{ me { user { id email displayName role } tenant { id name slug } } }")).to.equal(10);
    expect(cost(ACCOUNTS, { n: 20 })).to.equal(61);
    expect(cost("{ accounts(first: 20) { nodes { id name } } }")).to.equal(61);
    expect(cost(ACCOUNTS)).to.equal(151);
    expect(cost(ACCOUNTS, { n: 100_000 })).to.equal(1 + 200 + 400);
  });

  it("multiplies nested pages and stops at its cap", () => {
    expect(cost("{ accounts(first: 10) { nodes { users(first: 10) { nodes { id } } } } }")).to.equal(1 + 10 + 10 + 100 + 100);
    const deep = `{ accounts { nodes { ${"users { nodes { account { ".repeat(10)}id${" } } }".repeat(10)} } } }`;
    expect(cost(deep)).to.equal(100_000);
  });

  it("follows fragments", () => {
    expect(cost("query { accounts(first: 5) { nodes { ...A } } } fragment A on Account { id name userCount }")).to.equal(1 + 5 + 15);
  });
});

describe("client address key", () => {
  it("limits IPv4 by address and IPv6 by its /64", () => {
    expect(clientKey("203.0.113.7")).to.equal("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).to.equal("203.0.113.7");
    expect(clientKey("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).to.equal("2001:db8:1:2::/64");
    expect(clientKey("2001:db8:1:2::9")).to.equal(clientKey("2001:0db8:0001:0002:ffff::1"));
    expect(clientKey("2001:db8::1")).to.equal("2001:db8:0:0::/64");
    expect(clientKey("fe80::1%eth0")).to.equal("fe80:0:0:0::/64");
    expect(clientKey("::1")).to.equal("0:0:0:0::/64");
    expect(clientKey("")).to.equal("unknown");
  });
});
