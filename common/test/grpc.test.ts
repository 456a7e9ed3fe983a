import { status, type ServiceError } from "@grpc/grpc-js";
import { TenantServiceClient, TenantServiceService, type TenantServiceServer } from "@apgms/proto/apgms/identity/v1/tenant";
import { expect } from "chai";
import { currentContext, type RequestContext } from "../src/context.js";
import { DomainError, InvalidArgumentError, NotFoundError, graphqlCodeFor } from "../src/errors.js";
import { connect } from "../src/grpc/client.js";
import { unary } from "../src/grpc/handler.js";
import { createHealthClient } from "../src/grpc/health-client.js";
import { createGrpcServer, type GrpcServerHandle } from "../src/grpc/server.js";
import { createLogger } from "../src/logger.js";
import { testMinter, testVerifier } from "../src/testing/service-keys.js";

describe("gRPC bootstrap, client and error model", () => {
  const logger = createLogger("test", { level: "silent" });
  const credentials = testMinter().forAudience("svc-test");
  let handle: GrpcServerHandle;
  let address: string;
  let getCalls = 0;
  let createCalls = 0;
  let failNext = 0;
  let seen: RequestContext | undefined;

  const unavailable = () => new DomainError(status.UNAVAILABLE, "try again");
  const impl: TenantServiceServer = {
    getTenant: unary(logger, "getTenant", async (req) => {
      getCalls++;
      seen = currentContext();
      if (failNext > 0 && failNext--) throw unavailable();
      if (req.tenantId === "missing") throw new NotFoundError("tenant", req.tenantId);
      if (req.tenantId === "boom") throw new Error("database exploded: secret detail");
      if (req.tenantId === "slow") await new Promise((r) => setTimeout(r, 300));
      return { tenant: { id: req.tenantId, name: "T", slug: "t", deletionProtection: true, createTime: new Date(), updateTime: new Date(), deleteTime: undefined, purgeTime: undefined } };
    }),
    createTenant: unary(logger, "createTenant", async () => {
      createCalls++;
      if (failNext > 0 && failNext--) throw unavailable();
      throw new InvalidArgumentError("slug", "must be lower-case");
    }),
    updateTenant: unary(logger, "updateTenant", async () => ({ tenant: undefined })),
    deleteTenant: unary(logger, "deleteTenant", async () => ({ tenant: undefined })),
    purgeDeletedTenants: unary(logger, "purgeDeletedTenants", async () => ({ purgedTenantIds: [] })),
  };

  before(async () => {
    handle = createGrpcServer({ logger, serviceTokens: testVerifier("svc-test"), services: [{ name: "apgms.identity.v1.TenantService", definition: TenantServiceService, implementation: impl }] });
    address = `127.0.0.1:${await handle.listen("127.0.0.1", 0)}`;
  });
  after(() => handle.shutdown());
  beforeEach(() => {
    getCalls = createCalls = failNext = 0;
    seen = undefined;
  });

  it("propagates the request id, and tenant and principal through the service token", async () => {
    const { client, raw } = connect(TenantServiceClient, address, { credentials });
    await client.getTenant({ tenantId: "t1" }, { context: { requestId: "req-1", tenantId: "t1", principal: { kind: "user", id: "u1" } } });
    expect(seen).to.deep.include({ requestId: "req-1", tenantId: "t1", principal: { kind: "user", id: "u1" } });
    raw.close();
  });

  it("retries an idempotent read on UNAVAILABLE, never a write", async () => {
    const { client, raw } = connect(TenantServiceClient, address, { retries: 2, credentials });
    failNext = 2;
    const res = await client.getTenant({ tenantId: "t1" });
    expect(res.tenant?.id).to.equal("t1");
    expect(getCalls).to.equal(3);
    failNext = 1;
    const err = (await client.createTenant({ name: "", slug: "", accountName: "", ownerEmail: "", ownerDisplayName: "", ownerOidcIssuer: "", ownerOidcSubject: "" }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).to.equal(status.UNAVAILABLE);
    expect(createCalls).to.equal(1);
    raw.close();
  });

  it("applies a deadline to every call", async () => {
    const { client, raw } = connect(TenantServiceClient, address, { timeoutMs: 100, credentials });
    const err = (await client.getTenant({ tenantId: "slow" }).catch((e: unknown) => e)) as ServiceError;
    expect(err.code).to.equal(status.DEADLINE_EXCEEDED);
    raw.close();
  });

  it("maps domain errors to statuses with the field, and masks unknown errors", async () => {
    const { client, raw } = connect(TenantServiceClient, address, { credentials });
    const notFound = (await client.getTenant({ tenantId: "missing" }).catch((e: unknown) => e)) as ServiceError;
    expect(notFound.code).to.equal(status.NOT_FOUND);
    expect(graphqlCodeFor(notFound.code)).to.equal("NOT_FOUND");
    const invalid = (await client
      .createTenant({ name: "", slug: "", accountName: "", ownerEmail: "", ownerDisplayName: "", ownerOidcIssuer: "", ownerOidcSubject: "" })
      .catch((e: unknown) => e)) as ServiceError;
    expect(invalid.code).to.equal(status.INVALID_ARGUMENT);
    expect(invalid.metadata.get("x-apgms-field")).to.deep.equal(["slug"]);
    expect(graphqlCodeFor(invalid.code)).to.equal("BAD_USER_INPUT");
    const internal = (await client.getTenant({ tenantId: "boom" }).catch((e: unknown) => e)) as ServiceError;
    expect(internal.code).to.equal(status.INTERNAL);
    expect(internal.details).to.equal("internal error");
    raw.close();
  });

  it("answers grpc.health.v1 for the server and each service", async () => {
    const health = createHealthClient(address);
    expect(await health.check("")).to.equal("SERVING");
    expect(await health.check("apgms.identity.v1.TenantService")).to.equal("SERVING");
    health.close();
  });
});
