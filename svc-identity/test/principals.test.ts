import { status } from "@grpc/grpc-js";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { expect } from "chai";
import { expectError, startHarness, type Harness } from "./harness.js";

describe("PrincipalService.ResolveOidcSubject", function () {
  let h: Harness;
  before(async () => {
    h = await startHarness("principals");
  });
  after(async () => h?.stop());

  it("resolves a linked OIDC identity to its user and tenant, without tenant context", async () => {
    const t = await h.provision();
    const { user } = await h.users.createUser(
      { accountId: t.accountId, email: "ana@p.example", displayName: "Ana", role: Role.ROLE_ANALYST, oidcIssuer: "https://login.p.example", oidcSubject: "00u1" },
      t.ctx,
    );
    const res = await h.principals.resolveOidcSubject({ issuer: "https://login.p.example", subject: "00u1" });
    expect(res.user).to.include({ id: user?.id, role: Role.ROLE_ANALYST, tenantId: t.tenantId });
    expect(res.tenant).to.include({ id: t.tenantId, slug: t.slug });
  });

  it("answers NOT_FOUND for an unknown identity, or one whose user is gone", async () => {
    const t = await h.provision();
    await expectError(h.principals.resolveOidcSubject({ issuer: "https://issuer.test", subject: "nobody" }), status.NOT_FOUND);
    await expectError(h.principals.resolveOidcSubject({ issuer: "https://other.test", subject: `owner-${t.slug}` }), status.NOT_FOUND);
    const { user } = await h.users.createUser(
      { accountId: t.accountId, email: "gone@p.example", displayName: "Gone", role: Role.ROLE_VIEWER, oidcIssuer: "https://issuer.test", oidcSubject: "gone" },
      t.ctx,
    );
    await h.users.deleteUser({ userId: user?.id ?? "" }, t.ctx);
    await expectError(h.principals.resolveOidcSubject({ issuer: "https://issuer.test", subject: "gone" }), status.NOT_FOUND);
  });

  it("refuses an empty issuer or subject naming the field", async () => {
    await expectError(h.principals.resolveOidcSubject({ issuer: "", subject: "x" }), status.INVALID_ARGUMENT, "issuer");
    await expectError(h.principals.resolveOidcSubject({ issuer: "https://issuer.test", subject: " " }), status.INVALID_ARGUMENT, "subject");
  });
});
