import { TenantReader } from "@apgms/common";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { expect } from "chai";
import { APP_ROLE } from "../src/db/client.js";
import { accountRow, accountRows, liveTenantRow, userPage, userRow, userRows, type TenantQuery } from "../src/db/hot-reads.js";
import { startHarness, type Harness, type Provisioned } from "./harness.js";

// The raw-SQL reads return timestamps as epoch milliseconds and build the Dates
// themselves: they must give exactly the rows Prisma gives.
describe("hot reads (raw SQL through TenantReader)", function () {
  let h: Harness;
  let reader: TenantReader;
  let t: Provisioned;
  let q: TenantQuery;
  let userId: string;
  before(async () => {
    h = await startHarness("hotreads");
    reader = new TenantReader({ databaseUrl: h.db.urlAs(APP_ROLE), max: 2 });
    t = await h.provision();
    q = (text, values) => reader.query(t.tenantId, text, values);
    const { user } = await h.users.createUser(
      { accountId: t.accountId, email: "times@example.com", displayName: "Times", role: Role.ROLE_VIEWER, oidcIssuer: "https://issuer.test", oidcSubject: "times" },
      t.ctx,
    );
    userId = user?.id ?? "";
    // Milliseconds set, and a time before 1970 (a negative epoch).
    await h.prisma.user.update({ where: { id: userId }, data: { createdAt: new Date("1969-12-31T23:59:59.999Z"), updatedAt: new Date("2026-11-25T08:48:52.123Z") } });
  });
  after(async () => {
    await reader?.close();
    await h?.stop();
  });

  it("reads a user, one or many, as Prisma does, times to the millisecond", async () => {
    const expected = await h.prisma.user.findUniqueOrThrow({ where: { id: userId } });
    const one = await userRow(q, t.tenantId, userId);
    expect(one).to.deep.equal(expected);
    expect(one?.createdAt.getTime()).to.equal(-1);
    const many = await userRows(q, t.tenantId, [userId, t.ownerId]);
    expect(many.get(userId)).to.deep.equal(expected);
    expect(many.get(t.ownerId)).to.deep.equal(await h.prisma.user.findUniqueOrThrow({ where: { id: t.ownerId } }));
  });

  it("reads the live tenant and accounts as Prisma does", async () => {
    expect(await liveTenantRow(q, t.tenantId)).to.deep.equal(await h.prisma.tenant.findUniqueOrThrow({ where: { id: t.tenantId } }));
    const account = await h.prisma.account.findUniqueOrThrow({ where: { id: t.accountId } });
    const expected = { ...account, userCount: 2 };
    expect(await accountRow(q, t.tenantId, t.accountId)).to.deep.equal(expected);
    expect((await accountRows(q, t.tenantId, [t.accountId])).get(t.accountId)).to.deep.equal(expected);
  });

  it("pages in (createdAt, id) order, resuming after a cursor built from the read Dates", async () => {
    const all = await h.prisma.user.findMany({ where: { tenantId: t.tenantId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
    const first = await userPage(q, t.tenantId, { size: 1 });
    expect(first.users).to.deep.equal(all.slice(0, 1));
    expect(first.nextPageToken).to.not.equal(undefined);
    const rest = await userPage(q, t.tenantId, { size: 5, after: first.nextPageToken?.last });
    expect(rest.users).to.deep.equal(all.slice(1));
    expect(rest.nextPageToken).to.equal(undefined);
  });
});
