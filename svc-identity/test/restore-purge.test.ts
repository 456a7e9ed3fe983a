import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { expectError, startHarness, type Harness } from "./harness.js";

describe("restoring and purging a deleted tenant", () => {
  let h: Harness;
  before(async function () {
    this.timeout(60_000);
    h = await startHarness("ident_restore");
  });
  after(() => h?.stop());

  const ownerOf = (slug: string) => ({ issuer: "https://issuer.test", subject: `owner-${slug}`, email: `owner@${slug}.example`, emailVerified: true, name: "" });

  async function deleted(label: string) {
    const t = await h.provision(label);
    await h.apiKeys.createApiKey({ name: "k", scopes: ["identity:read"], expireTime: undefined }, t.ctx);
    await h.tenants.updateTenant({ tenantId: t.tenantId, deletionProtection: false }, t.ctx);
    await h.tenants.deleteTenant({ tenantId: t.tenantId, confirmation: t.slug }, t.ctx);
    return t;
  }

  it("lets an owner see and restore the tenant within the window; its users resolve again", async () => {
    const t = await deleted("restore");
    const owner = ownerOf(t.slug);
    await expectError(h.principals.resolveOidcSubject({ issuer: owner.issuer, subject: owner.subject }), status.NOT_FOUND);
    const restorable = await h.memberships.listRestorableTenants({ identity: owner });
    expect(restorable.tenants.map((x) => x.id)).to.deep.equal([t.tenantId]);
    expect(restorable.tenants[0]?.purgeTime).to.be.instanceOf(Date);

    const restored = await h.memberships.restoreTenant({ identity: owner, tenantId: t.tenantId });
    expect(restored.tenant).to.include({ id: t.tenantId, deletionProtection: true });
    expect(restored.tenant?.deleteTime).to.equal(undefined);
    expect((await h.principals.resolveOidcSubject({ issuer: owner.issuer, subject: owner.subject })).tenant?.id).to.equal(t.tenantId);
    expect((await h.memberships.listRestorableTenants({ identity: owner })).tenants).to.deep.equal([]);
  });

  it("refuses a restore by a non-owner, of a live tenant, or after the window", async () => {
    const t = await deleted("restore-refused");
    const stranger = { ...ownerOf(t.slug), subject: "someone-else" };
    await expectError(h.memberships.restoreTenant({ identity: stranger, tenantId: t.tenantId }), status.NOT_FOUND);
    const live = await h.provision("live");
    await expectError(h.memberships.restoreTenant({ identity: ownerOf(live.slug), tenantId: live.tenantId }), status.NOT_FOUND);
    await h.prisma.tenant.update({ where: { id: t.tenantId }, data: { purgeAfter: new Date(Date.now() - 1000) } });
    await expectError(h.memberships.restoreTenant({ identity: ownerOf(t.slug), tenantId: t.tenantId }), status.NOT_FOUND);
    expect((await h.memberships.listRestorableTenants({ identity: ownerOf(t.slug) })).tenants).to.deep.equal([]);
  });

  it("purges tenants past their window with everything they own, freeing the slug, and nothing else", async () => {
    const gone = await deleted("purge");
    const kept = await deleted("purge-kept");
    await h.prisma.tenant.update({ where: { id: gone.tenantId }, data: { purgeAfter: new Date(Date.now() - 1000) } });
    const res = await h.tenants.purgeDeletedTenants({ limit: 0 });
    expect(res.purgedTenantIds).to.include(gone.tenantId);
    expect(res.purgedTenantIds).to.not.include(kept.tenantId);
    expect(await h.prisma.tenant.count({ where: { id: gone.tenantId } })).to.equal(0);
    expect(await h.prisma.user.count({ where: { tenantId: gone.tenantId } })).to.equal(0);
    expect(await h.prisma.account.count({ where: { tenantId: gone.tenantId } })).to.equal(0);
    expect(await h.prisma.apiKey.count({ where: { tenantId: gone.tenantId } })).to.equal(0);
    expect(await h.prisma.apiKey.count({ where: { tenantId: kept.tenantId } })).to.equal(1);
    expect(await h.prisma.tenant.count({ where: { id: kept.tenantId } })).to.equal(1);
    const again = await h.tenants.createTenant({
      name: "Reborn", slug: gone.slug, accountName: "Main", ownerEmail: "new@owner.example", ownerDisplayName: "New",
      ownerOidcIssuer: "https://issuer.test", ownerOidcSubject: "new-owner",
    });
    expect(again.tenant?.slug).to.equal(gone.slug);
  });
});
