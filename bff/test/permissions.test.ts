import { expect } from "chai";
import { errorCode, getStack, type Stack } from "./stack.js";

describe("role permissions at the edge", () => {
  let s: Stack;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  it("refuses a viewer's mutation with FORBIDDEN and changes nothing", async () => {
    const before = await s.pg.query("select count(*)::int as n from identity.accounts where tenant_id = $1", [s.a.id]);
    const res = await s.as(s.a.users.viewer, 'mutation { createAccount(input: { name: "Nope" }) { id } }');
    expect(errorCode(res)).to.equal("FORBIDDEN");
    const after = await s.pg.query("select count(*)::int as n from identity.accounts where tenant_id = $1", [s.a.id]);
    expect(after.rows[0].n).to.equal(before.rows[0].n);
  });

  it("lets a viewer read", async () => {
    const res = await s.as(s.a.users.viewer, "{ accounts { nodes { name userCount } } users { nodes { email role account { name } } } }");
    expect(res.body.errors).to.equal(undefined);
    expect((res.body.data as { users: { nodes: unknown[] } }).users.nodes).to.have.length.greaterThan(3);
  });

  it("refuses an analyst's API key management and an admin's tenant deletion", async () => {
    expect(errorCode(await s.as(s.a.users.analyst, 'mutation { createApiKey(input: { name: "k", scopes: ["identity:read"] }) { secret } }'))).to.equal("FORBIDDEN");
    expect(errorCode(await s.as(s.a.users.admin, 'mutation { deleteTenant(confirmation: "x") { id } }'))).to.equal("FORBIDDEN");
  });

  it("only lets an owner grant the owner role", async () => {
    const q = "mutation($id: ID!) { updateUser(id: $id, input: { role: OWNER }) { role } }";
    expect(errorCode(await s.as(s.a.users.admin, q, { id: s.a.users.analyst.id }))).to.equal("FORBIDDEN");
  });

  it("only lets an owner cascade-delete an account that holds an owner", async () => {
    const res = await s.as(s.a.users.admin, "mutation($id: ID!) { deleteAccount(id: $id, cascade: true) { deletedUsers } }", { id: s.a.accountId });
    expect(errorCode(res)).to.equal("FORBIDDEN");
    const n = await s.pg.query("select count(*)::int as n from identity.users where account_id = $1", [s.a.accountId]);
    expect(n.rows[0].n).to.be.greaterThan(3);
  });

  it("shows a non-admin only their own sessions", async () => {
    await s.as(s.a.users.analyst, "{ me { kind } }");
    const own = await s.as(s.a.users.analyst, "{ sessions { nodes { user { id } current } } }");
    const nodes = (own.body.data as { sessions: { nodes: Array<{ user: { id: string } }> } }).sessions.nodes;
    expect(nodes.length).to.be.greaterThan(0);
    for (const n of nodes) expect(n.user.id).to.equal(s.a.users.analyst.id);
    const other = await s.as(s.a.users.analyst, "query($u: ID) { sessions(userId: $u) { nodes { id } } }", { u: s.a.users.owner.id });
    expect(errorCode(other)).to.equal("FORBIDDEN");
  });
});
