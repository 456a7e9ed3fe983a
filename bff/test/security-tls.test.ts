import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import path from "node:path";
import { status } from "@grpc/grpc-js";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import type { GrpcTlsConfig } from "@apgms/common/grpc/tls";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testMinter } from "@apgms/common/testing/service-keys";
import { createTestPki, type TestPki } from "@apgms/common/testing/tls";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { freePort, provisionTenant, startEdge, waitFor } from "./support.js";

const repoRoot = path.resolve(__dirname, "../../..");

/** POST /graphql (or GET `path`) over HTTPS trusting `ca`; status and body. */
function httpsCall(url: string, ca: Buffer, options: { path?: string; token?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(options.path ?? "/graphql", url);
    const req = httpsRequest(
      target,
      {
        method: options.body ? "POST" : "GET",
        ca,
        headers: { "content-type": "application/json", ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.once("error", reject);
    req.end(options.body);
  });
}

/**
 * The edge terminates TLS itself, and talks to svc-identity (its real process)
 * over mTLS: certificates made by openssl for this run.
 */
describe("TLS at the edge and mTLS to svc-identity", function () {
  this.timeout(60_000);
  let s: Stack;
  let pki: TestPki;
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let identity: IdentityClients;
  let app: App;
  let url: string;
  let ownerSubject: string;
  let grpcAddress: string;

  before(async () => {
    s = await getStack();
    pki = createTestPki();
    db = await createTestDatabase({ prefix: "bff_tls" });
    await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir: path.join(repoRoot, "svc-identity/prisma/migrations") });
    const port = await freePort();
    grpcAddress = `localhost:${port}`;
    child = spawn(process.execPath, [path.join(repoRoot, "svc-identity/dist/src/main.js")], {
      env: {
        ...process.env,
        DATABASE_URL: db.urlAs("apgms_identity_app"),
        GRPC_PORT: String(port),
        LOG_LEVEL: "warn",
        PAGE_TOKEN_SECRET: "tls-test-page-token-key-0123456789abcdef",
        GRPC_TLS_CA: pki.ca,
        GRPC_TLS_CERT: pki.serverCert,
        GRPC_TLS_KEY: pki.serverKey,
        GRPC_TLS_CLIENT_AUTH: "true",
      },
      stdio: ["ignore", "inherit", "inherit"],
    });
    const clientTls: GrpcTlsConfig = { GRPC_TLS_CA: pki.ca, GRPC_TLS_CERT: pki.clientCert, GRPC_TLS_KEY: pki.clientKey, GRPC_TLS_CLIENT_AUTH: false };
    const health = createHealthClient(grpcAddress, clientTls);
    try {
      await waitFor("svc-identity over mTLS", async () => (await health.check("", 500)) === "SERVING");
    } finally {
      health.close();
    }
    identity = createIdentityClients(grpcAddress, { timeoutMs: 5_000, serviceTokens: testMinter("bff"), tls: clientTls });
    ownerSubject = (await provisionTenant(identity, s.issuerUrl, `tls-${Date.now()}`)).owner.subject;
    ({ app, url } = await startEdge({
      issuerUrl: s.issuerUrl,
      audience: AUDIENCE,
      identity,
      redis: s.redis,
      config: { IDENTITY_GRPC_ADDRESS: grpcAddress },
      https: { cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) },
    }));
  });

  after(async () => {
    await app?.close(1_000);
    identity?.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await db?.drop();
    pki?.remove();
  });

  it("answers GraphQL over HTTPS, through svc-identity over mTLS", async () => {
    expect(url.startsWith("https://")).to.equal(true);
    const res = await httpsCall(url, readFileSync(pki.ca), { token: s.token(ownerSubject), body: JSON.stringify({ query: "{ me { kind user { role } } }" }) });
    expect(res.status, res.body).to.equal(200);
    expect(JSON.parse(res.body)).to.deep.equal({ data: { me: { kind: "USER", user: { role: "OWNER" } } } });
    const ready = await httpsCall(url, readFileSync(pki.ca), { path: "/readyz" });
    expect(ready.status, ready.body).to.equal(200);
  });

  it("does not speak plain HTTP on its TLS port", async () => {
    const plain = url.replace("https://", "http://");
    const outcome = await fetch(`${plain}/healthz`).then(
      (r) => `HTTP ${r.status}`,
      () => "refused",
    );
    expect(outcome).to.equal("refused");
  });

  it("svc-identity refuses a gRPC client without a client certificate", async () => {
    const noCert = createIdentityClients(grpcAddress, { timeoutMs: 2_000, retries: 0, serviceTokens: testMinter("bff"), tls: { GRPC_TLS_CA: pki.ca, GRPC_TLS_CLIENT_AUTH: false } });
    try {
      const err = await noCert.tenants.purgeDeletedTenants({ limit: 1 }).then(
        () => undefined,
        (e: { code?: number }) => e,
      );
      expect(err?.code, "the handshake fails").to.equal(status.UNAVAILABLE);
    } finally {
      noCert.close();
    }
  });
});
