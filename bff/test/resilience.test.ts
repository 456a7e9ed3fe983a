import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testMinter } from "@apgms/common/testing/service-keys";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { freePort, provisionTenant, startEdge, waitFor } from "./support.js";

const repoRoot = path.resolve(__dirname, "../../..");

describe("edge across a restart of svc-identity", function () {
  this.timeout(60_000);
  let s: Stack;
  let db: TestDatabase;
  let port: number;
  let child: ChildProcess | undefined;
  let identity: IdentityClients;
  let app: App;
  let url: string;
  let subject: string;

  const startIdentity = async () => {
    child = spawn(process.execPath, [path.join(repoRoot, "svc-identity/dist/src/main.js")], {
      env: { ...process.env, DATABASE_URL: db.urlAs("apgms_identity_app"), GRPC_PORT: String(port), LOG_LEVEL: "warn", PAGE_TOKEN_SECRET: "resilience-test-page-token-key-0123456789" },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const health = createHealthClient(`127.0.0.1:${port}`);
    try {
      await waitFor("svc-identity", async () => (await health.check("", 300)) === "SERVING");
    } finally {
      health.close();
    }
  };
  const stopIdentity = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    const exited = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    await exited;
  };
  const me = () =>
    fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${s.token(subject)}` },
      body: JSON.stringify({ query: "{ me { user { email } } }" }),
    });

  before(async () => {
    s = await getStack();
    db = await createTestDatabase({ prefix: "bff_restart" });
    await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir: path.join(repoRoot, "svc-identity/prisma/migrations") });
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
