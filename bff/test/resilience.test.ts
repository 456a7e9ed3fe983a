import type { TestDatabase } from "@apgms/common/testing/database";
import { testMinter } from "@apgms/common/testing/service-keys";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { identityDatabase, spawnIdentity, type IdentityProcess } from "./identity-process.js";
import { freePort, provisionTenant, startEdge } from "./support.js";


describe("edge across a restart of svc-identity", function () {
  this.timeout(60_000);
  let s: Stack;
  let db: TestDatabase;
  let port: number;
  let identity: IdentityClients;
  let app: App;
  let url: string;
  let subject: string;

  let running: IdentityProcess | undefined;
  const startIdentity = async () => {
    running = await spawnIdentity({ DATABASE_URL: db.urlAs("apgms_identity_app"), LOG_LEVEL: "warn", PAGE_TOKEN_SECRET: "resilience-test-page-token-key-0123456789" }, { port });
  };
  const stopIdentity = async () => {
    await running?.stop();
  };
  const me = () =>
    fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.token(subject)}` },
      body: JSON.stringify({ query: "{ me { user { email } } }" }),
    });

  before(async () => {
    s = await getStack();
    db = await identityDatabase("bff_restart");
    port = await freePort();
    await startIdentity();
    identity = createIdentityClients(`127.0.0.1:${port}`, { timeoutMs: 2_000, serviceTokens: testMinter("bff") });
    subject = (await provisionTenant(identity, s.issuerUrl, `restart-${Date.now()}`)).owner.subject;
    // Caches off: every request needs svc-identity.
    ({ app, url } = await startEdge({
      issuerUrl: s.issuerUrl,
      audience: AUDIENCE,
      identity,
      redis: s.redis,
      config: { AUTH_CACHE_SECONDS: 0, IDENTITY_GRPC_ADDRESS: `127.0.0.1:${port}` },
    }));
  });

  after(async () => {
    await app?.close();
    identity?.close();
    await stopIdentity();
    await db?.drop();
  });

  it("answers 503 while svc-identity is down and recovers by itself when it is back", async () => {
    expect((await me()).status).to.equal(200);

    await stopIdentity();
    const down = await me();
    expect(down.status).to.equal(503);
    expect(down.headers.get("retry-after")).to.equal("1");
    expect((await fetch(`${url}/readyz`)).status).to.equal(503);

    await startIdentity();
    const until = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < until && status !== 200) {
      status = (await me()).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 200));
    }
    expect(status, "the edge reconnected without a restart").to.equal(200);
    expect((await fetch(`${url}/readyz`)).status).to.equal(200);
  });
});
