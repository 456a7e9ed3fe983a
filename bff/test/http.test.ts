import { expect } from "chai";
import { Redis } from "ioredis";
import type { App } from "../src/app.js";
import { createIdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { startEdge } from "./support.js";

describe("edge HTTP surface", () => {
  let s: Stack;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  it("answers /healthz and /readyz when svc-identity and Redis answer", async () => {
    expect((await fetch(`${s.url}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).to.equal(200);
    // This stack's edge has no svc-billing: reported, but the edge stays ready (billing-stack.ts's edge has one).
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).to.equal("degraded");
    expect(body.checks).to.include({ "svc-identity": "ok", redis: "ok" });
    expect(body.checks["svc-billing"]).to.be.a("string").and.not.equal("ok");
  });

  it("answers unknown routes with a typed 404", async () => {
    const res = await fetch(`${s.url}/nope`);
    expect(res.status).to.equal(404);
    expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).to.equal("NOT_FOUND");
  });

  it("echoes a caller's request id and makes one up otherwise", async () => {
    const own = await s.gql("{ me { kind } }", {}, { token: s.token(s.a.users.viewer.subject), headers: { "x-request-id": "trace-me-123" } });
    expect(own.headers.get("x-request-id")).to.equal("trace-me-123");
    const made = await s.gql("{ me { kind } }", {}, { token: s.token(s.a.users.viewer.subject) });
    expect(made.headers.get("x-request-id")).to.match(/^[0-9a-f-]{36}$/);
  });

  describe("with svc-identity unreachable", () => {
    let app: App;
    let url: string;
    let redis: Redis;
    let identity: ReturnType<typeof createIdentityClients>;
    before(async () => {
      redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { keyPrefix: `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}down:` });
      identity = createIdentityClients("127.0.0.1:1", { timeoutMs: 500, retries: 0 });
      ({ app, url } = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity, redis, config: { NODE_ENV: "development" } }));
    });
    after(async () => {
      await app.close();
      identity.close();
      redis.disconnect();
    });

    it("is live but not ready", async () => {
      expect((await fetch(`${url}/healthz`)).status).to.equal(200);
      const ready = await fetch(`${url}/readyz`);
      expect(ready.status).to.equal(503);
      const body = (await ready.json()) as { checks: Record<string, string> };
      expect(body.checks.redis).to.equal("ok");
      expect(body.checks["svc-identity"]).to.not.equal("ok");
    });

    it("answers a valid token with 503 SERVICE_UNAVAILABLE, not 401", async () => {
      const res = await fetch(`${url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${s.token(s.a.users.owner.subject)}` },
        body: JSON.stringify({ query: "{ me { kind } }" }),
      });
      expect(res.status).to.equal(503);
      expect(res.headers.get("retry-after")).to.equal("1");
      expect(((await res.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).to.equal("SERVICE_UNAVAILABLE");
    });

    it("serves GraphiQL in development only, without credentials", async () => {
      const page = await fetch(`${url}/graphql`, { headers: { accept: "text/html" } });
      expect(page.status).to.equal(200);
      expect(await page.text()).to.include("GraphiQL");
      const prod = await fetch(`${s.url}/graphql`, { headers: { accept: "text/html" } });
      expect(prod.status).to.equal(401);
    });
  });
});
