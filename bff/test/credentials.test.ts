import { expect } from "chai";
import { errorCode, getStack, type Stack } from "./stack.js";

const ME = "{ me { kind tenant { id } apiKey { name } scopes } }";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// The test stack trusts cached lookups for 1 s (AUTH_CACHE_SECONDS=1).
const CACHE_MS = 1_100;

describe("API keys and sessions through the edge", () => {
  let s: Stack;
  before(async function () {
    this.timeout(60_000);
    s = await getStack();
  });

  async function createKey(name: string, scopes = ["identity:read"]) {
    const res = await s.as(s.a.users.admin, "mutation($n: String!, $s: [String!]!) { createApiKey(input: { name: $n, scopes: $s }) { apiKey { id prefix } secret } }", {
      n: name,
      s: scopes,
    });
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return (res.body.data as { createApiKey: { apiKey: { id: string; prefix: string }; secret: string } }).createApiKey;
  }

  it("authenticates with an API key in either header, scoped to its tenant", async () => {
    const key = await createKey("reader");
    expect(key.secret.startsWith(key.apiKey.prefix)).to.equal(true);
    const viaHeader = await s.gql(ME, {}, { apiKey: key.secret });
    expect(viaHeader.body.data).to.deep.equal({ me: { kind: "API_KEY", tenant: { id: s.a.id }, apiKey: { name: "reader" }, scopes: ["identity:read"] } });
    expect(viaHeader.headers.get("x-apgms-tenant")).to.equal(s.a.id);
    const viaAuthorization = await s.gql(ME, {}, { headers: { authorization: `ApiKey ${key.secret}` } });
    expect(viaAuthorization.status).to.equal(200);
    const rows = await s.pg.query("select secret_hash from identity.api_key_secrets where prefix = $1", [key.apiKey.prefix]);
    expect(rows.rows[0].secret_hash).to.not.include(key.secret.slice(key.apiKey.prefix.length + 1));
  });

  it("refuses a read-only key's mutation with FORBIDDEN", async () => {
    const key = await createKey("ro");
    const res = await s.gql('mutation { createAccount(input: { name: "x" }) { id } }', {}, { apiKey: key.secret });
    expect(errorCode(res)).to.equal("FORBIDDEN");
  });

  it("keeps a rotated key's old secret working during the grace period, and not after", async () => {
    const key = await createKey("rotating");
    expect((await s.gql(ME, {}, { apiKey: key.secret })).status).to.equal(200);
    const rotated = await s.as(s.a.users.admin, "mutation($id: ID!) { rotateApiKey(id: $id, gracePeriodSeconds: 2) { secret apiKey { prefix rotations { oldPrefix newPrefix actor } } } }", {
      id: key.apiKey.id,
    });
    const r = (rotated.body.data as { rotateApiKey: { secret: string; apiKey: { prefix: string; rotations: Array<{ oldPrefix: string; newPrefix: string; actor: string }> } } }).rotateApiKey;
    expect(r.apiKey.rotations[0]).to.deep.include({ oldPrefix: key.apiKey.prefix, newPrefix: r.apiKey.prefix, actor: `user:${s.a.users.admin.id}` });
    expect((await s.gql(ME, {}, { apiKey: key.secret })).status, "old secret during grace").to.equal(200);
    expect((await s.gql(ME, {}, { apiKey: r.secret })).status, "new secret").to.equal(200);
    await sleep(2_000 + CACHE_MS);
    const old = await s.gql(ME, {}, { apiKey: key.secret });
    expect(old.status, "old secret after grace").to.equal(401);
    expect((await s.gql(ME, {}, { apiKey: r.secret })).status).to.equal(200);
  });

  it("refuses a revoked key at once", async () => {
    const key = await createKey("doomed");
    expect((await s.gql(ME, {}, { apiKey: key.secret })).status).to.equal(200);
    const res = await s.as(s.a.users.admin, "mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", { id: key.apiKey.id });
    expect(res.body.errors).to.equal(undefined);
    const after = await s.gql(ME, {}, { apiKey: key.secret });
    expect(after.status).to.equal(401);
    expect(after.headers.get("www-authenticate")).to.include('error="invalid_token"');
  });

  it("refuses a revoked key within seconds even when revoked behind the edge's back", async () => {
    const key = await createKey("doomed-direct");
    expect((await s.gql(ME, {}, { apiKey: key.secret })).status).to.equal(200);
    await s.identity.apiKeys.revokeApiKey(
      { apiKeyId: key.apiKey.id },
      { context: { requestId: "t", tenantId: s.a.id, principal: { kind: "service", id: "test" } } },
    );
    await sleep(CACHE_MS);
    expect((await s.gql(ME, {}, { apiKey: key.secret })).status).to.equal(401);
  });

  it("refuses an unknown or malformed key", async () => {
    expect((await s.gql(ME, {}, { apiKey: "apgms_AAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB" })).status).to.equal(401);
    expect((await s.gql(ME, {}, { apiKey: "garbage" })).status).to.equal(401);
  });

  it("refuses a revoked session's tokens", async () => {
    const sid = `revoke-me-${Date.now()}`;
    const token = s.token(s.a.users.analyst.subject, { sid });
    expect((await s.gql(ME, {}, { token })).status).to.equal(200);
    const list = await s.as(s.a.users.admin, "query($u: ID) { sessions(userId: $u) { nodes { id revokedAt } } }", { u: s.a.users.analyst.id });
    const { rows } = await s.pg.query("select id from identity.sessions where session_key = $1", [sid]);
    const sessionId: string = rows[0].id;
    expect((list.body.data as { sessions: { nodes: Array<{ id: string }> } }).sessions.nodes.map((n) => n.id)).to.include(sessionId);
    const revoked = await s.as(s.a.users.admin, "mutation($id: ID!) { revokeSession(id: $id) { revokedAt } }", { id: sessionId });
    expect(revoked.body.errors).to.equal(undefined);
    await sleep(CACHE_MS);
    const res = await s.gql(ME, {}, { token });
    expect(res.status).to.equal(401);
    expect(res.body.errors![0]!.message).to.include("revoked");
    // A new sign-in (another session) still works.
    expect((await s.gql(ME, {}, { token: s.token(s.a.users.analyst.subject) })).status).to.equal(200);
  });

  it("lets a user revoke their own session, which takes effect at once on this edge", async () => {
    const sid = `self-${Date.now()}`;
    const token = s.token(s.a.users.viewer.subject, { sid });
    const mine = await s.gql("{ sessions { nodes { id current } } }", {}, { token });
    const current = (mine.body.data as { sessions: { nodes: Array<{ id: string; current: boolean }> } }).sessions.nodes.find((n) => n.current);
    expect(current).to.not.equal(undefined);
    const res = await s.gql("mutation($id: ID!) { revokeSession(id: $id) { id } }", { id: current!.id }, { token });
    expect(res.body.errors).to.equal(undefined);
    expect((await s.gql(ME, {}, { token })).status).to.equal(401);
  });
});
