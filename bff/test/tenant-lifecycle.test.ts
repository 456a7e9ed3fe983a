import { randomBytes } from "node:crypto";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { AUDIENCE, dataOf as data, errorCode, getStack, type GqlResponse, type Stack } from "./stack.js";
import { provisionTenant, startEdge, type ProvisionedTenant } from "./support.js";


describe("deleting, restoring and purging a tenant through the edge", () => {
  let s: Stack;
  // An edge that trusts its caches for 30 s: a deletion must not wait for them.
  let slow: { app: App; url: string };
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    slow = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity: s.identity, redis: s.redis, config: { AUTH_CACHE_SECONDS: 30, SIGNUP_ENABLED: true } });
  });
  after(() => slow?.app.close());

  const onSlow = async (query: string, auth: { token?: string; apiKey?: string }, variables: Record<string, unknown> = {}): Promise<GqlResponse> => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (auth.token) headers.authorization = `Bearer ${auth.token}`;
    if (auth.apiKey) headers["x-api-key"] = auth.apiKey;
    const res = await fetch(`${slow.url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse["body"] };
  };

  async function tenantWithKey(label: string): Promise<{ t: ProvisionedTenant; owner: string; key: string }> {
    const t = await provisionTenant(s.identity, s.issuerUrl, `${label}-${randomBytes(3).toString("hex")}`);
    const owner = s.token(t.owner.subject, { email: t.owner.email });
    const key = data<{ secret: string }>(await s.gql('mutation { createApiKey(input: { name: "k", scopes: ["identity:read"] }) { secret } }', {}, { token: owner }), "createApiKey").secret;
    return { t, owner, key };
  }

  async function deleteTenant(t: ProvisionedTenant, owner: string): Promise<void> {
    expect((await onSlow("mutation { updateTenant(input: { deletionProtection: false }) { id } }", { token: owner })).body.errors).to.equal(undefined);
    const res = await onSlow("mutation($c: String!) { deleteTenant(confirmation: $c) { deletedAt purgeAt } }", { token: owner }, { c: t.slug });
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
  }

  it("refuses a deleted tenant's API key and users on the very next request, on every edge", async () => {
    const { t, owner, key } = await tenantWithKey("gone-now");
    // Warm every cache: the key's verification in Redis, the owner's principal and session in the slow edge.
    for (let i = 0; i < 3; i++) {
      expect((await onSlow("{ me { kind } }", { apiKey: key })).status).to.equal(200);
      expect((await s.gql("{ me { kind } }", {}, { apiKey: key })).status).to.equal(200);
      expect((await onSlow("{ me { kind } }", { token: owner })).status).to.equal(200);
    }
    await deleteTenant(t, owner);
    expect((await onSlow("{ me { kind } }", { apiKey: key })).status, "key on the deleting edge").to.equal(401);
    expect((await s.gql("{ me { kind } }", {}, { apiKey: key })).status, "key on another edge").to.equal(401);
    expect((await onSlow("{ me { kind } }", { token: owner })).status, "owner on the deleting edge").to.equal(401);
  });

  it("lets the owner see the pending deletion and restore the tenant; its keys and users work again", async () => {
    const { t, owner, key } = await tenantWithKey("restore");
    const admin = await s.join({ ...t.owner }, t.accountId, `admin@${t.slug}.test`, "ADMIN");
    await deleteTenant(t, owner);
    const restorable = data<Array<{ id: string; deletedAt: string; purgeAt: string }>>(
      await s.gql("{ restorableTenants { id deletedAt purgeAt } }", {}, { token: owner }),
      "restorableTenants",
    );
    expect(restorable.map((x) => x.id)).to.deep.equal([t.tenantId]);
    expect(Date.parse(restorable[0]!.purgeAt)).to.be.greaterThan(Date.now());
    const adminToken = s.token(admin.subject, { email: admin.email });
    expect(data(await s.gql("{ restorableTenants { id } }", {}, { token: adminToken }), "restorableTenants")).to.deep.equal([]);
    expect(errorCode(await s.gql("mutation($id: ID!) { restoreTenant(id: $id) { id } }", { id: t.tenantId }, { token: adminToken }))).to.equal("NOT_FOUND");

    const restored = await s.gql("mutation($id: ID!) { restoreTenant(id: $id) { id deletedAt purgeAt deletionProtection } }", { id: t.tenantId }, { token: owner });
    expect(data(restored, "restoreTenant")).to.deep.equal({ id: t.tenantId, deletedAt: null, purgeAt: null, deletionProtection: true });
    expect((await onSlow("{ me { tenant { id } } }", { token: owner })).body.data).to.deep.equal({ me: { tenant: { id: t.tenantId } } });
    expect((await onSlow("{ me { kind } }", { apiKey: key })).status).to.equal(200);
    expect((await s.gql("{ me { role } }", {}, { token: adminToken })).body.data).to.deep.equal({ me: { role: "ADMIN" } });
  });

  it("keeps signUp and signUpAvailable in agreement before and after a restore and after the purge, which frees the slug", async () => {
    const { t, owner } = await tenantWithKey("purged");
    await deleteTenant(t, owner);
    const agree = async (slug: string) => {
      const available = data<boolean>(await s.gql("{ signUpAvailable }", {}, { token: owner }), "signUpAvailable");
      const res = await s.gql("mutation($i: SignUpInput!) { signUp(input: $i) { tenantSlug } }", { i: { tenantName: "Again", slug } }, { token: owner });
      expect(available).to.equal(true);
      expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    };
    await agree(`${t.slug}-a`);
    // The deleted tenant's slug stays taken until the purge.
    const taken = await s.gql("mutation($i: SignUpInput!) { signUp(input: $i) { tenantSlug } }", { i: { tenantName: "Same", slug: t.slug } }, { token: owner });
    expect(errorCode(taken)).to.equal("CONFLICT");
    expect(taken.body.errors![0]!.extensions!.field).to.equal("slug");

    await s.pg.query("update identity.tenants set purge_after = now() - interval '1 second' where id = $1", [t.tenantId]);
    const purged = await s.identity.tenants.purgeDeletedTenants({ limit: 0 });
    expect(purged.purgedTenantIds).to.include(t.tenantId);
    expect(data(await s.gql("{ restorableTenants { id } }", {}, { token: owner }), "restorableTenants")).to.deep.equal([]);
    await agree(t.slug);
  });
});
