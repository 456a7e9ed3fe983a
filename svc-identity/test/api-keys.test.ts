import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { API_KEY_SCOPES } from "../src/domain/scopes.js";
import { expectError, sleep, startHarness, type Harness } from "./harness.js";

const SECRET = /^apgms_[0-9A-Za-z]{8}_[0-9A-Za-z]{32}$/;

describe("ApiKeyService and PrincipalService.VerifyApiKey", function () {
  let h: Harness;
  before(async () => {
    h = await startHarness("api_keys");
  });
  after(async () => h?.stop());

  const newKey = (name = "ci", scopes: string[] = ["identity:read"], expireTime?: Date) => ({ name, scopes, expireTime });

  it("exports the known scopes", () => {
    expect(API_KEY_SCOPES).to.deep.equal(["identity:read", "identity:write", "identity:provision", "billing:read", "billing:write", "billing:redeem", "insights:read", "events:write"]);
  });

  it("creates a key whose secret is shown once, stored only as a hash, and verifies", async () => {
    const t = await h.provision();
    const expire = new Date(Date.now() + 86_400_000);
    const { apiKey, secret } = await h.apiKeys.createApiKey(newKey("deploy", ["identity:write", "identity:read"], expire), t.ctx);
    expect(secret).to.match(SECRET);
    expect(apiKey).to.include({ name: "deploy", tenantId: t.tenantId, prefix: secret.slice(0, 14) });
    expect(apiKey?.scopes).to.deep.equal(["identity:read", "identity:write"]);
    expect(apiKey?.expireTime?.getTime()).to.equal(expire.getTime());

    const rows = await h.prisma.apiKeySecret.findMany({ where: { apiKeyId: apiKey?.id ?? "" } });
    expect(rows).to.have.length(1);
    expect(JSON.stringify(rows)).to.not.include(secret.slice(15));
    const stored = await h.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey?.id ?? "" } });
    expect(stored.createdBy).to.equal(`user:${t.ownerId}`);

    const verified = await h.principals.verifyApiKey({ secret });
    expect(verified.apiKey?.id).to.equal(apiKey?.id);
    expect(verified.tenant?.id).to.equal(t.tenantId);
    expect(verified.apiKey?.lastUsedTime).to.be.instanceOf(Date);

    const got = await h.apiKeys.getApiKey({ apiKeyId: apiKey?.id ?? "" }, t.ctx);
    expect(got.apiKey?.prefix).to.equal(apiKey?.prefix);
    expect(got.apiKey?.lastUsedTime?.getTime()).to.equal(verified.apiKey?.lastUsedTime?.getTime());
  });

  it("writes last use at most once a minute per key", async () => {
    const t = await h.provision();
    const { apiKey, secret } = await h.apiKeys.createApiKey(newKey(), t.ctx);
    await h.principals.verifyApiKey({ secret });
    const first = (await h.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey?.id ?? "" } })).lastUsedAt;
    await sleep(20);
    await Promise.all([1, 2, 3].map(() => h.principals.verifyApiKey({ secret })));
    const after = (await h.prisma.apiKey.findUniqueOrThrow({ where: { id: apiKey?.id ?? "" } })).lastUsedAt;
    expect(after?.getTime()).to.equal(first?.getTime());
  });

  it("refuses unknown, malformed, expired and revoked secrets alike", async () => {
    const t = await h.provision();
    const { apiKey, secret } = await h.apiKeys.createApiKey(newKey(), t.ctx);
    const tampered = secret.slice(0, -1) + (secret.endsWith("a") ? "b" : "a");
    for (const bad of ["", "apgms_nope", tampered, `apgms_AAAAAAAA_${"A".repeat(32)}`]) {
      const err = await expectError(h.principals.verifyApiKey({ secret: bad }), status.UNAUTHENTICATED);
      expect(err.details).to.equal("invalid API key");
    }
    await h.prisma.apiKey.update({ where: { id: apiKey?.id ?? "" }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await expectError(h.principals.verifyApiKey({ secret }), status.UNAUTHENTICATED);
  });

  it("refuses bad input naming the field", async () => {
    const t = await h.provision();
    await expectError(h.apiKeys.createApiKey(newKey("x", []), t.ctx), status.INVALID_ARGUMENT, "scopes");
    await expectError(h.apiKeys.createApiKey(newKey("x", ["identity:admin"]), t.ctx), status.INVALID_ARGUMENT, "scopes");
    await expectError(h.apiKeys.createApiKey(newKey(" ", ["identity:read"]), t.ctx), status.INVALID_ARGUMENT, "name");
    await expectError(h.apiKeys.createApiKey(newKey("x", ["identity:read"], new Date(Date.now() - 1000)), t.ctx), status.INVALID_ARGUMENT, "expire_time");
    await expectError(h.apiKeys.getApiKey({ apiKeyId: "k" }, t.ctx), status.INVALID_ARGUMENT, "api_key_id");
    const { apiKey } = await h.apiKeys.createApiKey(newKey(), t.ctx);
    const id = apiKey?.id ?? "";
    await expectError(h.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: 30 * 86_400 + 1 }, t.ctx), status.INVALID_ARGUMENT, "grace_period_seconds");
    await expectError(h.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: -1 }, t.ctx), status.INVALID_ARGUMENT, "grace_period_seconds");
    expect(await h.prisma.apiKeyRotation.count({ where: { apiKeyId: id } })).to.equal(0);
  });

  it("rotates: the old secret works during the grace period and not after", async () => {
    const t = await h.provision();
    const created = await h.apiKeys.createApiKey(newKey(), t.ctx);
    const id = created.apiKey?.id ?? "";
    const rotated = await h.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: 1 }, t.ctx);
    expect(rotated.secret).to.match(SECRET).and.not.equal(created.secret);
    expect(rotated.apiKey?.prefix).to.equal(rotated.secret.slice(0, 14));
    const [rotation] = rotated.apiKey?.rotations ?? [];
    expect(rotation).to.include({ oldPrefix: created.apiKey?.prefix, newPrefix: rotated.apiKey?.prefix, actor: `user:${t.ownerId}` });
    expect((rotation?.graceEndTime?.getTime() ?? 0) - (rotation?.rotateTime?.getTime() ?? 0)).to.equal(1000);

    expect((await h.principals.verifyApiKey({ secret: created.secret })).apiKey?.id).to.equal(id);
    expect((await h.principals.verifyApiKey({ secret: rotated.secret })).apiKey?.id).to.equal(id);
    await sleep(1_100);
    await expectError(h.principals.verifyApiKey({ secret: created.secret }), status.UNAUTHENTICATED);
    expect((await h.principals.verifyApiKey({ secret: rotated.secret })).apiKey?.prefix).to.equal(rotated.apiKey?.prefix);
  });

  it("uses the default grace period for 0 and lists rotations newest first", async () => {
    const t = await h.provision();
    const created = await h.apiKeys.createApiKey(newKey(), t.ctx);
    const id = created.apiKey?.id ?? "";
    const r1 = await h.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: 0 }, t.ctx);
    const r2 = await h.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: 60 }, t.ctx);
    const first = r1.apiKey?.rotations[0];
    expect((first?.graceEndTime?.getTime() ?? 0) - (first?.rotateTime?.getTime() ?? 0)).to.equal(86_400_000);
    const { apiKey } = await h.apiKeys.getApiKey({ apiKeyId: id }, t.ctx);
    expect(apiKey?.rotations.map((r) => r.newPrefix)).to.deep.equal([r2.apiKey?.prefix, r1.apiKey?.prefix]);
    // All three secrets still work: two in their grace period, one current.
    for (const secret of [created.secret, r1.secret, r2.secret]) await h.principals.verifyApiKey({ secret });
  });

  it("revokes at once; a revoked key cannot be rotated and is listed only on request", async () => {
    const t = await h.provision();
    const created = await h.apiKeys.createApiKey(newKey("old"), t.ctx);
    const id = created.apiKey?.id ?? "";
    const rotated = await h.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: 3600 }, t.ctx);
    await h.apiKeys.createApiKey(newKey("kept"), t.ctx);
    const { apiKey } = await h.apiKeys.revokeApiKey({ apiKeyId: id }, t.ctx);
    expect(apiKey?.revokeTime).to.be.instanceOf(Date);
    await expectError(h.principals.verifyApiKey({ secret: rotated.secret }), status.UNAUTHENTICATED);
    await expectError(h.principals.verifyApiKey({ secret: created.secret }), status.UNAUTHENTICATED);
    await expectError(h.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: 0 }, t.ctx), status.FAILED_PRECONDITION);

    const live = await h.apiKeys.listApiKeys({ page: undefined, includeRevoked: false }, t.ctx);
    expect(live.apiKeys.map((k) => k.name)).to.deep.equal(["kept"]);
    const all = await h.apiKeys.listApiKeys({ page: { pageSize: 1, pageToken: "" }, includeRevoked: true }, t.ctx);
    expect(all.apiKeys.map((k) => k.name)).to.deep.equal(["old"]);
    const next = await h.apiKeys.listApiKeys({ page: { pageSize: 1, pageToken: all.page?.nextPageToken ?? "" }, includeRevoked: true }, t.ctx);
    expect(next.apiKeys.map((k) => k.name)).to.deep.equal(["kept"]);
    expect(next.page?.nextPageToken).to.equal("");
  });

  it("treats another tenant's keys as not found and changes nothing", async () => {
    const a = await h.provision();
    const b = await h.provision();
    const theirs = await h.apiKeys.createApiKey(newKey(), b.ctx);
    const id = theirs.apiKey?.id ?? "";
    await expectError(h.apiKeys.getApiKey({ apiKeyId: id }, a.ctx), status.NOT_FOUND);
    await expectError(h.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: 0 }, a.ctx), status.NOT_FOUND);
    await expectError(h.apiKeys.revokeApiKey({ apiKeyId: id }, a.ctx), status.NOT_FOUND);
    const stored = await h.prisma.apiKey.findUniqueOrThrow({ where: { id }, include: { secrets: true, rotations: true } });
    expect(stored.revokedAt).to.equal(null);
    expect(stored.secrets).to.have.length(1);
    expect(stored.rotations).to.have.length(0);
    expect((await h.apiKeys.listApiKeys({ page: undefined, includeRevoked: true }, a.ctx)).apiKeys).to.deep.equal([]);
    await h.principals.verifyApiKey({ secret: theirs.secret });
  });
});
