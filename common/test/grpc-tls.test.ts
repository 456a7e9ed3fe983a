import { status, type ServiceError } from "@grpc/grpc-js";
import { TenantServiceClient, TenantServiceService, type TenantServiceServer } from "@apgms/proto/apgms/identity/v1/tenant";
import { expect } from "chai";
import { connect } from "../src/grpc/client.js";
import { unary } from "../src/grpc/handler.js";
import { createHealthClient } from "../src/grpc/health-client.js";
import { createGrpcServer, type GrpcServerHandle } from "../src/grpc/server.js";
import { grpcTlsIssues, type GrpcTlsConfig } from "../src/grpc/tls.js";
import { createLogger } from "../src/logger.js";
import { testMinter, testVerifier } from "../src/testing/service-keys.js";
import { createTestPki, type TestPki } from "../src/testing/tls.js";

describe("gRPC over TLS and mTLS", function () {
  this.timeout(20_000);
  const logger = createLogger("test", { level: "silent" });
  const credentials = testMinter().forAudience("svc-test");
  const impl: TenantServiceServer = {
    getTenant: unary(logger, "getTenant", async (req) => ({
      tenant: { id: req.tenantId, name: "T", slug: "t", deletionProtection: true, createTime: new Date(), updateTime: new Date(), deleteTime: undefined, purgeTime: undefined },
    })),
    createTenant: unary(logger, "createTenant", async () => ({ tenant: undefined, accountId: "", ownerUserId: "" })),
    updateTenant: unary(logger, "updateTenant", async () => ({ tenant: undefined })),
    deleteTenant: unary(logger, "deleteTenant", async () => ({ tenant: undefined })),
    purgeDeletedTenants: unary(logger, "purgeDeletedTenants", async () => ({ purgedTenantIds: [] })),
  };
  let pki: TestPki;
  let foreign: TestPki;
  const servers: GrpcServerHandle[] = [];

  async function serve(tls: GrpcTlsConfig): Promise<string> {
    const handle = createGrpcServer({ logger, serviceTokens: testVerifier("svc-test"), tls, services: [{ name: "apgms.identity.v1.TenantService", definition: TenantServiceService, implementation: impl }] });
    servers.push(handle);
    // By name: a TLS server name may not be an IP address (RFC 6066); the certificate names localhost.
    return `localhost:${await handle.listen("127.0.0.1", 0)}`;
  }

  /** The status of one getTenant call through a client with these TLS settings (OK = 0). */
  async function callWith(address: string, tls?: GrpcTlsConfig): Promise<number> {
    const { client, raw } = connect(TenantServiceClient, address, { tls, credentials, timeoutMs: 3_000, retries: 0 });
    try {
      await client.getTenant({ tenantId: "t1" });
      return status.OK;
    } catch (err) {
      return (err as ServiceError).code;
    } finally {
      raw.close();
    }
  }

  before(() => {
    pki = createTestPki();
    foreign = createTestPki();
  });
  after(async () => {
    for (const s of servers) await s.shutdown();
    pki?.remove();
    foreign?.remove();
  });

  describe("TLS", () => {
    let address: string;
    before(async () => {
      address = await serve({ GRPC_TLS_CERT: pki.serverCert, GRPC_TLS_KEY: pki.serverKey, GRPC_TLS_CLIENT_AUTH: false });
    });

    it("refuses a plaintext client", async () => {
      expect(await callWith(address)).to.equal(status.UNAVAILABLE);
    });

    it("accepts a client that trusts the CA, and health checks over TLS", async () => {
      expect(await callWith(address, { GRPC_TLS_CA: pki.ca, GRPC_TLS_CLIENT_AUTH: false })).to.equal(status.OK);
      const health = createHealthClient(address, { GRPC_TLS_CA: pki.ca, GRPC_TLS_CLIENT_AUTH: false });
      try {
        expect(await health.check("", 3_000)).to.equal("SERVING");
      } finally {
        health.close();
      }
    });

    it("a client that trusts another CA refuses the server", async () => {
      expect(await callWith(address, { GRPC_TLS_CA: foreign.ca, GRPC_TLS_CLIENT_AUTH: false })).to.equal(status.UNAVAILABLE);
    });
  });

  describe("mTLS", () => {
    let address: string;
    before(async () => {
      address = await serve({ GRPC_TLS_CA: pki.ca, GRPC_TLS_CERT: pki.serverCert, GRPC_TLS_KEY: pki.serverKey, GRPC_TLS_CLIENT_AUTH: true });
    });

    it("refuses a client without a certificate", async () => {
      expect(await callWith(address, { GRPC_TLS_CA: pki.ca, GRPC_TLS_CLIENT_AUTH: false })).to.equal(status.UNAVAILABLE);
    });

    it("refuses a client certificate from another CA", async () => {
      expect(await callWith(address, { GRPC_TLS_CA: pki.ca, GRPC_TLS_CERT: foreign.clientCert, GRPC_TLS_KEY: foreign.clientKey, GRPC_TLS_CLIENT_AUTH: false })).to.equal(status.UNAVAILABLE);
    });

    it("accepts a client with a certificate from the CA", async () => {
      expect(await callWith(address, { GRPC_TLS_CA: pki.ca, GRPC_TLS_CERT: pki.clientCert, GRPC_TLS_KEY: pki.clientKey, GRPC_TLS_CLIENT_AUTH: false })).to.equal(status.OK);
    });
  });

  it("configuration: a certificate needs its key, and client authentication needs a CA", () => {
    expect(grpcTlsIssues({ GRPC_TLS_CERT: "c.pem", GRPC_TLS_CLIENT_AUTH: false }).map((i) => i.path)).to.deep.equal(["GRPC_TLS_KEY"]);
    expect(grpcTlsIssues({ GRPC_TLS_CERT: "c.pem", GRPC_TLS_KEY: "k.pem", GRPC_TLS_CLIENT_AUTH: true }).map((i) => i.path)).to.deep.equal(["GRPC_TLS_CA"]);
    expect(grpcTlsIssues({ GRPC_TLS_CLIENT_AUTH: false })).to.deep.equal([]);
  });
});
