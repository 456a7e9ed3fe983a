import { expect } from "chai";
import { errorCode, getStack, type Stack } from "./stack.js";
import { provisionTenant } from "./support.js";

describe("identity rules and input errors through the edge", () => {
  let s: Stack;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  const field = (res: Awaited<ReturnType<Stack["gql"]>>) => res.body.errors?.[0]?.extensions?.field;

  it("refuses a bad email naming the field", async () => {
    const res = await s.as(
      s.a.users.admin,
      'mutation($a: ID!) { inviteUser(input: { accountId: $a, email: "not-an-email", role: VIEWER }) { code } }',
      { a: s.a.accountId },
    );
    expect(errorCode(res)).to.equal("BAD_USER_INPUT");
    expect(field(res)).to.equal("email");
  });

  it("refuses an empty name naming the field", async () => {
    const res = await s.as(s.a.users.admin, 'mutation { createAccount(input: { name: "   " }) { id } }');
    expect(errorCode(res)).to.equal("BAD_USER_INPUT");
    expect(field(res)).to.equal("name");
  });

  it("refuses a control character in a name naming the field, and creates nothing", async () => {
    const res = await s.as(s.a.users.admin, "mutation($n: String!) { createAccount(input: { name: $n }) { id } }", { n: "a\u0000b" });
    expect(errorCode(res)).to.equal("BAD_USER_INPUT");
    expect(field(res)).to.equal("name");
  });

  it("refuses an unknown enum value naming the field, in a literal and in a variable", async () => {
    const literal = await s.as(
      s.a.users.admin,
      'mutation($a: ID!) { inviteUser(input: { accountId: $a, email: "e@x.test", role: EMPEROR }) { code } }',
      { a: s.a.accountId },
    );
    expect(errorCode(literal)).to.equal("BAD_USER_INPUT");
    expect(field(literal)).to.equal("role");
    const variable = await s.as(s.a.users.admin, "mutation($id: ID!, $r: Role) { updateUser(id: $id, input: { role: $r }) { id } }", {
      id: s.a.users.viewer.id,
      r: "EMPEROR",
    });
    expect(errorCode(variable), JSON.stringify(variable.body)).to.equal("BAD_USER_INPUT");
    expect(field(variable), "the argument the variable feeds, not the variable").to.equal("role");
  });

  it("names the id argument when an id is malformed", async () => {
    const res = await s.as(s.a.users.viewer, '{ account(id: "not-a-uuid") { id } }');
    expect(errorCode(res)).to.equal("BAD_USER_INPUT");
    expect(field(res)).to.equal("id");
    const nested = await s.as(
      s.a.users.admin,
      'mutation { inviteUser(input: { accountId: "nope", email: "n@x.test", role: VIEWER }) { code } }',
    );
    expect(field(nested)).to.equal("accountId");
  });

  it("refuses an unknown API key scope naming the field", async () => {
    const res = await s.as(s.a.users.admin, 'mutation { createApiKey(input: { name: "k", scopes: ["root:everything"] }) { secret } }');
    expect(errorCode(res)).to.equal("BAD_USER_INPUT");
    expect(field(res)).to.equal("scopes");
  });

  it("refuses to delete a protected tenant, then a wrong confirmation", async () => {
    const res = await s.as(s.a.users.owner, "mutation($c: String!) { deleteTenant(confirmation: $c) { id } }", { c: s.a.slug });
    expect(errorCode(res)).to.equal("FAILED_PRECONDITION");
    const live = await s.pg.query("select deleted_at from identity.tenants where id = $1", [s.a.id]);
    expect(live.rows[0].deleted_at).to.equal(null);
  });

  it("refuses to delete an account with users unless cascading", async () => {
    const created = await s.as(s.a.users.admin, 'mutation { createAccount(input: { name: "Side" }) { id } }');
    const accountId = (created.body.data as { createAccount: { id: string } }).createAccount.id;
    await s.join(s.a.users.admin, accountId, "side@x.test", "ANALYST");
    const refused = await s.as(s.a.users.admin, "mutation($id: ID!) { deleteAccount(id: $id) { deletedUsers } }", { id: accountId });
    expect(errorCode(refused)).to.equal("FAILED_PRECONDITION");
    expect((await s.pg.query("select count(*)::int n from identity.users where account_id = $1", [accountId])).rows[0].n).to.equal(1);
    const cascaded = await s.as(s.a.users.admin, "mutation($id: ID!) { deleteAccount(id: $id, cascade: true) { deletedUsers } }", { id: accountId });
    expect(cascaded.body.data).to.deep.equal({ deleteAccount: { deletedUsers: 1 } });
  });

  it("deletes an unprotected tenant with its slug as confirmation; its users are refused at once", async () => {
    const slug = `doomed-${Date.now()}`;
    const { owner } = await provisionTenant(s.identity, s.issuerUrl, slug);
    const off = await s.as(owner, "mutation { updateTenant(input: { deletionProtection: false }) { deletionProtection } }");
    expect(off.body.data).to.deep.equal({ updateTenant: { deletionProtection: false } });
    const wrong = await s.as(owner, 'mutation { deleteTenant(confirmation: "nope") { id } }');
    expect(errorCode(wrong)).to.equal("BAD_USER_INPUT");
    expect(field(wrong)).to.equal("confirmation");
    const ok = await s.as(owner, "mutation($c: String!) { deleteTenant(confirmation: $c) { deletedAt purgeAt } }", { c: slug });
    expect(ok.body.errors).to.equal(undefined);
    expect((await s.as(owner, "{ me { kind } }")).status).to.equal(401);
  });
});
