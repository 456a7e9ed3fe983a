import { readFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { status } from "@grpc/grpc-js";
import type { GrpcTlsConfig } from "@apgms/common/grpc/tls";
import type { TestDatabase } from "@apgms/common/testing/database";
import { testMinter } from "@apgms/common/testing/service-keys";
import { createTestPki, type TestPki } from "@apgms/common/testing/tls";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { identityDatabase, spawnIdentity, type IdentityProcess } from "./identity-process.js";
import { provisionTenant, startEdge } from "./support.js";


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
  let svc: IdentityProcess | undefined;
  let identity: IdentityClients;
  let app: App;
  let url: string;
  let ownerSubject: string;
  let grpcAddress: string;

  before(async () => {
    s = await getStack();
    pki = createTestPki();
    db = await identityDatabase("bff_tls");
    const clientTls: GrpcTlsConfig = { GRPC_TLS_CA: pki.ca, GRPC_TLS_CERT: pki.clientCert, GRPC_TLS_KEY: pki.clientKey, GRPC_TLS_CLIENT_AUTH: false };
    svc = await spawnIdentity(
      {
        DATABASE_URL: db.urlAs("apgms_identity_app"),
        LOG_LEVEL: "warn",
        PAGE_TOKEN_SECRET: "tls-test-page-token-key-0123456789abcdef",
        GRPC_TLS_CA: pki.ca,
        GRPC_TLS_CERT: pki.serverCert,
        GRPC_TLS_KEY: pki.serverKey,
        GRPC_TLS_CLIENT_AUTH: "true",
      },
      // The server certificate names localhost, not 127.0.0.1.
      { host: "localhost", tls: clientTls },
    );
    grpcAddress = svc.address;
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
    await svc?.stop();
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
