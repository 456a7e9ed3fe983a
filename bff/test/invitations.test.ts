import { randomBytes } from "node:crypto";
import { expect } from "chai";
import { dataOf as data, errorCode, getStack, type GqlResponse, type Stack } from "./stack.js";

const INVITE = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { code invitation { id email role state sendCount } } }";
const ACCEPT = "mutation($id: ID, $c: String) { acceptInvitation(id: $id, code: $c) { userId role tenant { id slug } } }";
const MY_INVITATIONS = "{ myInvitations { id tenantSlug email role } }";

type Invited = { code: string; invitation: { id: string; email: string; role: string; state: string; sendCount: number } };
const field = (res: GqlResponse) => res.body.errors?.[0]?.extensions?.field;

describe("invitations through the edge", () => {
  let s: Stack;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  const fresh = (label: string) => `${label}-${randomBytes(4).toString("hex")}@invitee.test`;
  const invite = async (email: string, role = "ANALYST") =>
    data<Invited>(await s.as(s.a.users.admin, INVITE, { i: { accountId: s.a.accountId, email, role } }), "inviteUser");
  const userRows = (email: string) => s.pg.query("select id, oidc_subject from identity.users where email = $1", [email]);

  it("links the invitee who signs in with the matching verified email, and lists the invitation for them only", async () => {
    const email = fresh("match");
    const { invitation } = await invite(email, "VIEWER");
    expect(invitation).to.include({ email, role: "VIEWER", state: "PENDING", sendCount: 1 });
    const invitee = s.token(`sub-${email}`, { email });
    // Not a member anywhere yet: the identity's own operations work, nothing else does.
    expect((await s.gql("{ me { kind } }", {}, { token: invitee })).status).to.equal(401);
    const mine = data<Array<{ id: string; tenantSlug: string }>>(await s.gql(MY_INVITATIONS, {}, { token: invitee }), "myInvitations");
    expect(mine).to.deep.equal([{ id: invitation.id, tenantSlug: s.a.slug, email, role: "VIEWER" }]);
    expect(data(await s.gql(MY_INVITATIONS, {}, { token: s.token(`someone-${email}`, { email: fresh("other") }) }), "myInvitations")).to.deep.equal([]);

    const accepted = data<{ userId: string; role: string; tenant: { id: string } }>(await s.gql(ACCEPT, { id: invitation.id }, { token: invitee }), "acceptInvitation");
    expect(accepted).to.deep.include({ role: "VIEWER", tenant: { id: s.a.id, slug: s.a.slug } });
    const me = await s.gql("{ me { user { id email role oidcSubject } tenant { id } } }", {}, { token: invitee });
    expect(me.body.data).to.deep.equal({ me: { user: { id: accepted.userId, email, role: "VIEWER", oidcSubject: `sub-${email}` }, tenant: { id: s.a.id } } });
    const listed = data<{ nodes: Array<{ id: string; state: string; acceptedUserId: string }> }>(
      await s.as(s.a.users.admin, "{ invitations(includeClosed: true, first: 200) { nodes { id state acceptedUserId } } }"),
      "invitations",
    );
    expect(listed.nodes.find((n) => n.id === invitation.id)).to.deep.equal({ id: invitation.id, state: "ACCEPTED", acceptedUserId: accepted.userId });
  });

  it("refuses a mismatched or unverified email, and links nobody", async () => {
    const email = fresh("mismatch");
    const { invitation } = await invite(email);
    const other = await s.gql(ACCEPT, { id: invitation.id }, { token: s.token(`x-${email}`, { email: fresh("wrong") }) });
    expect(errorCode(other)).to.equal("NOT_FOUND");
    const unverified = await s.gql(ACCEPT, { id: invitation.id }, { token: s.token(`y-${email}`, { email, claims: { email_verified: false } }) });
    expect(errorCode(unverified)).to.equal("NOT_FOUND");
    const neither = await s.gql(ACCEPT, {}, { token: s.token(`z-${email}`, { email }) });
    expect(errorCode(neither)).to.equal("BAD_USER_INPUT");
    expect(field(neither)).to.equal("id");
    expect((await userRows(email)).rowCount).to.equal(0);
  });

  it("accepts the newest code from any identity, once; refuses an old, forged, expired or revoked one", async () => {
    const email = fresh("code");
    const first = await invite(email);
    const resent = data<Invited>(await s.as(s.a.users.admin, "mutation($id: ID!) { resendInvitation(id: $id) { code invitation { sendCount } } }", { id: first.invitation.id }), "resendInvitation");
    expect(resent.invitation.sendCount).to.equal(2);
    const stranger = s.token(`code-${email}`, { email: fresh("any") });
    expect(errorCode(await s.gql(ACCEPT, { c: first.code }, { token: stranger }))).to.equal("NOT_FOUND");
    // The last character changed for certain (a code ending in "x" would otherwise be forged into itself, 1 run in 62).
    const forged = `${resent.code.slice(0, -1)}${resent.code.endsWith("x") ? "y" : "x"}`;
    expect(errorCode(await s.gql(ACCEPT, { c: forged }, { token: stranger }))).to.equal("NOT_FOUND");
    const ok = data<{ userId: string }>(await s.gql(ACCEPT, { c: resent.code }, { token: stranger }), "acceptInvitation");
    expect((await userRows(email)).rows).to.deep.equal([{ id: ok.userId, oidc_subject: `code-${email}` }]);
    expect(errorCode(await s.gql(ACCEPT, { c: resent.code }, { token: s.token(fresh("late")) }))).to.equal("FAILED_PRECONDITION");

    const expiredEmail = fresh("expired");
    const expired = await invite(expiredEmail);
    await s.pg.query("update identity.invitations set expires_at = now() - interval '1 second' where id = $1", [expired.invitation.id]);
    const late = await s.gql(ACCEPT, { id: expired.invitation.id }, { token: s.token(`e-${expiredEmail}`, { email: expiredEmail }) });
    expect(errorCode(late)).to.equal("FAILED_PRECONDITION");

    const revokedEmail = fresh("revoked");
    const revoked = await invite(revokedEmail);
    const rev = await s.as(s.a.users.admin, "mutation($id: ID!) { revokeInvitation(id: $id) { state revokedAt } }", { id: revoked.invitation.id });
    expect(data<{ state: string }>(rev, "revokeInvitation").state).to.equal("REVOKED");
    expect(errorCode(await s.gql(ACCEPT, { c: revoked.code }, { token: s.token(`r-${revokedEmail}`, { email: revokedEmail }) }))).to.equal("FAILED_PRECONDITION");
    expect((await userRows(expiredEmail)).rowCount).to.equal(0);
    expect((await userRows(revokedEmail)).rowCount).to.equal(0);
  });

  it("lets only owners and admins invite, and only owners invite an owner", async () => {
    expect(errorCode(await s.as(s.a.users.analyst, INVITE, { i: { accountId: s.a.accountId, email: fresh("n"), role: "VIEWER" } }))).to.equal("FORBIDDEN");
    expect(errorCode(await s.as(s.a.users.admin, INVITE, { i: { accountId: s.a.accountId, email: fresh("n"), role: "OWNER" } }))).to.equal("FORBIDDEN");
    expect((await s.as(s.a.users.owner, INVITE, { i: { accountId: s.a.accountId, email: fresh("n"), role: "OWNER" } })).body.errors).to.equal(undefined);
    expect(errorCode(await s.as(s.a.users.viewer, "{ invitations { nodes { id } } }"))).to.equal("FORBIDDEN");
  });

  it("lets no person link an identity directly: createUser is only for a provisioning key and a trusted issuer", async () => {
    const createUser = "mutation($i: CreateUserInput!) { createUser(input: $i) { id oidcSubject } }";
    const input = (over: Record<string, unknown> = {}) => ({ accountId: s.a.accountId, email: fresh("prov"), displayName: "P", role: "VIEWER", oidcSubject: `prov-${randomBytes(3).toString("hex")}`, ...over });
    const byOwner = await s.as(s.a.users.owner, createUser, { i: input() });
    expect(errorCode(byOwner)).to.equal("FORBIDDEN");
    const keyOf = async (scopes: string[]) =>
      data<{ secret: string }>(await s.as(s.a.users.owner, "mutation($s: [String!]!) { createApiKey(input: { name: \"p\", scopes: $s }) { secret } }", { s: scopes }), "createApiKey").secret;
    const writer = await keyOf(["identity:write"]);
    expect(errorCode(await s.gql(createUser, { i: input() }, { apiKey: writer }))).to.equal("FORBIDDEN");
    const provisioner = await keyOf(["identity:provision"]);
    const untrusted = await s.gql(createUser, { i: input({ oidcIssuer: "https://evil.example" }) }, { apiKey: provisioner });
    expect(errorCode(untrusted)).to.equal("BAD_USER_INPUT");
    expect(field(untrusted)).to.equal("oidcIssuer");
    const script = await s.gql(createUser, { i: input({ oidcIssuer: "javascript:alert(1)" }) }, { apiKey: provisioner });
    expect(errorCode(script)).to.equal("BAD_USER_INPUT");
    const ok = await s.gql(createUser, { i: input() }, { apiKey: provisioner });
    expect(ok.body.errors, JSON.stringify(ok.body.errors)).to.equal(undefined);
    // A subject that is a user of tenant B is no conflict in A: B is neither consulted nor revealed.
    const crossTenant = await s.gql(createUser, { i: input({ oidcSubject: s.b.users.admin.subject }) }, { apiKey: provisioner });
    expect(crossTenant.body.errors, JSON.stringify(crossTenant.body.errors)).to.equal(undefined);
    expect((await s.as(s.b.users.admin, "{ me { tenant { id } } }")).body.data).to.deep.equal({ me: { tenant: { id: s.b.id } } });
    // The provisioning key may not invite, manage keys or do anything a person does.
    expect(errorCode(await s.gql(INVITE, { i: { accountId: s.a.accountId, email: fresh("k"), role: "VIEWER" } }, { apiKey: provisioner }))).to.equal("FORBIDDEN");
  });

  it("reveals nothing about identities of another tenant", async () => {
    const b = s.b.users.viewer;
    const before = await s.pg.query("select id, email, oidc_subject, tenant_id, role from identity.users where tenant_id = $1 order by id", [s.b.id]);
    // Inviting B's member's email into A is an ordinary invitation: no conflict, no hint.
    const inv = await invite(b.email);
    expect(inv.invitation.state).to.equal("PENDING");
    // B's member may accept it: their identity now belongs to both tenants, each under its own user.
    const token = s.token(b.subject);
    const joined = data<{ tenant: { id: string } }>(await s.gql(ACCEPT, { id: inv.invitation.id }, { token }), "acceptInvitation");
    expect(joined.tenant.id).to.equal(s.a.id);
    const memberships = data<Array<{ tenant: { id: string } }>>(await s.gql("{ memberships { tenant { id } } }", {}, { token }), "memberships");
    expect(memberships.map((m) => m.tenant.id).sort()).to.deep.equal([s.a.id, s.b.id].sort());
    // A's admins see only A's user; nothing of tenant B changed.
    const aUsers = data<{ nodes: Array<{ email: string }> }>(await s.as(s.a.users.admin, "{ users(first: 200) { nodes { email } } }"), "users");
    expect(aUsers.nodes.filter((u) => u.email === b.email)).to.have.length(1);
    const after = await s.pg.query("select id, email, oidc_subject, tenant_id, role from identity.users where tenant_id = $1 order by id", [s.b.id]);
    expect(after.rows).to.deep.equal(before.rows);
    // An API key has no identity of its own.
    const key = data<{ secret: string }>(await s.as(s.a.users.owner, 'mutation { createApiKey(input: { name: "m", scopes: ["identity:read"] }) { secret } }'), "createApiKey").secret;
    expect(errorCode(await s.gql("{ memberships { role } }", {}, { apiKey: key }))).to.equal("FORBIDDEN");
  });
});
