import path from "node:path";
import { loadSync } from "@grpc/proto-loader";
import { Client, credentials, status, type ServiceError } from "@grpc/grpc-js";
import { createHealthClient } from "@apgms/common";
import { expect } from "chai";
import { as, expectError, startHarness, type Harness } from "./harness.js";

const REFLECTION_PROTO = path.join(
  path.dirname(require.resolve("@grpc/reflection/package.json")),
  "build/proto/grpc/reflection/v1/reflection.proto",
);

interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> };
}

/** grpc.reflection.v1 list_services, through a generic client and the proto-loader definition. */
async function listServices(address: string): Promise<string[]> {
  const def = loadSync(REFLECTION_PROTO, { keepCase: true, defaults: true, oneofs: true });
  const service = def["grpc.reflection.v1.ServerReflection"];
  if (!service || !("ServerReflectionInfo" in service)) throw new Error("reflection service definition not found");
  const method = service.ServerReflectionInfo;
  const client = new Client(address, credentials.createInsecure());
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = client.makeBidiStreamRequest(method.path, method.requestSerialize, method.responseDeserialize);
      call.on("data", (res: ReflectionResponse) => {
        resolve((res.list_services_response?.service ?? []).map((s) => s.name));
        call.end();
      });
      call.on("error", (err: ServiceError) => reject(err));
      call.write({ list_services: "" });
    });
  } finally {
    client.close();
  }
}

describe("identity gRPC server", function () {
  let h: Harness;
  before(async () => {
    h = await startHarness("server");
  });
  after(async () => h?.stop());

  it("answers grpc.health.v1 Check with SERVING, for the server and each service", async () => {
    const health = createHealthClient(h.address);
    try {
      expect(await health.check("")).to.equal("SERVING");
      expect(await health.check("apgms.identity.v1.UserService")).to.equal("SERVING");
      expect(await health.check("apgms.identity.v1.PrincipalService")).to.equal("SERVING");
    } finally {
      health.close();
    }
  });

  it("lists the identity services through server reflection", async () => {
    const names = await listServices(h.address);
    expect(names).to.include.members([
      "apgms.identity.v1.TenantService",
      "apgms.identity.v1.AccountService",
      "apgms.identity.v1.UserService",
      "apgms.identity.v1.SessionService",
      "apgms.identity.v1.ApiKeyService",
      "apgms.identity.v1.PrincipalService",
    ]);
  });

  it("refuses every tenant-scoped RPC without tenant context, and a tenant that does not exist", async () => {
    const none = as(undefined);
    const calls = [
      h.tenants.getTenant({ tenantId: "00000000-0000-4000-8000-000000000000" }, none),
      h.accounts.listAccounts({ page: undefined }, none),
      h.users.listUsers({ page: undefined, accountId: "" }, none),
      h.sessions.listSessions({ page: undefined, userId: "", includeRevoked: false }, none),
      h.apiKeys.listApiKeys({ page: undefined, includeRevoked: false }, none),
    ];
    for (const call of calls) {
      const err = await expectError(call, status.UNAUTHENTICATED);
      expect(err.details).to.equal("missing tenant context");
    }
    await expectError(h.accounts.listAccounts({ page: undefined }, as("00000000-0000-4000-8000-000000000000")), status.NOT_FOUND);
    await expectError(h.accounts.listAccounts({ page: undefined }, as("not-a-uuid")), status.NOT_FOUND);
  });
});
