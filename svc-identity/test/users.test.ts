import { status } from "@grpc/grpc-js";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { expect } from "chai";
import { expectError, startHarness, type Harness, type Provisioned } from "./harness.js";

describe("UserService", function () {
  let h: Harness;
  before(async () => {
    h = await startHarness("users");
  });
  after(async () => h?.stop());

  let seq = 0;
  const newUser = (accountId: string, role = Role.ROLE_ANALYST) => {
    const n = ++seq;
    return { accountId, email: `User${n}@Example.COM`, displayName: ` User ${n} `, role, oidcIssuer: "https://issuer.test", oidcSubject: `usr-${n}` };
  };
  const create = async (t: Provisioned, role = Role.ROLE_ANALYST) => (await h.users.createUser(newUser(t.accountId, role), t.ctx)).user?.id ?? "";

  it("creates, gets, lists, updates and deletes users", async () => {
    const t = await h.provision();
    const input = newUser(t.accountId);
    const { user } = await h.users.createUser(input, t.ctx);
    expect(user).to.include({
      tenantId: t.tenantId,
      accountId: t.accountId,
      email: input.email.toLowerCase(),
      displayName: input.displayName.trim(),
      role: Role.ROLE_ANALYST,
      oidcIssuer: input.oidcIssuer,
      oidcSubject: input.oidcSubject,
    });
    const id = user?.id ?? "";
    expect((await h.users.getUser({ userId: id }, t.ctx)).user?.email).to.equal(input.email.toLowerCase());

    const { account } = await h.accounts.createAccount({ name: "Other" }, t.ctx);
    await h.users.createUser(newUser(account?.id ?? ""), t.ctx);
    const all = await h.users.listUsers({ page: undefined, accountId: "" }, t.ctx);
    expect(all.users).to.have.length(3);
    const inMain = await h.users.listUsers({ page: undefined, accountId: t.accountId }, t.ctx);
    expect(inMain.users.map((u) => u.id)).to.deep.equal([t.ownerId, id]);

    const updated = await h.users.updateUser({ userId: id, displayName: "Renamed", role: Role.ROLE_ADMIN }, t.ctx);
    expect(updated.user).to.include({ displayName: "Renamed", role: Role.ROLE_ADMIN });
    await h.users.deleteUser({ userId: id }, t.ctx);
    await expectError(h.users.getUser({ userId: id }, t.ctx), status.NOT_FOUND);
  });

  it("refuses bad input naming the field", async () => {
    const t = await h.provision();
    await expectError(h.users.createUser({ ...newUser(t.accountId), email: "not-an-email" }, t.ctx), status.INVALID_ARGUMENT, "email");
    await expectError(h.users.createUser({ ...newUser(t.accountId), displayName: " " }, t.ctx), status.INVALID_ARGUMENT, "display_name");
    await expectError(h.users.createUser({ ...newUser(t.accountId), role: Role.ROLE_UNSPECIFIED }, t.ctx), status.INVALID_ARGUMENT, "role");
    await expectError(h.users.createUser({ ...newUser(t.accountId), oidcSubject: "" }, t.ctx), status.INVALID_ARGUMENT, "oidc_subject");
    await expectError(h.users.createUser({ ...newUser("nope"), role: Role.ROLE_VIEWER }, t.ctx), status.INVALID_ARGUMENT, "account_id");
    await expectError(h.users.getUser({ userId: "xyz" }, t.ctx), status.INVALID_ARGUMENT, "user_id");
    await expectError(h.users.updateUser({ userId: t.ownerId, role: Role.ROLE_UNSPECIFIED }, t.ctx), status.INVALID_ARGUMENT, "role");
    await expectError(h.users.listUsers({ page: undefined, accountId: "zzz" }, t.ctx), status.INVALID_ARGUMENT, "account_id");
  });

  it("refuses a duplicate email or OIDC identity within the tenant, and allows the identity in another tenant", async () => {
    const a = await h.provision();
    const b = await h.provision();
    const first = newUser(a.accountId);
    await h.users.createUser(first, a.ctx);
    await expectError(h.users.createUser({ ...newUser(a.accountId), email: first.email.toUpperCase() }, a.ctx), status.ALREADY_EXISTS, "email");
    await expectError(h.users.createUser({ ...newUser(a.accountId), oidcSubject: first.oidcSubject }, a.ctx), status.ALREADY_EXISTS, "oidc_subject");
    // The same email, and the same identity, in another tenant are fine: nothing there depends on tenant A.
    await h.users.createUser({ ...newUser(b.accountId), email: first.email, oidcSubject: first.oidcSubject }, b.ctx);
    await expectError(h.users.createUser({ ...newUser(a.accountId), oidcIssuer: "javascript:alert(1)" }, a.ctx), status.INVALID_ARGUMENT, "oidc_issuer");
  });

  it("treats another tenant's users and accounts as not found and changes nothing", async () => {
    const a = await h.provision();
    const b = await h.provision();
    const victim = await create(b, Role.ROLE_OWNER);
    await expectError(h.users.getUser({ userId: victim }, a.ctx), status.NOT_FOUND);
    await expectError(h.users.updateUser({ userId: victim, displayName: "Pwned", role: Role.ROLE_VIEWER }, a.ctx), status.NOT_FOUND);
    await expectError(h.users.deleteUser({ userId: victim }, a.ctx), status.NOT_FOUND);
    await expectError(h.users.createUser(newUser(b.accountId), a.ctx), status.NOT_FOUND);
    await expectError(h.users.listUsers({ page: undefined, accountId: b.accountId }, a.ctx), status.NOT_FOUND);
    const stored = await h.prisma.user.findUniqueOrThrow({ where: { id: victim } });
    expect(stored).to.include({ role: "owner", displayName: stored.displayName });
    expect(stored.displayName).to.not.equal("Pwned");
    expect(await h.prisma.user.count({ where: { tenantId: b.tenantId } })).to.equal(2);
  });

  it("keeps at least one owner: the last one can be neither demoted nor deleted", async () => {
    const t = await h.provision();
    const demote = await expectError(h.users.updateUser({ userId: t.ownerId, role: Role.ROLE_ADMIN }, t.ctx), status.FAILED_PRECONDITION);
    expect(demote.details).to.match(/last owner/);
    await expectError(h.users.deleteUser({ userId: t.ownerId }, t.ctx), status.FAILED_PRECONDITION);
    expect((await h.prisma.user.findUniqueOrThrow({ where: { id: t.ownerId } })).role).to.equal("owner");

    // Renaming the last owner is fine.
    await h.users.updateUser({ userId: t.ownerId, displayName: "Still owner" }, t.ctx);
    const second = await create(t, Role.ROLE_OWNER);
    await h.users.updateUser({ userId: t.ownerId, role: Role.ROLE_VIEWER }, t.ctx);
    await expectError(h.users.deleteUser({ userId: second }, t.ctx), status.FAILED_PRECONDITION);
    await h.users.updateUser({ userId: t.ownerId, role: Role.ROLE_OWNER }, t.ctx);
    await h.users.deleteUser({ userId: second }, t.ctx);
  });

  it("holds the last-owner rule when two owners are demoted at once", async () => {
    const t = await h.provision();
    const second = await create(t, Role.ROLE_OWNER);
    const results = await Promise.allSettled([
      h.users.updateUser({ userId: t.ownerId, role: Role.ROLE_VIEWER }, t.ctx),
      h.users.updateUser({ userId: second, role: Role.ROLE_VIEWER }, t.ctx),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).to.have.length(1);
    expect(await h.prisma.user.count({ where: { tenantId: t.tenantId, role: "owner" } })).to.equal(1);
  });

  it("pages through users", async () => {
    const t = await h.provision();
    for (let i = 0; i < 4; i++) await create(t);
    const first = await h.users.listUsers({ page: { pageSize: 2, pageToken: "" }, accountId: "" }, t.ctx);
    const second = await h.users.listUsers({ page: { pageSize: 2, pageToken: first.page?.nextPageToken ?? "" }, accountId: "" }, t.ctx);
    const third = await h.users.listUsers({ page: { pageSize: 2, pageToken: second.page?.nextPageToken ?? "" }, accountId: "" }, t.ctx);
    const ids = [...first.users, ...second.users, ...third.users].map((u) => u.id);
    expect(new Set(ids).size).to.equal(5);
    expect(third.page?.nextPageToken).to.equal("");
  });
});
