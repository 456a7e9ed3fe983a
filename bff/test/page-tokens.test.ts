import { expect } from "chai";
import { errorCode, getStack, type GqlResponse, type SeededUser, type Stack } from "./stack.js";

interface Connection {
  nodes: Array<{ id: string }>;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

const connection = (res: GqlResponse, name: string): Connection => {
  const data = res.body.data?.[name] as Connection | undefined;
  if (!data) throw new Error(`${name} failed: ${JSON.stringify(res.body)}`);
  return data;
};

/** The token with the character at its middle replaced by another base64url character. */
function tamper(token: string): string {
  const i = Math.floor(token.length / 3);
  return token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
}

describe("page tokens through the edge", () => {
  let s: Stack;
  let secondAccountId: string;
  const accounts = "query($f: Int, $a: String) { accounts(first: $f, after: $a) { nodes { id } pageInfo { endCursor hasNextPage } } }";
  const users = "query($f: Int, $a: String, $acc: ID) { users(first: $f, after: $a, accountId: $acc) { nodes { id } pageInfo { endCursor hasNextPage } } }";
  const sessions =
    "query($a: String, $r: Boolean) { sessions(first: 1, after: $a, includeRevoked: $r) { nodes { id } pageInfo { endCursor hasNextPage } } }";

  const expectRefusedCursor = (res: GqlResponse) => {
    expect(errorCode(res), JSON.stringify(res.body)).to.equal("BAD_USER_INPUT");
    expect(res.body.errors?.[0]?.extensions?.field).to.equal("after");
    expect(res.body.errors?.[0]?.message).to.match(/^after: /);
  };
  const firstToken = async (user: SeededUser, query: string, name: string, variables: Record<string, unknown> = {}) => {
    const page = connection(await s.as(user, query, { f: 1, ...variables }), name);
    expect(page.pageInfo.hasNextPage, `${name} needs a second page`).to.equal(true);
    return page.pageInfo.endCursor!;
  };

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    for (const name of ["paged-1", "paged-2", "paged-3"]) {
      const res = await s.as(s.a.users.owner, "mutation($n: String!) { createAccount(input: { name: $n }) { id } }", { n: name });
      secondAccountId = (res.body.data as { createAccount: { id: string } }).createAccount.id;
    }
    await s.as(s.b.users.owner, 'mutation { createAccount(input: { name: "b-paged" }) { id } }');
    // Two more sessions of A's owner, so its session list has a second page.
    for (let i = 0; i < 2; i++) await s.gql("{ me { kind } }", {}, { token: s.token(s.a.users.owner.subject) });
  });

  it("pages with real tokens: every account once, in order, the same as one big page", async () => {
    const all = connection(await s.as(s.a.users.owner, accounts, { f: 200 }), "accounts").nodes.map((n) => n.id);
    expect(all.length).to.be.at.least(4);
    const seen: string[] = [];
    let after: string | null = null;
    do {
      const page: Connection = connection(await s.as(s.a.users.owner, accounts, { f: 1, a: after }), "accounts");
      seen.push(...page.nodes.map((n) => n.id));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    expect(seen).to.deep.equal(all);
  });

  it("refuses a hand-made base64 cursor", async () => {
    const first = connection(await s.as(s.a.users.owner, accounts, { f: 1 }), "accounts").nodes[0]!;
    const forged = Buffer.from(JSON.stringify({ createdAt: "2000-01-01T00:00:00.000Z", id: first.id })).toString("base64url");
    expectRefusedCursor(await s.as(s.a.users.owner, accounts, { f: 1, a: forged }));
    expectRefusedCursor(await s.as(s.a.users.owner, accounts, { f: 1, a: "not a token" }));
  });

  it("refuses a real token with one character changed", async () => {
    const token = await firstToken(s.a.users.owner, accounts, "accounts");
    expectRefusedCursor(await s.as(s.a.users.owner, accounts, { f: 1, a: tamper(token) }));
    expect(errorCode(await s.as(s.a.users.owner, accounts, { f: 1, a: token }))).to.equal(undefined);
  });

  it("refuses a token of the users list on the accounts list", async () => {
    const token = await firstToken(s.a.users.owner, users, "users");
    expectRefusedCursor(await s.as(s.a.users.owner, accounts, { f: 1, a: token }));
  });

  it("refuses tenant A's token to tenant B", async () => {
    const token = await firstToken(s.a.users.owner, accounts, "accounts");
    expectRefusedCursor(await s.as(s.b.users.owner, accounts, { f: 1, a: token }));
  });

  it("refuses a token used with another accountId, or without the filter", async () => {
    const token = await firstToken(s.a.users.owner, users, "users", { acc: s.a.accountId });
    expect(errorCode(await s.as(s.a.users.owner, users, { f: 1, a: token, acc: s.a.accountId }))).to.equal(undefined);
    expectRefusedCursor(await s.as(s.a.users.owner, users, { f: 1, a: token, acc: secondAccountId }));
    expectRefusedCursor(await s.as(s.a.users.owner, users, { f: 1, a: token }));
  });

  it("refuses a sessions token used with another includeRevoked", async () => {
    const token = await firstToken(s.a.users.owner, sessions, "sessions", { r: false });
    expectRefusedCursor(await s.as(s.a.users.owner, sessions, { a: token, r: true }));
  });
});
