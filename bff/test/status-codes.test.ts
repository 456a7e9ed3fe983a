import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createRedis, type Redis } from "@apgms/common/redis";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { freePort, startEdge } from "./support.js";

/**
 * The status-and-code table of docs/api.md#errors, checked against the edge:
 * the expected statuses and codes are read from the document, and each case
 * below says only how to cause it. A row without a case, or a case without a
 * row, fails the test, so the document and the edge cannot drift apart.
 */
const ACCEPTS = ["application/json", "application/graphql-response+json"] as const;

interface Row {
  status: Record<(typeof ACCEPTS)[number], number>;
  code: string;
}

function tableFromDocs(): Map<string, Row> {
  const doc = readFileSync(path.resolve(__dirname, "../../../docs/api.md"), "utf8");
  const section = doc.slice(doc.indexOf("### Errors\n"), doc.indexOf("\n### ", doc.indexOf("### Errors\n") + 1));
  const lines = section.split("\n");
  const header = lines.findIndex((l) => l.startsWith("| Case |"));
  expect(header, "docs/api.md#errors has a table whose first column is Case").to.be.greaterThan(-1);
  const rows = new Map<string, Row>();
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith("|")) break;
    const [name, , json, graphqlJson, code] = line.split("|").slice(1, -1).map((c) => c.trim());
    rows.set(name!, {
      status: { "application/json": Number(json), "application/graphql-response+json": Number(graphqlJson) },
      code: code!.replace(/`/g, ""),
    });
  }
  return rows;
}

interface Request {
  method?: string;
  /** Base URL of the edge to ask; the shared stack's by default. */
  url?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string | Record<string, unknown>;
  /** Bearer token; the owner of tenant A when omitted, none when null. */
  token?: string | null;
}

describe("HTTP status and code of every case in docs/api.md#errors", () => {
  let s: Stack;
  let dead: IdentityClients;
  const edges: App[] = [];
  let authDownUrl: string;
  let executionDownUrl: string;
  let addressLimitedUrl: string;
  let budgetLimitedUrl: string;
  let persistedUrl: string;
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const limitRedis: Redis[] = [];
  const conflictEmail = `twice-${randomBytes(4).toString("hex")}@status.test`;
  const invite = "mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }";

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    dead = createIdentityClients(`127.0.0.1:${await freePort()}`, { timeoutMs: 1_000 });
    // An edge whose svc-identity is gone: authentication cannot finish.
    const authDown = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity: dead, redis: s.redis });
    // An edge that authenticates against the real svc-identity but reaches a dead one for accounts.
    const executionDown = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity: { ...s.identity, accounts: dead.accounts }, redis: s.redis });
    edges.push(authDown.app, executionDown.app);
    authDownUrl = authDown.url;
    executionDownUrl = executionDown.url;
    // Edges with limits of one, each counting in a Redis prefix of its own, spent once here.
    const limitedEdge = async (config: Parameters<typeof startEdge>[0]["config"]) => {
      const redis = createRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}status-${randomBytes(4).toString("hex")}:`);
      limitRedis.push(redis);
      await redis.ping(); // until it is ready, the in-memory insurance limiter would count instead
      const edge = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity: s.identity, redis, config });
      edges.push(edge.app);
      await send({ url: edge.url, body: { query: "{ me { kind } }" } }, "application/json");
      return edge.url;
    };
    addressLimitedUrl = await limitedEdge({ RATE_LIMIT_IP: 1 });
    budgetLimitedUrl = await limitedEdge({ RATE_LIMIT_PLANS: { standard: { principal: 1, tenant: 1_000 } } });
    // An edge in persisted-operations mode whose allow-list holds one operation.
    const manifest = path.join(mkdtempSync(path.join(tmpdir(), "apgms-status-")), "persisted-documents.json");
    const allowed = "query Me { me { kind } }";
    writeFileSync(manifest, JSON.stringify({ [createHash("sha256").update(allowed).digest("hex")]: allowed }));
    const persisted = await startEdge({ issuerUrl: s.issuerUrl, audience: AUDIENCE, identity: s.identity, redis: s.redis, config: { PERSISTED_OPERATIONS_FILE: manifest } });
    edges.push(persisted.app);
    persistedUrl = persisted.url;
    await s.as(s.a.users.owner, invite, { i: { accountId: s.a.accountId, email: conflictEmail, role: "VIEWER" } });
  });

  after(async () => {
    for (const app of edges) await app.close();
    for (const redis of limitRedis) {
      const prefix = String(redis.options.keyPrefix);
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length)));
      redis.disconnect();
    }
    dead?.close();
  });

  const gql = (query: string, variables?: Record<string, unknown>, extra: Partial<Request> = {}): Request => ({ body: { query, variables }, ...extra });
  const cases: Record<string, () => Request> = {
    "document does not parse": () => gql("{ me {"),
    "unknown field": () => gql("{ nope }"),
    "bad enum literal": () => gql(`mutation { updateUser(id: "${s.a.users.viewer.id}", input: { role: BOSS }) { id } }`),
    "bad enum in variables": () => gql("mutation($id: ID!, $r: Role) { updateUser(id: $id, input: { role: $r }) { id } }", { id: s.a.users.viewer.id, r: "BOSS" }),
    "bad DateTime in variables": () =>
      gql('mutation($when: DateTime) { createApiKey(input: { name: "s", scopes: ["identity:read"], expiresAt: $when }) { secret } }', { when: "tomorrow" }),
    "missing required variable": () => gql("query($id: ID!) { user(id: $id) { id } }"),
    "missing required argument": () => gql("{ user { id } }"),
    "several operations without operationName": () => gql("query A { me { kind } } query B { me { kind } }"),
    "unknown operationName": () => ({ body: { query: "query A { me { kind } } query B { me { kind } }", operationName: "C" } }),
    "GET with a mutation": () => ({ method: "GET", query: 'mutation { revokeApiKey(id: "00000000-0000-4000-8000-000000000000") { id } }' }),
    "method other than GET and POST": () => ({ method: "PUT", body: { query: "{ me { kind } }" } }),
    "wrong content-type": () => ({ headers: { "content-type": "text/plain" }, body: "{ me { kind } }" }),
    "invalid JSON body": () => ({ body: "{nope" }),
    "no query": () => ({ body: { variables: {} } }),
    "body too large": () => ({ body: `{"query":"{ me { kind } }","pad":"${"x".repeat(1_048_577)}"}` }),
    "batched request": () => ({ body: JSON.stringify([{ query: "{ me { kind } }" }, { query: "{ me { kind } }" }]) }),
    "document too deep": () => gql("{ accounts { nodes { users { nodes { account { users { nodes { id } } } } } } } }"),
    "too many aliases": () => gql(`{ ${range(16).map((i) => `a${i}: me { kind }`).join(" ")} }`),
    "too many directives": () => gql(`{ me { ${range(11).map(() => "kind @include(if: true)").join(" ")} } }`),
    "too many tokens": () => gql(`{ me { ${"kind ".repeat(5_000)}} }`),
    "too costly": () => gql("{ accounts(first: 200) { nodes { users(first: 200) { nodes { id } } } } }"),
    "too many nodes for its variables": () => gql("query($n: Int) { users(first: $n) { nodes { account { users(first: $n) { nodes { id } } } } } }", { n: 200 }),
    "introspection outside development": () => gql("{ __schema { queryType { name } } }"),
    "not in the allow-list (persisted-operations mode)": () => gql("query Me { me { kind } }", {}, { url: persistedUrl }),
    "unknown persisted operation": () => ({ url: persistedUrl, body: { extensions: { persistedQuery: { version: 1, sha256Hash: "0".repeat(64) } } } }),
    "no credentials": () => gql("{ me { kind } }", {}, { token: null }),
    "bad token": () => gql("{ me { kind } }", {}, { token: s.token(s.a.users.owner.subject, { ttlSeconds: -120 }) }),
    "svc-identity down during authentication": () => gql("{ me { kind } }", {}, { url: authDownUrl, token: s.token(`nobody-${randomBytes(4).toString("hex")}`) }),
    "too many requests from one address": () => gql("{ me { kind } }", {}, { url: addressLimitedUrl, token: null }),
    "over the principal's or tenant's budget": () => gql("{ me { kind } }", {}, { url: budgetLimitedUrl }),
    "role or scope does not allow it": () => gql("{ apiKeys { nodes { id } } }", {}, { token: s.token(s.a.users.viewer.subject) }),
    "no such object in the tenant": () => gql("query($id: ID!) { account(id: $id) { id } }", { id: s.b.accountId }),
    "bad argument found by the service": () => gql("{ accounts(first: -1) { nodes { id } } }"),
    "already exists": () => gql(invite, { i: { accountId: s.a.accountId, email: conflictEmail, role: "VIEWER" } }),
    "a domain rule refuses it": () => gql("mutation($id: ID!) { deleteAccount(id: $id) { deletedUsers } }", { id: s.a.accountId }),
    "svc-identity down during execution": () => gql("{ accounts { nodes { id } } }", {}, { url: executionDownUrl }),
  };

  async function send(request: Request, accept: string): Promise<{ status: number; code: unknown }> {
    const { method = "POST", url = s.url, query, body, token } = request;
    const headers: Record<string, string> = { accept, "content-type": "application/json", ...request.headers };
    const bearer = token === undefined ? s.token(s.a.users.owner.subject) : token;
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    const target = `${url}/graphql${query ? `?query=${encodeURIComponent(query)}` : ""}`;
    const res = await fetch(target, { method, headers, body: typeof body === "object" ? JSON.stringify(body) : body });
    const text = await res.text();
    let code: unknown;
    try {
      code = (JSON.parse(text) as { errors?: Array<{ extensions?: { code?: unknown } }> }).errors?.[0]?.extensions?.code;
    } catch {
      code = `(not JSON: ${JSON.stringify(text.slice(0, 80))})`;
    }
    return { status: res.status, code };
  }

  it("has a case for every row of the table, and a row for every case", () => {
    const rows = [...tableFromDocs().keys()];
    expect(rows.length).to.be.greaterThan(20);
    expect(rows).to.have.members(Object.keys(cases));
  });

  for (const [name, build] of Object.entries(cases)) {
    it(name, async function () {
      this.timeout(30_000);
      const row = tableFromDocs().get(name);
      expect(row, `docs/api.md#errors lists "${name}"`).to.not.equal(undefined);
      for (const accept of ACCEPTS) {
        const got = await send(build(), accept);
        expect(got, `${name} with Accept: ${accept}`).to.deep.equal({ status: row!.status[accept], code: row!.code });
      }
    });
  }
});
