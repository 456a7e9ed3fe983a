import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { as, expectError, startHarness, type Harness } from "./harness.js";

describe("TenantService", function () {
  let h: Harness;
  before(async () => {
    h = await startHarness("tenants");
  });
  after(async () => h?.stop());

  const newTenant = (slug: string) => ({
    name: "  Acme Inc  ",
    slug,
    accountName: "Main",
    ownerEmail: "Founder@Acme.Example",
    ownerDisplayName: "Founder",
    ownerOidcIssuer: "https://issuer.test",
    ownerOidcSubject: `sub-${slug}`,
  });

  it("creates a tenant with its first account and owner, protected from deletion", async () => {
    const res = await h.tenants.createTenant(newTenant("acme"));
    expect(res.tenant).to.include({ name: "Acme Inc", slug: "acme", deletionProtection: true });
    expect(res.tenant?.createTime).to.be.instanceOf(Date);
    expect(res.tenant?.deleteTime).to.equal(undefined);
    const ctx = as(res.tenant?.id);
    const owner = await h.users.getUser({ userId: res.ownerUserId }, ctx);
    expect(owner.user).to.include({ accountId: res.accountId, email: "founder@acme.example", role: 1 });
    const account = await h.accounts.getAccount({ accountId: res.accountId }, ctx);
    expect(account.account).to.include({ name: "Main", userCount: 1 });
  });

  it("refuses invalid input naming the field", async () => {
    await expectError(h.tenants.createTenant(newTenant("Bad Slug")), status.INVALID_ARGUMENT, "slug");
    await expectError(h.tenants.createTenant(newTenant("-bad")), status.INVALID_ARGUMENT, "slug");
    await expectError(h.tenants.createTenant({ ...newTenant("okslug"), name: "   " }), status.INVALID_ARGUMENT, "name");
    await expectError(h.tenants.createTenant({ ...newTenant("okslug"), name: "x".repeat(201) }), status.INVALID_ARGUMENT, "name");
    await expectError(h.tenants.createTenant({ ...newTenant("okslug"), ownerEmail: "nope" }), status.INVALID_ARGUMENT, "owner_email");
    await expectError(h.tenants.createTenant({ ...newTenant("okslug"), accountName: "" }), status.INVALID_ARGUMENT, "account_name");
    expect(await h.prisma.tenant.count({ where: { slug: "okslug" } })).to.equal(0);
  });

  it("refuses a taken slug with ALREADY_EXISTS and creates nothing", async () => {
    await h.tenants.createTenant(newTenant("taken"));
    const before = await h.prisma.user.count();
    await expectError(h.tenants.createTenant({ ...newTenant("taken"), ownerOidcSubject: "other" }), status.ALREADY_EXISTS, "slug");
    expect(await h.prisma.user.count()).to.equal(before);
  });

  it("lets an identity that owns a tenant create another (an identity may belong to several)", async () => {
    await h.tenants.createTenant(newTenant("first-of-two"));
    const second = await h.tenants.createTenant({ ...newTenant("second-of-two"), ownerOidcSubject: "sub-first-of-two" });
    expect(second.tenant?.slug).to.equal("second-of-two");
  });

  it("refuses an owner issuer that is not an https URL", async () => {
    for (const bad of ["javascript:alert(1)", "not a url", "http://idp.example.com", "https://idp.example.com/?x=1", "https://u:p@idp.example.com"]) {
      await expectError(h.tenants.createTenant({ ...newTenant("issuer-check"), ownerOidcIssuer: bad }), status.INVALID_ARGUMENT, "owner_oidc_issuer");
    }
    expect(await h.prisma.tenant.count({ where: { slug: "issuer-check" } })).to.equal(0);
  });

  it("gets and updates the caller's own tenant", async () => {
    const t = await h.provision();
    const got = await h.tenants.getTenant({ tenantId: t.tenantId }, t.ctx);
    expect(got.tenant?.slug).to.equal(t.slug);
    const updated = await h.tenants.updateTenant({ tenantId: t.tenantId, name: " Renamed " }, t.ctx);
    expect(updated.tenant).to.include({ name: "Renamed", deletionProtection: true });
    const unprotected = await h.tenants.updateTenant({ tenantId: t.tenantId, deletionProtection: false }, t.ctx);
    expect(unprotected.tenant).to.include({ name: "Renamed", deletionProtection: false });
  });

  it("requires tenant context on tenant-scoped calls", async () => {
    const t = await h.provision();
    const err = await expectError(h.tenants.getTenant({ tenantId: t.tenantId }, as(undefined)), status.UNAUTHENTICATED);
    expect(err.details).to.equal("missing tenant context");
  });

  it("treats another tenant's id as not found and changes nothing", async () => {
    const a = await h.provision();
    const b = await h.provision();
    await expectError(h.tenants.getTenant({ tenantId: b.tenantId }, a.ctx), status.NOT_FOUND);
    await expectError(h.tenants.updateTenant({ tenantId: b.tenantId, name: "Hijacked", deletionProtection: false }, a.ctx), status.NOT_FOUND);
    await expectError(h.tenants.deleteTenant({ tenantId: b.tenantId, confirmation: b.slug }, a.ctx), status.NOT_FOUND);
    const stored = await h.prisma.tenant.findUniqueOrThrow({ where: { id: b.tenantId } });
    expect(stored).to.include({ name: `Tenant ${b.slug}`, deletionProtection: true, deletedAt: null });
    await expectError(h.tenants.getTenant({ tenantId: "not-a-uuid" }, a.ctx), status.INVALID_ARGUMENT, "tenant_id");
  });

  it("deletes only with protection off and the slug as confirmation; then nothing of it resolves", async () => {
    const t = await h.provision();
    const { secret } = await h.apiKeys.createApiKey({ name: "ci", scopes: ["identity:read"], expireTime: undefined }, t.ctx);
    const owner = await h.prisma.user.findUniqueOrThrow({ where: { id: t.ownerId } });
    await h.principals.resolveOidcSubject({ issuer: owner.oidcIssuer, subject: owner.oidcSubject });
    await h.principals.verifyApiKey({ secret });

    const refused = await expectError(h.tenants.deleteTenant({ tenantId: t.tenantId, confirmation: t.slug }, t.ctx), status.FAILED_PRECONDITION);
    expect(refused.details).to.match(/deletion protection/);
    await h.tenants.updateTenant({ tenantId: t.tenantId, deletionProtection: false }, t.ctx);
    await expectError(h.tenants.deleteTenant({ tenantId: t.tenantId, confirmation: "wrong" }, t.ctx), status.INVALID_ARGUMENT, "confirmation");
    expect((await h.prisma.tenant.findUniqueOrThrow({ where: { id: t.tenantId } })).deletedAt).to.equal(null);

    const { tenant } = await h.tenants.deleteTenant({ tenantId: t.tenantId, confirmation: t.slug }, t.ctx);
    const deleted = tenant?.deleteTime?.getTime() ?? 0;
    expect(deleted).to.be.closeTo(Date.now(), 5_000);
    expect(tenant?.purgeTime?.getTime()).to.equal(deleted + 30 * 86_400_000);

    await expectError(h.tenants.getTenant({ tenantId: t.tenantId }, t.ctx), status.NOT_FOUND);
    await expectError(h.accounts.listAccounts({ page: undefined }, t.ctx), status.NOT_FOUND);
    await expectError(h.principals.resolveOidcSubject({ issuer: owner.oidcIssuer, subject: owner.oidcSubject }), status.NOT_FOUND);
    const bad = await expectError(h.principals.verifyApiKey({ secret }), status.UNAUTHENTICATED);
    expect(bad.details).to.equal("invalid API key");
  });
});
