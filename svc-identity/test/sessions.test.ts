import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { expectError, sleep, startHarness, type Harness } from "./harness.js";

describe("SessionService", function () {
  let h: Harness;
  before(async () => {
    h = await startHarness("sessions");
  });
  after(async () => h?.stop());

  const touch = (userId: string, sessionKey: string, extra: Partial<{ userAgent: string; ip: string; expireTime: Date }> = {}) => ({
    userId,
    sessionKey,
    userAgent: "Mozilla/5.0",
    ip: "192.0.2.1",
    expireTime: undefined,
    ...extra,
  });

  it("creates a session on first sight and refreshes it after", async () => {
    const t = await h.provision();
    const expire = new Date(Date.now() + 3_600_000);
    const first = (await h.sessions.touchSession(touch(t.ownerId, "sid-1", { expireTime: expire }), t.ctx)).session;
    expect(first).to.include({ tenantId: t.tenantId, userId: t.ownerId, sessionKey: "sid-1", userAgent: "Mozilla/5.0", ip: "192.0.2.1" });
    expect(first?.expireTime?.getTime()).to.equal(expire.getTime());
    expect(first?.revokeTime).to.equal(undefined);

    await sleep(20);
    const later = new Date(Date.now() + 7_200_000);
    const second = (await h.sessions.touchSession(touch(t.ownerId, "sid-1", { userAgent: "curl/8", ip: "2001:db8::1", expireTime: later }), t.ctx)).session;
    expect(second?.id).to.equal(first?.id);
    expect(second).to.include({ userAgent: "curl/8", ip: "2001:db8::1" });
    expect(second?.lastSeenTime?.getTime()).to.be.greaterThan(first?.lastSeenTime?.getTime() ?? 0);
    expect(second?.createTime?.getTime()).to.equal(first?.createTime?.getTime());
    expect(second?.expireTime?.getTime()).to.equal(later.getTime());
    expect(await h.prisma.session.count({ where: { userId: t.ownerId } })).to.equal(1);
  });

  it("revokes a session, which stays revoked when touched again", async () => {
    const t = await h.provision();
    const s = (await h.sessions.touchSession(touch(t.ownerId, "sid-r"), t.ctx)).session;
    const revoked = (await h.sessions.revokeSession({ sessionId: s?.id ?? "" }, t.ctx)).session;
    expect(revoked?.revokeTime).to.be.instanceOf(Date);
    const again = (await h.sessions.touchSession(touch(t.ownerId, "sid-r"), t.ctx)).session;
    expect(again?.id).to.equal(s?.id);
    expect(again?.revokeTime?.getTime()).to.equal(revoked?.revokeTime?.getTime());
  });

  it("keeps the stored expiry when a sighting carries none, and refuses a deleted tenant's user", async () => {
    const t = await h.provision();
    const expire = new Date(Date.now() + 3_600_000);
    await h.sessions.touchSession(touch(t.ownerId, "sid-e", { expireTime: expire }), t.ctx);
    const again = (await h.sessions.touchSession(touch(t.ownerId, "sid-e"), t.ctx)).session;
    expect(again?.expireTime?.getTime()).to.equal(expire.getTime());
    await h.prisma.tenant.update({ where: { id: t.tenantId }, data: { deletedAt: new Date() } });
    await expectError(h.sessions.touchSession(touch(t.ownerId, "sid-e"), t.ctx), status.NOT_FOUND);
    await expectError(h.sessions.touchSession(touch(t.ownerId, "sid-new"), t.ctx), status.NOT_FOUND);
    expect(await h.prisma.session.count({ where: { userId: t.ownerId } })).to.equal(1);
  });

  it("lists sessions, filtered by user and revocation", async () => {
    const t = await h.provision();
    const { user } = await h.users.createUser(
      { accountId: t.accountId, email: "two@s.example", displayName: "Two", role: 4, oidcIssuer: "https://issuer.test", oidcSubject: `two-${t.slug}` },
      t.ctx,
    );
    const other = user?.id ?? "";
    await h.sessions.touchSession(touch(t.ownerId, "a"), t.ctx);
    const b = (await h.sessions.touchSession(touch(t.ownerId, "b"), t.ctx)).session;
    await h.sessions.touchSession(touch(other, "c"), t.ctx);
    await h.sessions.revokeSession({ sessionId: b?.id ?? "" }, t.ctx);

    const keys = async (userId: string, includeRevoked: boolean) =>
      (await h.sessions.listSessions({ page: undefined, userId, includeRevoked }, t.ctx)).sessions.map((s) => s.sessionKey);
    expect(await keys("", false)).to.deep.equal(["a", "c"]);
    expect(await keys("", true)).to.deep.equal(["a", "b", "c"]);
    expect(await keys(t.ownerId, true)).to.deep.equal(["a", "b"]);
    expect(await keys(other, false)).to.deep.equal(["c"]);
  });

  it("refuses bad input naming the field", async () => {
    const t = await h.provision();
    await expectError(h.sessions.touchSession(touch(t.ownerId, ""), t.ctx), status.INVALID_ARGUMENT, "session_key");
    await expectError(h.sessions.touchSession(touch(t.ownerId, "k", { ip: "999.1.1.1" }), t.ctx), status.INVALID_ARGUMENT, "ip");
    await expectError(h.sessions.touchSession(touch("bad", "k"), t.ctx), status.INVALID_ARGUMENT, "user_id");
    await expectError(h.sessions.revokeSession({ sessionId: "bad" }, t.ctx), status.INVALID_ARGUMENT, "session_id");
    await expectError(h.sessions.listSessions({ page: undefined, userId: "bad", includeRevoked: false }, t.ctx), status.INVALID_ARGUMENT, "user_id");
  });

  it("treats another tenant's users and sessions as not found and changes nothing", async () => {
    const a = await h.provision();
    const b = await h.provision();
    const s = (await h.sessions.touchSession(touch(b.ownerId, "theirs"), b.ctx)).session;
    await expectError(h.sessions.touchSession(touch(b.ownerId, "theirs", { userAgent: "evil" }), a.ctx), status.NOT_FOUND);
    await expectError(h.sessions.revokeSession({ sessionId: s?.id ?? "" }, a.ctx), status.NOT_FOUND);
    await expectError(h.sessions.listSessions({ page: undefined, userId: b.ownerId, includeRevoked: true }, a.ctx), status.NOT_FOUND);
    const stored = await h.prisma.session.findUniqueOrThrow({ where: { id: s?.id ?? "" } });
    expect(stored).to.include({ revokedAt: null, userAgent: "Mozilla/5.0" });
    expect((await h.sessions.listSessions({ page: undefined, userId: "", includeRevoked: true }, a.ctx)).sessions).to.deep.equal([]);
  });

  it("ends a user's sessions with the user", async () => {
    const t = await h.provision();
    const { user } = await h.users.createUser(
      { accountId: t.accountId, email: "gone@s.example", displayName: "Gone", role: 3, oidcIssuer: "https://issuer.test", oidcSubject: `gone-${t.slug}` },
      t.ctx,
    );
    await h.sessions.touchSession(touch(user?.id ?? "", "x"), t.ctx);
    await h.users.deleteUser({ userId: user?.id ?? "" }, t.ctx);
    expect(await h.prisma.session.count({ where: { tenantId: t.tenantId } })).to.equal(0);
  });
});
