import { expect } from "chai";
import { errorCode, getStack, type Stack } from "./stack.js";

/**
 * Every identity query and mutation, run by tenant A's owner with ids that
 * belong to tenant B, answers NOT_FOUND and leaves B's rows as they were.
 */
describe("tenant isolation through the edge", () => {
  let s: Stack;
  let bSessionId: string;
  let bKeyId: string;
  let snapshot: string;

  const snapshotB = async () => {
    const q = async (sql: string) => JSON.stringify((await s.pg.query(sql, [s.b.id])).rows);
    return [
      await q("select id, name, slug, deletion_protection, deleted_at from identity.tenants where id = $1"),
      await q("select id, name, updated_at from identity.accounts where tenant_id = $1 order by id"),
      await q("select id, email, display_name, role, updated_at from identity.users where tenant_id = $1 order by id"),
      await q("select id, revoked_at from identity.sessions where tenant_id = $1 order by id"),
      await q("select id, name, revoked_at from identity.api_keys where tenant_id = $1 order by id"),
    ].join("\n");
  };

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    // Give B a session and an API key to aim at.
    await s.as(s.b.users.viewer, "{ me { kind } }");
    bSessionId = (await s.pg.query("select id from identity.sessions where tenant_id = $1 limit 1", [s.b.id])).rows[0].id;
    const key = await s.as(s.b.users.owner, 'mutation { createApiKey(input: { name: "b-key", scopes: ["identity:read"] }) { apiKey { id } } }');
    bKeyId = (key.body.data as { createApiKey: { apiKey: { id: string } } }).createApiKey.apiKey.id;
    snapshot = await snapshotB();
  });

  const cases: Array<[string, () => { query: string; variables: Record<string, unknown> }]> = [
    ["account", () => ({ query: "query($id: ID!) { account(id: $id) { id } }", variables: { id: s.b.accountId } })],
    ["user", () => ({ query: "query($id: ID!) { user(id: $id) { id } }", variables: { id: s.b.users.viewer.id } })],
    ["users of an account", () => ({ query: "query($a: ID) { users(accountId: $a) { nodes { id } } }", variables: { a: s.b.accountId } })],
    ["sessions of a user", () => ({ query: "query($u: ID) { sessions(userId: $u) { nodes { id } } }", variables: { u: s.b.users.viewer.id } })],
    ["apiKey", () => ({ query: "query($id: ID!) { apiKey(id: $id) { id } }", variables: { id: bKeyId } })],
    ["updateAccount", () => ({ query: 'mutation($id: ID!) { updateAccount(id: $id, input: { name: "x" }) { id } }', variables: { id: s.b.accountId } })],
    ["deleteAccount", () => ({ query: "mutation($id: ID!) { deleteAccount(id: $id, cascade: true) { deletedUsers } }", variables: { id: s.b.accountId } })],
    [
      "inviteUser into another tenant's account",
      () => ({
        query: 'mutation($a: ID!) { inviteUser(input: { accountId: $a, email: "x@x.test", role: VIEWER }) { code } }',
        variables: { a: s.b.accountId },
      }),
    ],
    ["updateUser", () => ({ query: 'mutation($id: ID!) { updateUser(id: $id, input: { displayName: "x" }) { id } }', variables: { id: s.b.users.viewer.id } })],
    ["updateUser role", () => ({ query: "mutation($id: ID!) { updateUser(id: $id, input: { role: ADMIN }) { id } }", variables: { id: s.b.users.viewer.id } })],
    ["deleteUser", () => ({ query: "mutation($id: ID!) { deleteUser(id: $id) }", variables: { id: s.b.users.viewer.id } })],
    ["revokeSession", () => ({ query: "mutation($id: ID!) { revokeSession(id: $id) { id } }", variables: { id: bSessionId } })],
    ["rotateApiKey", () => ({ query: "mutation($id: ID!) { rotateApiKey(id: $id) { secret } }", variables: { id: bKeyId } })],
    ["revokeApiKey", () => ({ query: "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", variables: { id: bKeyId } })],
  ];

  for (const [name, make] of cases) {
    it(`${name} with tenant B's id answers NOT_FOUND`, async () => {
      const { query, variables } = make();
      const res = await s.as(s.a.users.owner, query, variables);
      expect(errorCode(res), JSON.stringify(res.body)).to.equal("NOT_FOUND");
    });
  }

  it("answers NOT_FOUND to a non-admin too, for the queries and mutations it may run", async () => {
    const viewer = s.a.users.viewer;
    for (const [query, variables] of [
      ["query($id: ID!) { account(id: $id) { id } }", { id: s.b.accountId }],
      ["query($id: ID!) { user(id: $id) { id } }", { id: s.b.users.owner.id }],
      ["query($u: ID) { sessions(userId: $u) { nodes { id } } }", { u: s.b.users.viewer.id }],
      ["mutation($id: ID!) { revokeSession(id: $id) { id } }", { id: bSessionId }],
    ] as const) {
      const res = await s.as(viewer, query, variables);
      expect(errorCode(res), `${query} ${JSON.stringify(res.body)}`).to.equal("NOT_FOUND");
    }
  });

  it("tenant-level queries and mutations only ever see the caller's tenant", async () => {
    const res = await s.as(s.a.users.owner, "{ tenant { id } accounts { nodes { id } } users { nodes { id } } apiKeys { nodes { id } } sessions { nodes { id } } }");
    expect(res.body.errors).to.equal(undefined);
    const data = res.body.data as Record<string, { nodes?: Array<{ id: string }>; id?: string }>;
    expect(data.tenant!.id).to.equal(s.a.id);
    const bIds = new Set([s.b.accountId, ...Object.values(s.b.users).map((u) => u.id), bKeyId, bSessionId]);
    for (const key of ["accounts", "users", "apiKeys", "sessions"]) for (const n of data[key]!.nodes!) expect(bIds.has(n.id)).to.equal(false);
    const del = await s.as(s.a.users.owner, "mutation($c: String!) { deleteTenant(confirmation: $c) { id } }", { c: s.b.slug });
    expect(errorCode(del)).to.not.equal(undefined);
  });

  it("left every row of tenant B unchanged", async () => {
    expect(await snapshotB()).to.equal(snapshot);
  });
});
