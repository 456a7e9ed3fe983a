import { status } from "@grpc/grpc-js";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { expect } from "chai";
import { expectError, startHarness, type Harness, type Provisioned } from "./harness.js";

describe("AccountService", function () {
  let h: Harness;
  before(async () => {
    h = await startHarness("accounts");
  });
  after(async () => h?.stop());

  let seq = 0;
  async function addUser(t: Provisioned, accountId: string, role = Role.ROLE_VIEWER) {
    const n = ++seq;
    const { user } = await h.users.createUser(
      { accountId, email: `u${n}@x.example`, displayName: `User ${n}`, role, oidcIssuer: "https://issuer.test", oidcSubject: `acc-${n}` },
      t.ctx,
    );
    return user?.id ?? "";
  }

  it("creates, gets, renames and lists accounts with their user counts", async () => {
    const t = await h.provision();
    const { account } = await h.accounts.createAccount({ name: " Sales " }, t.ctx);
    expect(account).to.include({ name: "Sales", tenantId: t.tenantId, userCount: 0 });
    const id = account?.id ?? "";
    await addUser(t, id);
    expect((await h.accounts.getAccount({ accountId: id }, t.ctx)).account?.userCount).to.equal(1);
    const renamed = await h.accounts.updateAccount({ accountId: id, name: "Sales EMEA" }, t.ctx);
    expect(renamed.account).to.include({ name: "Sales EMEA", userCount: 1 });
    const { accounts } = await h.accounts.listAccounts({ page: undefined }, t.ctx);
    expect(accounts.map((a) => [a.name, a.userCount])).to.deep.equal([
      ["Main", 1],
      ["Sales EMEA", 1],
    ]);
  });

  it("pages through more than one page in creation order", async () => {
    const t = await h.provision();
    for (let i = 0; i < 6; i++) await h.accounts.createAccount({ name: `A${i}` }, t.ctx);
    const seen: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const res = await h.accounts.listAccounts({ page: { pageSize: 3, pageToken } }, t.ctx);
      expect(res.accounts.length).to.be.at.most(3);
      seen.push(...res.accounts.map((a) => a.name));
      pageToken = res.page?.nextPageToken ?? "";
      pages++;
    } while (pageToken);
    expect(pages).to.equal(3);
    expect(seen).to.deep.equal(["Main", "A0", "A1", "A2", "A3", "A4", "A5"]);
  });

  it("refuses bad input naming the field", async () => {
    const t = await h.provision();
    await expectError(h.accounts.createAccount({ name: "  " }, t.ctx), status.INVALID_ARGUMENT, "name");
    await expectError(h.accounts.getAccount({ accountId: "123" }, t.ctx), status.INVALID_ARGUMENT, "account_id");
    await expectError(h.accounts.updateAccount({ accountId: t.accountId, name: "y".repeat(201) }, t.ctx), status.INVALID_ARGUMENT, "name");
    await expectError(h.accounts.listAccounts({ page: { pageSize: 10, pageToken: "garbage" } }, t.ctx), status.INVALID_ARGUMENT, "page.page_token");
    await expectError(h.accounts.listAccounts({ page: { pageSize: -1, pageToken: "" } }, t.ctx), status.INVALID_ARGUMENT, "page.page_size");
  });

  it("treats another tenant's account as not found and changes nothing", async () => {
    const a = await h.provision();
    const b = await h.provision();
    await expectError(h.accounts.getAccount({ accountId: b.accountId }, a.ctx), status.NOT_FOUND);
    await expectError(h.accounts.updateAccount({ accountId: b.accountId, name: "Mine now" }, a.ctx), status.NOT_FOUND);
    await expectError(h.accounts.deleteAccount({ accountId: b.accountId, cascade: true }, a.ctx), status.NOT_FOUND);
    const stored = await h.prisma.account.findUniqueOrThrow({ where: { id: b.accountId } });
    expect(stored.name).to.equal("Main");
    expect(await h.prisma.user.count({ where: { accountId: b.accountId } })).to.equal(1);
    const { accounts } = await h.accounts.listAccounts({ page: undefined }, a.ctx);
    expect(accounts.map((x) => x.id)).to.deep.equal([a.accountId]);
  });

  it("refuses to delete an account with users unless cascading, which ends their sessions", async () => {
    const t = await h.provision();
    const { account } = await h.accounts.createAccount({ name: "Doomed" }, t.ctx);
    const id = account?.id ?? "";
    const u1 = await addUser(t, id);
    await addUser(t, id, Role.ROLE_OWNER);
    await h.sessions.touchSession({ userId: u1, sessionKey: "sid-1", userAgent: "ua", ip: "10.0.0.1", expireTime: undefined }, t.ctx);

    const refused = await expectError(h.accounts.deleteAccount({ accountId: id, cascade: false }, t.ctx), status.FAILED_PRECONDITION);
    expect(refused.details).to.equal("account has 2 users; delete them or ask for the cascade");
    expect(await h.prisma.user.count({ where: { accountId: id } })).to.equal(2);

    const res = await h.accounts.deleteAccount({ accountId: id, cascade: true }, t.ctx);
    expect(res.deletedUsers).to.equal(2);
    expect(await h.prisma.account.count({ where: { id } })).to.equal(0);
    expect(await h.prisma.user.count({ where: { accountId: id } })).to.equal(0);
    expect(await h.prisma.session.count({ where: { userId: u1 } })).to.equal(0);
    await expectError(h.accounts.getAccount({ accountId: id }, t.ctx), status.NOT_FOUND);
  });

  it("deletes an empty account without cascade", async () => {
    const t = await h.provision();
    const { account } = await h.accounts.createAccount({ name: "Empty" }, t.ctx);
    expect((await h.accounts.deleteAccount({ accountId: account?.id ?? "", cascade: false }, t.ctx)).deletedUsers).to.equal(0);
  });

  it("refuses a cascade that would remove the tenant's last owner", async () => {
    const t = await h.provision();
    await addUser(t, t.accountId);
    const refused = await expectError(h.accounts.deleteAccount({ accountId: t.accountId, cascade: true }, t.ctx), status.FAILED_PRECONDITION);
    expect(refused.details).to.match(/last owner/);
    expect(await h.prisma.user.count({ where: { accountId: t.accountId } })).to.equal(2);
  });
});
