import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "chai";
import { deleteTestStreams, testNatsPrefix } from "@apgms/common/testing/nats";
import { testMinter } from "@apgms/common/testing/service-keys";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { Redis } from "ioredis";
import { mintToken } from "../src/dev-oidc/tokens.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, dataOf as data, errorCode, type GqlResponse } from "./stack.js";
import { identityDatabase, spawnIdentity } from "./identity-process.js";
import { provisionTenant, startEdge, startTestIssuer, testRedis, type ProvisionedTenant } from "./support.js";

/**
 * Two svc-identity processes sharing one database and one Redis cache prefix,
 * each behind its own edge. A read through one edge caches the row in Redis;
 * a write through the other edge must invalidate it before it answers, so the
 * very next read through the first edge sees the new value.
 *
 * The edges trust their own auth caches for 60 s: the readers' principals stay
 * cached, so what is tested is svc-identity's read-through cache, not the edge's.
 */
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

type Auth = { token?: string; apiKey?: string };
type Vars = Record<string, unknown>;
interface Edge {
  name: string;
  gql(query: string, variables?: Vars, auth?: Auth): Promise<GqlResponse>;
}

const USER = "query($id: ID!) { user(id: $id) { id displayName role } }";
const ACCOUNT = "query($id: ID!) { account(id: $id) { id name userCount } }";
const TENANT = "{ tenant { id name deletionProtection deletedAt } }";
const API_KEY = "query($id: ID!) { apiKey(id: $id) { id prefix revokedAt rotations { oldPrefix newPrefix } } }";
const TWO_USERS = "query($a: ID!, $b: ID!) { a: user(id: $a) { id displayName } b: user(id: $b) { id displayName } }";

describe("a read after every kind of write sees the new value, through two edges and two svc-identity instances", () => {
  const cleanups: Array<() => Promise<void>> = [];
  let A: Edge;
  let B: Edge;
  let svc: IdentityClients;
  let issuerUrl: string;
  let token: (subject: string, email: string) => string;
  /** A client without a key prefix, to look at svc-identity's cache entries. */
  let raw: Redis;
  let cachePrefix: string;
  let t: ProvisionedTenant;
  let owner: Auth;
  let admin: Auth;

  const ctxOf = (tenantId: string) => ({ context: { requestId: randomUUID(), tenantId, principal: { kind: "service" as const, id: "test" } } });
  const hex = () => randomBytes(3).toString("hex");

  async function startIdentity(env: Record<string, string>): Promise<string> {
    const svc = await spawnIdentity({ ...env, TENANT_PURGE_INTERVAL_SECONDS: "0" });
    cleanups.push(svc.stop);
    return svc.address;
  }

  before(async function () {
    this.timeout(60_000);
    const db = await identityDatabase("raw");
    cleanups.push(() => db.drop());
    const natsPrefix = testNatsPrefix("raw");
    cleanups.push(() => deleteTestStreams(natsPrefix));
    cachePrefix = `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}raw-${randomBytes(4).toString("hex")}:`;
    raw = new Redis(REDIS_URL);
    cleanups.push(async () => {
      const keys = await raw.keys(`${cachePrefix}*`);
      if (keys.length) await raw.del(...keys);
      raw.disconnect();
    });
    const shared = {
      NATS_PREFIX: natsPrefix,
      DATABASE_URL: db.urlAs("apgms_identity_app"),
      REDIS_URL,
      REDIS_KEY_PREFIX: cachePrefix,
      PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
    };
    const addresses = [await startIdentity(shared), await startIdentity(shared)];

    const issuer = await startTestIssuer(AUDIENCE);
    cleanups.push(issuer.close);
    issuerUrl = issuer.issuerUrl;
    token = (subject, email) => mintToken(issuer.key, { issuer: issuerUrl, audience: AUDIENCE, subject, email });
    // One edge Redis prefix for both edges, as in a deployment (API key verifications are shared).
    const { redis, cleanup } = testRedis("raw-edge");
    cleanups.push(cleanup);

    const edges: Edge[] = [];
    for (const [i, address] of addresses.entries()) {
      const identity = createIdentityClients(address, { timeoutMs: 5_000, serviceTokens: testMinter("bff") });
      cleanups.push(async () => identity.close());
      if (i === 0) svc = identity;
      const { app, url } = await startEdge({ issuerUrl, audience: AUDIENCE, identity, redis, config: { IDENTITY_GRPC_ADDRESS: address, AUTH_CACHE_SECONDS: 60 } });
      cleanups.push(() => app.close());
      edges.push({ name: i === 0 ? "edge A" : "edge B", gql: (query, variables = {}, auth = {}) => post(url, query, variables, auth) });
    }
    [A, B] = edges as [Edge, Edge];

    t = await provisionTenant(svc, issuerUrl, `raw-${hex()}`);
    owner = { token: token(t.owner.subject, t.owner.email) };
    const a = await newUser(t, t.accountId, Role.ROLE_ADMIN);
    admin = { token: token(a.subject, a.email) };
  });

  after(async function () {
    this.timeout(30_000);
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  async function post(url: string, query: string, variables: Vars, auth: Auth): Promise<GqlResponse> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (auth.token) headers.authorization = `Bearer ${auth.token}`;
    if (auth.apiKey) headers["x-api-key"] = auth.apiKey;
    const res = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse["body"] };
  }

  /** A user created directly over gRPC (a fixture, not a write under test); its subject is its email. */
  async function newUser(tenant: ProvisionedTenant, accountId: string, role: Role): Promise<{ id: string; email: string; subject: string }> {
    const email = `u-${hex()}@${tenant.slug}.test`;
    const res = await svc.users.createUser(
      { accountId, email, displayName: "Before", role, oidcIssuer: issuerUrl, oidcSubject: email },
      ctxOf(tenant.tenantId),
    );
    return { id: res.user!.id, email, subject: email };
  }

  async function newAccount(name: string): Promise<string> {
    return (await svc.accounts.createAccount({ name }, ctxOf(t.tenantId))).account!.id;
  }

  /** Whether svc-identity's Redis holds the entry (the value key, any shape version). */
  async function cached(entity: "tenant" | "user" | "account" | "api-key", tenantId: string, id: string): Promise<boolean> {
    return (await raw.keys(`${cachePrefix}identity:${tenantId}:${entity}:v*:${id}`)).length > 0;
  }

  /**
   * Reads twice through `edge` (both answers alike; the second may be served
   * from Redis) and checks that the entries are now cached; the first answer.
   */
  async function warm(edge: Edge, query: string, variables: Vars, auth: Auth, entries: Array<Parameters<typeof cached>>): Promise<GqlResponse> {
    const first = await edge.gql(query, variables, auth);
    const second = await edge.gql(query, variables, auth);
    expect(second.body, `${edge.name}: the second read`).to.deep.equal(first.body);
    for (const e of entries) expect(await cached(...e), `${e.join(" ")} cached after reading through ${edge.name}`).to.equal(true);
    return first;
  }

  const userOf = (res: GqlResponse) => data<{ id: string; displayName: string; role: string }>(res, "user");
  const accountOf = (res: GqlResponse) => data<{ id: string; name: string; userCount: number }>(res, "account");
  const tenantOf = (res: GqlResponse) => data<{ id: string; name: string; deletionProtection: boolean; deletedAt: string | null }>(res, "tenant");
  const mustWrite = (res: GqlResponse, field: string) => data<unknown>(res, field);

  it("updateUser: the new display name and role, by id and in a batch", async () => {
    const u = await newUser(t, t.accountId, Role.ROLE_ANALYST);
    const before = userOf(await warm(B, USER, { id: u.id }, owner, [["user", t.tenantId, u.id]]));
    expect(before).to.deep.equal({ id: u.id, displayName: "Before", role: "ANALYST" });
    await warm(B, TWO_USERS, { a: u.id, b: t.owner.id }, owner, [["user", t.tenantId, t.owner.id]]);

    mustWrite(await A.gql("mutation($id: ID!) { updateUser(id: $id, input: { displayName: \"Renamed\" }) { id } }", { id: u.id }, admin), "updateUser");
    expect(userOf(await B.gql(USER, { id: u.id }, owner)), "B after A renamed").to.deep.equal({ id: u.id, displayName: "Renamed", role: "ANALYST" });

    await warm(B, USER, { id: u.id }, owner, [["user", t.tenantId, u.id]]);
    mustWrite(await A.gql("mutation($id: ID!) { updateUser(id: $id, input: { role: VIEWER }) { id } }", { id: u.id }, admin), "updateUser");
    expect(userOf(await B.gql(USER, { id: u.id }, owner)), "B after A changed the role").to.deep.equal({ id: u.id, displayName: "Renamed", role: "VIEWER" });

    // The other way round, read in a batch (BatchGetUsers reads the same entries).
    await warm(A, TWO_USERS, { a: u.id, b: t.owner.id }, owner, [["user", t.tenantId, u.id]]);
    mustWrite(await B.gql("mutation($id: ID!) { updateUser(id: $id, input: { displayName: \"Again\" }) { id } }", { id: u.id }, admin), "updateUser");
    const batch = await A.gql(TWO_USERS, { a: u.id, b: t.owner.id }, owner);
    expect(batch.body, "A's batch after B renamed").to.deep.equal({ data: { a: { id: u.id, displayName: "Again" }, b: { id: t.owner.id, displayName: "Owner" } } });
  });

  it("deleteUser: the user is NOT_FOUND, alone and in a batch, and its account counts one user less", async () => {
    const accountId = await newAccount(`del-user-${hex()}`);
    const u = await newUser(t, accountId, Role.ROLE_VIEWER);
    await newUser(t, accountId, Role.ROLE_VIEWER);
    await warm(B, USER, { id: u.id }, owner, [["user", t.tenantId, u.id]]);
    expect(accountOf(await warm(B, ACCOUNT, { id: accountId }, owner, [["account", t.tenantId, accountId]])).userCount).to.equal(2);

    expect(mustWrite(await A.gql("mutation($id: ID!) { deleteUser(id: $id) }", { id: u.id }, admin), "deleteUser")).to.equal(true);
    expect(errorCode(await B.gql(USER, { id: u.id }, owner)), "B's user(id) after A deleted it").to.equal("NOT_FOUND");
    const batch = await B.gql(TWO_USERS, { a: t.owner.id, b: u.id }, owner);
    expect(batch.body.errors?.map((e) => [e.extensions?.code, (e as { path?: unknown }).path]), "B's batch after A deleted b").to.deep.equal([["NOT_FOUND", ["b"]]]);
    expect(accountOf(await B.gql(ACCOUNT, { id: accountId }, owner)).userCount, "B's userCount after A deleted a user").to.equal(1);
  });

  it("a new user in an account (invitation accepted, provisioned by a key) changes the account's userCount", async () => {
    const accountId = await newAccount(`joined-${hex()}`);
    expect(accountOf(await warm(B, ACCOUNT, { id: accountId }, owner, [["account", t.tenantId, accountId]])).userCount).to.equal(0);

    const email = `invitee-${hex()}@raw.test`;
    const invited = data<{ code: string }>(
      await A.gql("mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }", { i: { accountId, email, role: "VIEWER" } }, admin),
      "inviteUser",
    );
    mustWrite(await A.gql("mutation($c: String!) { acceptInvitation(code: $c) { userId } }", { c: invited.code }, { token: token(`sub-${email}`, email) }), "acceptInvitation");
    expect(accountOf(await B.gql(ACCOUNT, { id: accountId }, owner)).userCount, "B's userCount after an invitation was accepted through A").to.equal(1);

    // The other way round: a provisioning key creates a user through B; A reads.
    await warm(A, ACCOUNT, { id: accountId }, owner, [["account", t.tenantId, accountId]]);
    const key = data<{ secret: string }>(
      await B.gql('mutation { createApiKey(input: { name: "scim", scopes: ["identity:provision"] }) { secret } }', {}, owner),
      "createApiKey",
    ).secret;
    const input = { accountId, email: `prov-${hex()}@raw.test`, displayName: "P", role: "VIEWER", oidcSubject: `prov-${hex()}` };
    mustWrite(await B.gql("mutation($i: CreateUserInput!) { createUser(input: $i) { id } }", { i: input }, { apiKey: key }), "createUser");
    expect(accountOf(await A.gql(ACCOUNT, { id: accountId }, owner)).userCount, "A's userCount after B provisioned a user").to.equal(2);
  });

  it("updateAccount: the new name, both ways", async () => {
    const accountId = await newAccount("Old name");
    await warm(B, ACCOUNT, { id: accountId }, owner, [["account", t.tenantId, accountId]]);
    const rename = "mutation($id: ID!, $n: String!) { updateAccount(id: $id, input: { name: $n }) { name } }";
    mustWrite(await A.gql(rename, { id: accountId, n: "New name" }, admin), "updateAccount");
    expect(accountOf(await B.gql(ACCOUNT, { id: accountId }, owner)).name, "B after A renamed the account").to.equal("New name");

    await warm(A, ACCOUNT, { id: accountId }, owner, [["account", t.tenantId, accountId]]);
    mustWrite(await B.gql(rename, { id: accountId, n: "Newer name" }, admin), "updateAccount");
    expect(accountOf(await A.gql(ACCOUNT, { id: accountId }, owner)).name, "A after B renamed the account").to.equal("Newer name");
  });

  it("deleteAccount with cascade: the account and its users are NOT_FOUND", async () => {
    const accountId = await newAccount(`cascade-${hex()}`);
    const u1 = await newUser(t, accountId, Role.ROLE_ANALYST);
    const u2 = await newUser(t, accountId, Role.ROLE_VIEWER);
    await warm(B, ACCOUNT, { id: accountId }, owner, [["account", t.tenantId, accountId]]);
    await warm(B, TWO_USERS, { a: u1.id, b: u2.id }, owner, [["user", t.tenantId, u1.id], ["user", t.tenantId, u2.id]]);
    await warm(B, USER, { id: u1.id }, owner, []);

    const deleted = data<{ deletedUsers: number }>(await A.gql("mutation($id: ID!) { deleteAccount(id: $id, cascade: true) { deletedUsers } }", { id: accountId }, admin), "deleteAccount");
    expect(deleted.deletedUsers).to.equal(2);
    expect(errorCode(await B.gql(ACCOUNT, { id: accountId }, owner)), "B's account(id) after A deleted it").to.equal("NOT_FOUND");
    expect(errorCode(await B.gql(USER, { id: u1.id }, owner)), "B's user(id) of the deleted account").to.equal("NOT_FOUND");
    expect(errorCode(await B.gql(USER, { id: u2.id }, owner)), "B's user(id) of the deleted account").to.equal("NOT_FOUND");
    expect(errorCode(await B.gql("query($a: ID) { users(accountId: $a) { nodes { id } } }", { a: accountId }, owner))).to.equal("NOT_FOUND");
  });

  it("updateTenant: the new name as seen by tenant, both ways", async () => {
    await warm(B, TENANT, {}, owner, [["tenant", t.tenantId, t.tenantId]]);
    const rename = "mutation($n: String!) { updateTenant(input: { name: $n }) { name } }";
    mustWrite(await A.gql(rename, { n: "Renamed tenant" }, owner), "updateTenant");
    expect(tenantOf(await B.gql(TENANT, {}, owner)).name, "B after A renamed the tenant").to.equal("Renamed tenant");

    await warm(A, TENANT, {}, owner, [["tenant", t.tenantId, t.tenantId]]);
    mustWrite(await B.gql(rename, { n: "Renamed again" }, owner), "updateTenant");
    expect(tenantOf(await A.gql(TENANT, {}, owner)).name, "A after B renamed the tenant").to.equal("Renamed again");
  });

  it("deleteTenant: the tenant's calls fail at once through the other instance, and restoreTenant brings them back", async () => {
    const gone = await provisionTenant(svc, issuerUrl, `raw-gone-${hex()}`);
    const goneOwner = { token: token(gone.owner.subject, gone.owner.email) };
    const key = { apiKey: data<{ secret: string }>(await A.gql('mutation { createApiKey(input: { name: "r", scopes: ["identity:read"] }) { secret } }', {}, goneOwner), "createApiKey").secret };

    expect(tenantOf(await warm(B, TENANT, {}, goneOwner, [["tenant", gone.tenantId, gone.tenantId]])).deletionProtection).to.equal(true);
    await warm(B, TENANT, {}, key, []);
    await warm(B, USER, { id: gone.owner.id }, goneOwner, [["user", gone.tenantId, gone.owner.id]]);
    mustWrite(await A.gql("mutation { updateTenant(input: { deletionProtection: false }) { id } }", {}, goneOwner), "updateTenant");
    expect(tenantOf(await B.gql(TENANT, {}, goneOwner)).deletionProtection, "B after A turned deletion protection off").to.equal(false);
    await warm(B, TENANT, {}, goneOwner, [["tenant", gone.tenantId, gone.tenantId]]);

    mustWrite(await A.gql("mutation($c: String!) { deleteTenant(confirmation: $c) { deletedAt } }", { c: gone.slug }, goneOwner), "deleteTenant");
    // B's edge still trusts the owner's principal (60 s): the refusal comes from svc-identity's liveness check.
    const byOwner = await B.gql(TENANT, {}, goneOwner);
    expect(byOwner.body.data ?? null, "B's tenant after A deleted it").to.equal(null);
    expect(errorCode(byOwner), "B's tenant after A deleted it").to.equal("NOT_FOUND");
    expect(errorCode(await B.gql(USER, { id: gone.owner.id }, goneOwner)), "B's user(id) in the deleted tenant").to.equal("NOT_FOUND");
    expect((await B.gql(TENANT, {}, key)).status, "the tenant's API key through B").to.equal(401);

    const restored = await A.gql("mutation($id: ID!) { restoreTenant(id: $id) { id deletedAt } }", { id: gone.tenantId }, goneOwner);
    expect(data(restored, "restoreTenant")).to.deep.equal({ id: gone.tenantId, deletedAt: null });
    expect(tenantOf(await B.gql(TENANT, {}, goneOwner)), "B's tenant after A restored it").to.deep.include({ id: gone.tenantId, deletedAt: null, deletionProtection: true });
    expect(userOf(await B.gql(USER, { id: gone.owner.id }, goneOwner)).id).to.equal(gone.owner.id);
    expect(tenantOf(await B.gql(TENANT, {}, key)).id, "the tenant's API key through B after the restore").to.equal(gone.tenantId);
  });

  it("rotateApiKey and revokeApiKey: apiKey(id) shows the new prefix and the revocation, both ways", async () => {
    const created = data<{ apiKey: { id: string; prefix: string } }>(
      await A.gql('mutation { createApiKey(input: { name: "rot", scopes: ["identity:read"] }) { apiKey { id prefix } } }', {}, owner),
      "createApiKey",
    ).apiKey;
    const keyOf = (res: GqlResponse) => data<{ prefix: string; revokedAt: string | null; rotations: Array<{ oldPrefix: string; newPrefix: string }> }>(res, "apiKey");
    expect(keyOf(await warm(B, API_KEY, { id: created.id }, owner, [["api-key", t.tenantId, created.id]])).prefix).to.equal(created.prefix);

    const rotated = data<{ apiKey: { prefix: string } }>(await A.gql("mutation($id: ID!) { rotateApiKey(id: $id) { apiKey { prefix } } }", { id: created.id }, owner), "rotateApiKey");
    expect(rotated.apiKey.prefix).to.not.equal(created.prefix);
    const afterRotation = keyOf(await B.gql(API_KEY, { id: created.id }, owner));
    expect(afterRotation, "B after A rotated the key").to.deep.include({ prefix: rotated.apiKey.prefix, revokedAt: null });
    expect(afterRotation.rotations).to.deep.equal([{ oldPrefix: created.prefix, newPrefix: rotated.apiKey.prefix }]);

    await warm(A, API_KEY, { id: created.id }, owner, [["api-key", t.tenantId, created.id]]);
    const revoked = data<{ revokedAt: string }>(await B.gql("mutation($id: ID!) { revokeApiKey(id: $id) { revokedAt } }", { id: created.id }, owner), "revokeApiKey");
    expect(revoked.revokedAt).to.be.a("string");
    expect(keyOf(await A.gql(API_KEY, { id: created.id }, owner)).revokedAt, "A after B revoked the key").to.equal(revoked.revokedAt);
  });
});
