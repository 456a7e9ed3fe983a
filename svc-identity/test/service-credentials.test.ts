import { randomUUID } from "node:crypto";
import {
  connect,
  createHealthClient,
  createServiceTokenMinter,
  generateServiceKeyPair,
  parseSigningKey,
  type CallCredentialSource,
  type ServiceTokenMinter,
} from "@apgms/common";
import { isServiceCredentialRefusal } from "@apgms/common/grpc/authenticate";
import { testMinter, testServiceKeys } from "@apgms/common/testing/service-keys";
import { TenantServiceClient } from "@apgms/proto/apgms/identity/v1/tenant";
import { UserServiceClient, type ListUsersResponse } from "@apgms/proto/apgms/identity/v1/user";
import { credentials, Metadata, status, type ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { SignJWT } from "jose";
import { SERVICE_NAME } from "../src/config.js";
import { as, expectError, startHarness, type Harness, type Provisioned } from "./harness.js";

/** A client whose every call carries exactly `token` (or none). */
function tenantsWith(address: string, token?: string) {
  const source: CallCredentialSource | undefined = token === undefined ? undefined : { tokenFor: async () => token };
  return connect(TenantServiceClient, address, { timeoutMs: 5_000, retries: 0, credentials: source });
}

/** A token signed with the run's key, with the claims given (for expired and other hand-made tokens). */
async function handMade(claims: { tid?: string; sub?: string; aud?: string; iat: number; exp: number }, kid?: string): Promise<string> {
  const key = parseSigningKey(testServiceKeys().privateKeyPem);
  return new SignJWT(claims.tid ? { tid: claims.tid } : {})
    .setProtectedHeader({ alg: key.alg, kid: kid ?? key.kid })
    .setIssuer("test")
    .setSubject(claims.sub ?? "service:test")
    .setAudience(claims.aud ?? SERVICE_NAME)
    .setIssuedAt(claims.iat)
    .setExpirationTime(claims.exp)
    .sign(key.privateKey);
}

describe("service credentials on every gRPC call", function () {
  let h: Harness;
  let a: Provisioned;
  let b: Provisioned;
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    h = await startHarness("svc_credentials");
    a = await h.provision("cred-a");
    b = await h.provision("cred-b");
  });
  after(async () => h?.stop());

  async function refused(token: string | undefined, message: RegExp): Promise<void> {
    const { client, raw } = tenantsWith(h.address, token);
    try {
      const err = await expectError(client.getTenant({ tenantId: a.tenantId }, as(a.tenantId)), status.UNAUTHENTICATED);
      expect(err.details).to.match(message);
      expect(isServiceCredentialRefusal(err), "marked as a refused service credential").to.equal(true);
    } finally {
      raw.close();
    }
  }

  it("refuses a call without a credential", async () => {
    await refused(undefined, /service credential required/);
  });

  it("refuses an expired credential", async () => {
    await refused(await handMade({ tid: a.tenantId, iat: now() - 120, exp: now() - 60 }), /expired/);
  });

  it("refuses a credential signed by another key, with its own key id or with the service's", async () => {
    const other = parseSigningKey(generateServiceKeyPair().privateKeyPem);
    const foreign: ServiceTokenMinter = createServiceTokenMinter({ key: other, issuer: "intruder" });
    await refused(await foreign.mint(SERVICE_NAME, a.tenantId, { kind: "user", id: randomUUID() }), /unknown key/);
    const ownKid = parseSigningKey(testServiceKeys().privateKeyPem).kid;
    const forgedKid = createServiceTokenMinter({ key: { ...other, kid: ownKid }, issuer: "intruder" });
    await refused(await forgedKid.mint(SERVICE_NAME, a.tenantId, { kind: "user", id: randomUUID() }), /signature invalid/);
  });

  it("refuses a credential minted for another service, or malformed", async () => {
    await refused(await testMinter().mint("svc-billing", a.tenantId, { kind: "user", id: randomUUID() }), /aud claim invalid/);
    await refused("not-a-jwt", /malformed/);
    await refused(await handMade({ tid: a.tenantId, sub: "nobody", iat: now(), exp: now() + 60 }), /malformed/);
  });

  it("takes the tenant from the credential: forged tenant metadata beside a valid credential for A cannot reach B", async () => {
    const token = await testMinter().mint(SERVICE_NAME, a.tenantId, { kind: "user", id: a.ownerId });
    const forged = new Metadata();
    forged.set("authorization", `Bearer ${token}`);
    forged.set("x-apgms-tenant", b.tenantId);
    forged.set("x-apgms-principal", `user:${b.ownerId}`);
    const tenants = new TenantServiceClient(h.address, credentials.createInsecure());
    const users = new UserServiceClient(h.address, credentials.createInsecure());
    try {
      const deadline = Date.now() + 5_000;
      const getB = await new Promise<ServiceError | null>((resolve) => tenants.getTenant({ tenantId: b.tenantId }, forged, { deadline }, (err) => resolve(err)));
      expect(getB?.code, "B's tenant through a token for A").to.equal(status.NOT_FOUND);
      const listed = await new Promise<ListUsersResponse>((resolve, reject) =>
        users.listUsers({ accountId: "", page: undefined }, forged, { deadline }, (err, res) => (err ? reject(err) : resolve(res))),
      );
      expect(listed.users.map((u) => u.tenantId)).to.have.length.greaterThan(0).and.to.satisfy((ids: string[]) => ids.every((id) => id === a.tenantId));
      expect(listed.users.map((u) => u.id)).to.not.include(b.ownerId);
    } finally {
      tenants.close();
      users.close();
    }
  });

  it("a platform credential (no tenant) with forged tenant metadata is still a call without tenant context", async () => {
    const token = await testMinter().mint(SERVICE_NAME, undefined, { kind: "service", id: "test" });
    const forged = new Metadata();
    forged.set("authorization", `Bearer ${token}`);
    forged.set("x-apgms-tenant", b.tenantId);
    const tenants = new TenantServiceClient(h.address, credentials.createInsecure());
    try {
      const err = await new Promise<ServiceError | null>((resolve) => tenants.getTenant({ tenantId: b.tenantId }, forged, { deadline: Date.now() + 5_000 }, (e) => resolve(e)));
      expect(err?.code).to.equal(status.UNAUTHENTICATED);
      expect(err?.details).to.equal("missing tenant context");
      expect(isServiceCredentialRefusal(err), "the handler's refusal, not the gate's").to.equal(false);
    } finally {
      tenants.close();
    }
  });

  it("leaves health checks unauthenticated", async () => {
    const health = createHealthClient(h.address);
    try {
      expect(await health.check("apgms.identity.v1.TenantService")).to.equal("SERVING");
    } finally {
      health.close();
    }
  });

  it("mints once per (service, tenant, principal) and reuses the token until shortly before expiry", async () => {
    const minter = testMinter("bench");
    const user = { kind: "user" as const, id: randomUUID() };
    const first = await minter.mint(SERVICE_NAME, a.tenantId, user);
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 10_000; i++) await minter.mint(SERVICE_NAME, a.tenantId, user);
    const perCallUs = Number(process.hrtime.bigint() - t0) / 1e3 / 10_000;
    expect(await minter.mint(SERVICE_NAME, a.tenantId, user)).to.equal(first);
    expect(await minter.mint(SERVICE_NAME, b.tenantId, user)).to.not.equal(first);
    expect(perCallUs, "a cached token costs a map lookup").to.be.below(20);
  });
});
