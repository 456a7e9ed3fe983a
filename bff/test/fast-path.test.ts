import { randomBytes, randomUUID } from "node:crypto";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { regularMediaType } from "../src/http/fast-graphql.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { provisionTenant, startEdge, type ProvisionedTenant } from "./support.js";

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Headers that differ per request or per process by design. */
const VOLATILE = new Set(["date", "x-request-id", "ratelimit", "ratelimit-policy", "connection", "keep-alive"]);

/**
 * The fast path (http/fast-graphql.ts) and compiled queries
 * (graphql/use-jit-queries.ts) must answer every request exactly as Yoga on
 * graphql-js does: the same status, headers and body, for answers, field
 * errors, request errors under both media types, refusals and malformed
 * requests. Each case is sent to the default edge (both on), to one without
 * the fast path and to one without compiled queries.
 */
describe("the edge's fast path and compiled queries answer like Yoga on graphql-js", () => {
  let s: Stack;
  let fast: { app: App; url: string };
  let yoga: { app: App; url: string };
  let interpreted: { app: App; url: string };
  let t: ProvisionedTenant;
  let token: string;

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    const edge = (fastPath: boolean, jit: boolean) =>
      startEdge({
        issuerUrl: s.issuerUrl,
        audience: AUDIENCE,
        identity: s.identity,
        redis: s.redis,
        config: { IDENTITY_GRPC_ADDRESS: s.identityAddress, GRAPHQL_FAST_PATH: fastPath, GRAPHQL_JIT: jit, AUTH_CACHE_SECONDS: 60 },
      });
    [fast, yoga, interpreted] = await Promise.all([edge(true, true), edge(false, true), edge(true, false)]);
    t = await provisionTenant(s.identity, s.issuerUrl, `fast-${randomBytes(3).toString("hex")}`);
    token = s.token(t.owner.subject, { email: t.owner.email });
  });
  after(async () => {
    await fast?.app.close();
    await yoga?.app.close();
    await interpreted?.app.close();
  });

  async function send(url: string, body: string, headers: Record<string, string>): Promise<Answer> {
    const res = await fetch(`${url}/graphql`, { method: "POST", headers: { authorization: `Bearer ${token}`, ...headers }, body });
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      if (!VOLATILE.has(name)) out[name] = value;
    });
    return { status: res.status, headers: out, body: await res.text() };
  }

  const json = { "content-type": "application/json" };
  const cases: Array<[string, () => string, Record<string, string>]> = [
    ["an answer", () => JSON.stringify({ query: `{ user(id: "${t.owner.id}") { id email role account { name } } }` }), json],
    ["an answer with variables and an operation name", () => JSON.stringify({ query: "query U($id: ID!) { user(id: $id) { email } }", variables: { id: t.owner.id }, operationName: "U" }), json],
    ["a field error (NOT_FOUND) beside data", () => JSON.stringify({ query: `{ me { tenant { slug } } users(first: 1) { nodes { id } } user(id: "${randomUUID()}") { id } }` }), json],
    ["a variable that does not coerce", () => JSON.stringify({ query: "query($n: Int) { users(first: $n) { nodes { id } } }", variables: { n: "many" } }), json],
    ["the same under application/graphql-response+json", () => JSON.stringify({ query: "query($n: Int) { users(first: $n) { nodes { id } } }", variables: { n: "many" } }), { ...json, accept: "application/graphql-response+json" }],
    ["an answer under application/graphql-response+json", () => JSON.stringify({ query: "{ me { tenant { slug } } }" }), { ...json, accept: "application/graphql-response+json" }],
    ["a document that does not parse", () => JSON.stringify({ query: "{ me { " }), json],
    ["a validation error", () => JSON.stringify({ query: "{ nope }" }), json],
    ["a document too deep", () => JSON.stringify({ query: "{ users { nodes { account { users { nodes { account { users { nodes { id } } } } } } } } }" }), json],
    ["an unknown operation name", () => JSON.stringify({ query: "query A { me { kind } }", operationName: "B" }), json],
    ["an unexpected parameter", () => JSON.stringify({ query: "{ me { kind } }", extra: 1 }), json],
    ["a body that is not JSON", () => "{ query", json],
    ["variables that are not an object", () => JSON.stringify({ query: "{ me { kind } }", variables: [1] }), json],
    ["a mutation refused by permissions", () => JSON.stringify({ query: `mutation { deleteUser(id: "${t.owner.id}") }` }), json],
    ["a service's INVALID_ARGUMENT named by the GraphQL argument", () => JSON.stringify({ query: '{ user(id: "not-a-uuid") { id } }' }), json],
    ["... through an alias and a named fragment", () => JSON.stringify({ query: 'query { ...F } fragment F on Query { who: user(id: "nope") { id } }' }), json],
    ["... inside an inline fragment, beside data", () => JSON.stringify({ query: '{ me { kind } ... on Query { account(id: "x") { name } } }' }), json],
    ["a NOT_FOUND under a list, with aliases", () => JSON.stringify({ query: `{ a: users(first: 2) { nodes { id account { name } } } b: user(id: "${randomUUID()}") { email } }` }), json],
    ["a required variable missing", () => JSON.stringify({ query: "query($id: ID!) { user(id: $id) { id } }" }), json],
    ["a variable of the wrong type", () => JSON.stringify({ query: "query($r: Boolean) { sessions(includeRevoked: $r) { nodes { id } } }", variables: { r: "yes" } }), json],
    ["an argument out of range", () => JSON.stringify({ query: "{ users(first: -1) { nodes { id } } }" }), json],
  ];

  for (const [name, body, headers] of cases) {
    it(name, async () => {
      const text = body();
      // Twice: a document runs compiled from its second execution on.
      for (let round = 0; round < 2; round++) {
        const [viaFast, viaYoga, viaInterpreter] = await Promise.all([send(fast.url, text, headers), send(yoga.url, text, headers), send(interpreted.url, text, headers)]);
        expect(viaFast).to.deep.equal(viaInterpreter);
        expect(viaYoga).to.deep.equal(viaInterpreter);
      }
    });
  }

  it("picks the media type Yoga picks for each Accept", () => {
    expect(regularMediaType(undefined)).to.equal("application/json");
    expect(regularMediaType("*/*")).to.equal("application/json");
    expect(regularMediaType("application/json")).to.equal("application/json");
    expect(regularMediaType("application/graphql-response+json")).to.equal("application/graphql-response+json");
    expect(regularMediaType("application/graphql-response+json, application/json")).to.equal("application/graphql-response+json");
    expect(regularMediaType("application/json, application/graphql-response+json")).to.equal("application/json");
    expect(regularMediaType("text/html")).to.equal(undefined);
    expect(regularMediaType("application/json; charset=latin1")).to.equal(undefined);
  });
});
