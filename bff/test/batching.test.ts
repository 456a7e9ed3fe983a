import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "chai";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import type { App } from "../src/app.js";
import { UPSTREAM_CALLS_HEADER } from "../src/graphql/use-upstream-calls.js";
import { AUDIENCE, dataOf as data, getStack, type GqlResponse, type Stack } from "./stack.js";
import { provisionTenant, startEdge, type ProvisionedTenant } from "./support.js";

interface Expected {
  email: string;
  role: string;
  accountName: string;
}

const ROLES: Array<[Role, string]> = [
  [Role.ROLE_ANALYST, "ANALYST"],
  [Role.ROLE_VIEWER, "VIEWER"],
  [Role.ROLE_ADMIN, "ADMIN"],
];
const USER = "query($id: ID!) { user(id: $id) { id email } }";
const TWO_USERS = "query($x: ID!, $y: ID!) { a: user(id: $x) { id email } b: user(id: $y) { id email } }";

/**
 * The edge fetches a response's users and accounts in as few gRPC calls as it
 * can (DataLoaders over BatchGetUsers / BatchGetAccounts), counted by the
 * x-apgms-upstream-calls header, and a batch still answers each id as a lone
 * call would.
 */
describe("batched reads through the edge", () => {
  let s: Stack;
  let edge: { app: App; url: string };
  let t: ProvisionedTenant;
  let ownerToken: string;
  /** Every user of the tenant by id. */
  const expected = new Map<string, Expected>();

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    edge = await startEdge({
      issuerUrl: s.issuerUrl,
      audience: AUDIENCE,
      identity: s.identity,
      redis: s.redis,
      config: { IDENTITY_GRPC_ADDRESS: s.identityAddress, UPSTREAM_CALLS_HEADER: true, AUTH_CACHE_SECONDS: 60 },
    });
    t = await provisionTenant(s.identity, s.issuerUrl, `batch-${randomBytes(3).toString("hex")}`);
    ownerToken = s.token(t.owner.subject, { email: t.owner.email });
    const context = () => ({ context: { requestId: randomUUID(), tenantId: t.tenantId, principal: { kind: "service" as const, id: "test" } } });

    // 60 users in 3 accounts of 20: the owner and 19 more in Main, 20 in each of the others.
    const accounts: Array<{ id: string; name: string }> = [{ id: t.accountId, name: "Main" }];
    for (const name of ["Second", "Third"]) accounts.push({ id: (await s.identity.accounts.createAccount({ name }, context())).account!.id, name });
    expected.set(t.owner.id, { email: t.owner.email, role: "OWNER", accountName: "Main" });
    const specs = Array.from({ length: 59 }, (_, i) => ({ i, account: accounts[Math.floor((i + 1) / 20)]! }));
    for (let from = 0; from < specs.length; from += 10) {
      await Promise.all(
        specs.slice(from, from + 10).map(async ({ i, account }) => {
          const email = `user-${i}@${t.slug}.test`;
          const [role, roleName] = ROLES[i % ROLES.length]!;
          const res = await s.identity.users.createUser(
            { accountId: account.id, email, displayName: `User ${i}`, role, oidcIssuer: s.issuerUrl, oidcSubject: email },
            context(),
          );
          expected.set(res.user!.id, { email, role: roleName, accountName: account.name });
        }),
      );
    }
    // Warm the edge's auth caches (the principal, the session): not counted anyway, but kept out of the way.
    expect((await run("{ me { kind } }")).status).to.equal(200);
  });
  after(() => edge?.app.close());

  async function run(query: string, variables: Record<string, unknown> = {}, token = ownerToken): Promise<GqlResponse> {
    const res = await fetch(`${edge.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse["body"] };
  }
  const calls = (res: GqlResponse) => Number(res.headers.get(UPSTREAM_CALLS_HEADER));
  const ids = () => [...expected.keys()];
  const errorsOf = (res: GqlResponse) => (res.body.errors ?? []) as Array<{ message: string; path?: Array<string | number>; extensions?: Record<string, unknown> }>;

  it("answers a page of 50 users with their accounts in 2 calls (ListUsers, BatchGetAccounts), each account right", async () => {
    const res = await run("{ users(first: 50) { nodes { id email role account { name } } } }");
    const nodes = data<{ nodes: Array<{ id: string; email: string; role: string; account: { name: string } }> }>(res, "users").nodes;
    expect(expected.size).to.equal(60);
    expect(nodes).to.have.length(50);
    expect(new Set(nodes.map((n) => n.id)).size).to.equal(50);
    for (const n of nodes) {
      expect({ email: n.email, role: n.role, accountName: n.account.name }, n.id).to.deep.equal(expected.get(n.id));
    }
    expect(new Set(nodes.map((n) => n.account.name))).to.deep.equal(new Set(["Main", "Second", "Third"]));
    expect(calls(res)).to.equal(2);
  });

  it("answers user(id) alone in 1 call", async () => {
    const [id] = ids();
    const res = await run(USER, { id });
    expect(data(res, "user")).to.deep.equal({ id, email: expected.get(id!)!.email });
    expect(calls(res)).to.equal(1);
  });

  it("answers two users asked for by alias in 1 call (BatchGetUsers), both right", async () => {
    const [x, y] = ids().slice(30, 32);
    const res = await run(TWO_USERS, { x, y });
    expect(res.body).to.deep.equal({ data: { a: { id: x, email: expected.get(x!)!.email }, b: { id: y, email: expected.get(y!)!.email } } });
    expect(calls(res)).to.equal(1);
  });

  /**
   * Query.user is non-null (User!), so by GraphQL's null propagation one
   * failed alias nulls the whole `data`: the assertion is on the errors, which
   * must name the missing alias only, exactly as a lone user(id:) would.
   */
  async function expectBatchedNotFound(missing: string): Promise<void> {
    const alone = await run(USER, { id: missing });
    expect(alone.body.data ?? null).to.equal(null);
    expect(errorsOf(alone).map((e) => e.extensions?.code)).to.deep.equal(["NOT_FOUND"]);
    const [present] = ids();
    const res = await run(TWO_USERS, { x: present, y: missing });
    expect(calls(res)).to.equal(1);
    const errors = errorsOf(res);
    expect(errors.map((e) => e.path)).to.deep.equal([["b"]]);
    const { message, extensions } = errorsOf(alone)[0]!;
    expect({ message: errors[0]!.message, extensions: errors[0]!.extensions }, "the batched error is the lone one").to.deep.equal({ message, extensions });
    // The same ids the other way round: still only the missing one fails.
    const swapped = await run(TWO_USERS, { x: missing, y: present });
    expect(errorsOf(swapped).map((e) => [e.path, e.extensions?.code])).to.deep.equal([[["a"], "NOT_FOUND"]]);
  }

  it("fails only the alias of an id that does not exist, with the NOT_FOUND a lone user(id:) gives", async () => {
    await expectBatchedNotFound(randomUUID());
  });

  it("answers another tenant's user id in a batch as NOT_FOUND too", async () => {
    await expectBatchedNotFound(s.b.users.viewer.id);
  });
});
