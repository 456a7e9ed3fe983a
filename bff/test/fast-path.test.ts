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
 * The fast path (http/fast-graphql.ts) must answer every request exactly as
 * Yoga does: the same status, headers and body, for answers, field errors,
 * request errors under both media types, refusals and malformed requests.
 * Each case is sent to an edge with the fast path and to one without it.
 */
describe("the edge's fast path answers like Yoga", () => {
  let s: Stack;
  let fast: { app: App; url: string };
  let yoga: { app: App; url: string };
  let t: ProvisionedTenant;
  let token: string;

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    const edge = (fastPath: boolean) =>
      startEdge({
        issuerUrl: s.issuerUrl,
        audience: AUDIENCE,
        identity: s.identity,
        redis: s.redis,
        config: { IDENTITY_GRPC_ADDRESS: s.identityAddress, GRAPHQL_FAST_PATH: fastPath, AUTH_CACHE_SECONDS: 60 },
      });
    [fast, yoga] = await Promise.all([edge(true), edge(false)]);
    t = await provisionTenant(s.identity, s.issuerUrl, `fast-${randomBytes(3).toString("hex")}`);
    token = s.token(t.owner.subject, { email: t.owner.email });
  });
  after(async () => {
    await fast?.app.close();
    await yoga?.app.close();
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
  ];

  for (const [name, body, headers] of cases) {
    it(name, async () => {
      const text = body();
      const [viaFast, viaYoga] = await Promise.all([send(fast.url, text, headers), send(yoga.url, text, headers)]);
      expect(viaFast).to.deep.equal(viaYoga);
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
