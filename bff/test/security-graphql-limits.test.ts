import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { createLogger } from "@apgms/common/logger";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { AUDIENCE, getStack, type Stack } from "./stack.js";
import { provisionTenant, startEdge, type EdgeOptions } from "./support.js";

/**
 * The OWASP GraphQL cheat sheet's abuse cases, tried through real edges
 * (production and development settings) against the real svc-identity:
 * every document over a limit is refused with its own code before any
 * resolver runs (no call reaches the tenant's services); the schema stays
 * hidden in production; persisted-operations mode; helmet headers; CORS.
 */

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; extensions?: { code?: string } }> };
}

const ALLOWED_ORIGIN = "https://app.apgms.test";
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** `accounts { nodes { users { nodes { account { users { nodes { account … id` exactly `depth` levels deep. */
function nestedAccountsQuery(depth: number): string {
  const fields = ["accounts", "nodes"];
  const cycle = ["users", "nodes", "account"];
  while (fields.length < depth - 1) fields.push(cycle[(fields.length - 2) % 3]!);
  if (fields[fields.length - 1] === "users") throw new Error(`no nested query of depth ${depth} ends on an object with an id`);
  return `{ ${fields.join(" { ")} { id ${"} ".repeat(fields.length)}}`;
}

/** Counts the calls that resolvers make to svc-identity (authentication's principals and sessions calls are not counted). */
function countingIdentity(identity: IdentityClients) {
  const calls: string[] = [];
  const wrap = <T extends object>(service: string, client: T): T =>
    new Proxy(client, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== "function") return value;
        return (...args: unknown[]) => {
          calls.push(`${service}.${String(prop)}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const counted: IdentityClients = {
    ...identity,
    tenants: wrap("tenants", identity.tenants),
    accounts: wrap("accounts", identity.accounts),
    users: wrap("users", identity.users),
    apiKeys: wrap("apiKeys", identity.apiKeys),
    invitations: wrap("invitations", identity.invitations),
    memberships: wrap("memberships", identity.memberships),
  };
  return { identity: counted, calls };
}

describe("security: GraphQL limits, production schema, persisted operations, headers and CORS", () => {
  let s: Stack;
  let calls: string[];
  let prodUrl: string;
  let devUrl: string;
  const apps: App[] = [];
  const closers: Array<() => void> = [];
  let viewerToken: string;

  const edge = async (options: Partial<EdgeOptions> & { config?: EdgeOptions["config"] }) => {
    const started = await startEdge({
      issuerUrl: s.issuerUrl,
      audience: AUDIENCE,
      identity: s.identity,
      redis: s.redis,
      ...options,
      // Rate limits are another test's subject: here they would only add noise.
      config: { RATE_LIMITS_ENABLED: false, ...options.config },
    });
    apps.push(started.app);
    return started.url;
  };

  before(async function () {
    this.timeout(60_000);
    s = await getStack();
    viewerToken = s.token(s.a.users.viewer.subject);
    const counting = countingIdentity(s.identity);
    calls = counting.calls;
    prodUrl = await edge({ identity: counting.identity, config: { CORS_ORIGINS: [ALLOWED_ORIGIN] } });
    devUrl = await edge({ config: { NODE_ENV: "development" } });
  });

  after(async () => {
    for (const app of apps) await app.close();
    for (const close of closers) close();
  });

  async function post(url: string, body: string | object, headers: Record<string, string> = {}): Promise<Answer> {
    const res = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${viewerToken}`, ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Answer["body"];
    try {
      parsed = JSON.parse(text) as Answer["body"];
    } catch {
      throw new Error(`not JSON (${res.status}): ${text.slice(0, 200)}`);
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }
  const query = (url: string, q: string, variables: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
    post(url, { query: q, variables }, headers);

  describe("a document over a limit is refused with its own code before any resolver runs", () => {
    const refusals: Array<{ name: string; body: () => string | object; status: number; code: string }> = [
      { name: "a 1,000-alias query", body: () => ({ query: `{ accounts { nodes { ${range(1000).map((i) => `a${i}: id`).join(" ")} } } }` }), status: 200, code: "TOO_MANY_ALIASES" },
      { name: "a 50-deep query", body: () => ({ query: nestedAccountsQuery(50) }), status: 200, code: "QUERY_TOO_DEEP" },
      { name: "a 100,000-token query", body: () => ({ query: `{ accounts { nodes { ${"id ".repeat(100_000)}} } }` }), status: 200, code: "TOO_MANY_TOKENS" },
      { name: "11 directives", body: () => ({ query: `{ accounts { nodes { ${range(11).map(() => "id @include(if: true)").join(" ")} } } }` }), status: 200, code: "TOO_MANY_DIRECTIVES" },
      { name: "two nested pages of 200", body: () => ({ query: "{ accounts(first: 200) { nodes { users(first: 200) { nodes { id } } } } }" }), status: 200, code: "QUERY_TOO_COSTLY" },
      {
        name: "two nested pages of 200 asked for through variables",
        body: () => ({ query: "query($n: Int) { users(first: $n) { nodes { account { users(first: $n) { nodes { id } } } } } }", variables: { n: 200 } }),
        status: 200,
        code: "QUERY_TOO_COSTLY",
      },
      { name: "a 100-operation batch", body: () => range(100).map(() => ({ query: "{ accounts { nodes { id } } }" })), status: 400, code: "BATCH_TOO_LARGE" },
      { name: "a 10 MB body", body: () => `{"query":"{ accounts { nodes { id } } }","variables":{"pad":"${"x".repeat(10 * 1024 * 1024)}"}}`, status: 413, code: "REQUEST_ENTITY_TOO_LARGE" },
    ];

    for (const { name, body, status, code } of refusals) {
      it(`${name} → ${status} ${code}, and svc-identity is never asked`, async function () {
        this.timeout(20_000);
        const before = calls.length;
        const res = await post(prodUrl, body());
        expect(res.body.errors?.[0]?.extensions?.code, JSON.stringify(res.body.errors?.[0])).to.equal(code);
        expect(res.status).to.equal(status);
        expect(res.body.data).to.equal(undefined);
        expect(calls.slice(before)).to.deep.equal([]);
      });
    }

    it("a refused document is 400 under application/graphql-response+json, like any document that cannot run", async () => {
      const res = await query(prodUrl, nestedAccountsQuery(50), {}, { accept: "application/graphql-response+json" });
      expect(res.status).to.equal(400);
      expect(res.body.errors?.[0]?.extensions?.code).to.equal("QUERY_TOO_DEEP");
    });

    it("the same shapes within the limits run, and the spy sees their calls", async () => {
      const before = calls.length;
      const res = await query(prodUrl, `{ accounts { nodes { ${range(15).map((i) => `a${i}: id`).join(" ")} } } }`);
      expect(res.body.errors).to.equal(undefined);
      expect(calls.slice(before)).to.include("accounts.listAccounts");
    });

    it("a body over the limit without Content-Length (chunked) is refused too", async () => {
      const chunk = new TextEncoder().encode(`{"query":"{ me { kind } }","variables":{"pad":"${"x".repeat(64 * 1024)}`);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 40) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const res = await fetch(`${prodUrl}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${viewerToken}` },
        body: stream,
        duplex: "half",
      } as RequestInit & { duplex: "half" });
      expect(res.status).to.equal(413);
      expect(((await res.json()) as Answer["body"]).errors?.[0]?.extensions?.code).to.equal("REQUEST_ENTITY_TOO_LARGE");
    });

    it("the onboarding schema (an identity with no tenant yet) has the same limits", async () => {
      const res = await query(prodUrl, `{ ${range(1000).map((i) => `a${i}: signUpAvailable`).join(" ")} }`, {}, {
        authorization: `Bearer ${s.token(`nobody-${randomBytes(4).toString("hex")}`)}`,
      });
      expect(res.body.errors?.[0]?.extensions?.code).to.equal("TOO_MANY_ALIASES");
    });

    it("batches are refused when batching is off (the default), and bounded by GRAPHQL_MAX_BATCH when it is on", async () => {
      const batching = await edge({ config: { GRAPHQL_MAX_BATCH: 3 } });
      const op = { query: "{ me { kind } }" };
      const ok = await post(batching, [op, op, op]);
      expect(ok.status).to.equal(200);
      expect(ok.body).to.have.length(3);
      const tooMany = await post(batching, [op, op, op, op]);
      expect([tooMany.status, tooMany.body.errors?.[0]?.extensions?.code]).to.deep.equal([400, "BATCH_TOO_LARGE"]);
      const off = await post(prodUrl, [op]);
      expect([off.status, off.body.errors?.[0]?.extensions?.code]).to.deep.equal([400, "BATCH_TOO_LARGE"]);
    });
  });

  describe("the noisy neighbour's query", () => {
    it("the 30-level accounts → users → account query is refused at once; the heaviest allowed one is cheap", async function () {
      this.timeout(60_000);
      // A tenant of its own with 30 users in one account: every user's account lists all 30 again.
      const slug = `noisy-${randomBytes(3).toString("hex")}`;
      const t = await provisionTenant(s.identity, s.issuerUrl, slug);
      const owner = { id: t.owner.id, email: t.owner.email, subject: t.owner.subject, role: t.owner.role };
      for (const i of range(29)) await s.join(owner, t.accountId, `u${i}@${slug}.test`, "VIEWER");
      const ownerToken = s.token(owner.subject);

      let started = performance.now();
      const deep = await query(prodUrl, nestedAccountsQuery(30), {}, { authorization: `Bearer ${ownerToken}` });
      const refusedMs = performance.now() - started;
      expect(deep.body.errors?.[0]?.extensions?.code).to.equal("QUERY_TOO_DEEP");

      // Depth 7, pages through variables (armor's cost sees only literal `first`): users × their account's users.
      // Two nested pages of 200 are over the node limit (GRAPHQL_MAX_NODES, counted with the variables).
      const heaviest = "query($n: Int) { users(first: $n) { nodes { account { users(first: $n) { nodes { account { name } } } } } } }";
      let before = calls.length;
      const tooMany = await query(prodUrl, heaviest, { n: 200 }, { authorization: `Bearer ${ownerToken}` });
      expect(tooMany.body.errors?.[0]?.extensions?.code).to.equal("QUERY_TOO_COSTLY");
      expect(calls.slice(before)).to.deep.equal([]);
      before = calls.length;
      started = performance.now();
      const res = await query(prodUrl, heaviest, { n: 50 }, { authorization: `Bearer ${ownerToken}` });
      const heaviestMs = performance.now() - started;
      expect(res.body.errors).to.equal(undefined);
      const users = (res.body.data as { users: { nodes: Array<{ account: { users: { nodes: unknown[] } } }> } }).users.nodes;
      expect(users).to.have.length(30);
      expect(users[0]!.account.users.nodes).to.have.length(30);
      // DataLoader: one ListUsers for the page, one GetAccount, one ListUsers for the account (not 30).
      expect(calls.slice(before).sort()).to.deep.equal(["accounts.getAccount", "users.listUsers", "users.listUsers"]);
      console.log(`      30-level query refused in ${refusedMs.toFixed(1)} ms; heaviest allowed (30 x 30 users, depth 7) answered in ${heaviestMs.toFixed(1)} ms`);
      expect(heaviestMs).to.be.below(1_000);
    });
  });

  describe("production hides the schema, development shows it", () => {
    it("introspection is refused in production and answered in development; __typename works in both", async () => {
      const introspect = "{ __schema { queryType { name } } }";
      const prod = await query(prodUrl, introspect);
      expect(prod.body.errors?.[0]?.message).to.match(/introspection has been disabled/);
      expect(prod.body.data).to.equal(undefined);
      expect((await query(prodUrl, "{ __type(name: \"User\") { name } }")).body.errors?.[0]?.message).to.match(/introspection/);
      const dev = await query(devUrl, introspect);
      expect(dev.body.errors).to.equal(undefined);
      expect(dev.body.data).to.deep.equal({ __schema: { queryType: { name: "Query" } } });
      expect((await query(prodUrl, "{ __typename }")).body.data).to.deep.equal({ __typename: "Query" });
    });

    it("GraphiQL is served in development only", async () => {
      const page = (url: string) => fetch(`${url}/graphql`, { headers: { accept: "text/html" } });
      const prod = await page(prodUrl);
      expect(prod.status).to.equal(401);
      expect(await prod.text()).to.not.include("<html");
      const dev = await page(devUrl);
      expect(dev.status).to.equal(200);
      expect(await dev.text()).to.include("GraphiQL");
    });

    it('field suggestions ("Did you mean …") are hidden in production and shown in development', async () => {
      const typo = "{ acounts { nodes { id } } }";
      const prod = await query(prodUrl, typo);
      expect(prod.body.errors?.[0]?.extensions?.code).to.equal("GRAPHQL_VALIDATION_FAILED");
      expect(prod.body.errors?.[0]?.message).to.not.match(/Did you mean|accounts/);
      const dev = await query(devUrl, typo);
      expect(dev.body.errors?.[0]?.message).to.match(/Did you mean "accounts"/);
    });

    it("an input field typo in variables names no real field in production (variables are checked by execution, not validation)", async () => {
      const update = "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }";
      const variables = { id: s.a.users.viewer.id, i: { rol: "OWNER" } };
      const owner = { authorization: `Bearer ${s.token(s.a.users.owner.subject)}` };
      const prod = await query(prodUrl, update, variables, owner);
      expect(prod.body.errors?.[0]?.extensions?.code).to.equal("BAD_USER_INPUT");
      expect(prod.body.errors?.[0]?.message).to.include('Field "rol" is not defined').and.not.match(/Did you mean|"role"/);
      const dev = await query(devUrl, update, variables, owner);
      expect(dev.body.errors?.[0]?.message).to.match(/Did you mean "role"/);
    });

    it("an unexpected error is masked in production, and the log keeps its cause", async () => {
      const lines: string[] = [];
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString());
          done();
        },
      });
      const broken: IdentityClients = {
        ...s.identity,
        tenants: new Proxy(s.identity.tenants, {
          get: (target, prop, receiver) => (prop === "getTenant" ? async () => Promise.reject(new Error("disk on fire at sector 7")) : Reflect.get(target, prop, receiver)),
        }),
      };
      const url = await edge({ identity: broken, logger: createLogger("bff", { level: "info" }, sink) });
      const res = await query(url, "{ tenant { id } }");
      expect(res.body.errors?.[0]?.extensions?.code).to.equal("INTERNAL_SERVER_ERROR");
      expect(res.body.errors?.[0]?.message).to.equal("Unexpected error.");
      expect(lines.join("")).to.include("disk on fire at sector 7");
    });
  });

  describe("request time", () => {
    it("a request's gRPC calls inherit its deadline (REQUEST_TIMEOUT_MS), not only the client's own timeout", async function () {
      this.timeout(20_000);
      // A TCP server that accepts and never answers: a call to it waits for its deadline.
      const sockets: Socket[] = [];
      const blackhole: NetServer = createNetServer((socket) => void sockets.push(socket));
      await new Promise<void>((resolve) => blackhole.listen(0, "127.0.0.1", resolve));
      const stuck = createIdentityClients(`127.0.0.1:${(blackhole.address() as AddressInfo).port}`, { timeoutMs: 10_000 });
      closers.push(() => {
        stuck.close();
        for (const socket of sockets) socket.destroy();
        blackhole.close();
      });
      const url = await edge({ identity: { ...s.identity, accounts: stuck.accounts }, config: { REQUEST_TIMEOUT_MS: 400 } });
      const started = performance.now();
      const res = await query(url, "{ accounts { nodes { id } } }");
      const elapsed = performance.now() - started;
      expect(res.body.errors?.[0]?.extensions?.code).to.equal("SERVICE_UNAVAILABLE");
      expect(elapsed).to.be.below(3_000);
    });
  });

  describe("persisted-operations mode", () => {
    const document = "query Me { me { kind role } }";
    const hash = createHash("sha256").update(document).digest("hex");
    const manifest = (content: Record<string, string>) => {
      const file = path.join(mkdtempSync(path.join(tmpdir(), "apgms-persisted-")), "persisted-documents.json");
      writeFileSync(file, JSON.stringify(content));
      return file;
    };
    const persisted = (sha256Hash: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash } } });

    it("off (the default): any document within the limits runs", async () => {
      expect((await query(prodUrl, "{ me { kind } }")).body.data).to.deep.equal({ me: { kind: "USER" } });
    });

    it("on: only the manifest's documents run, by hash; any other document is PERSISTED_QUERY_ONLY", async () => {
      const url = await edge({ config: { PERSISTED_OPERATIONS_FILE: manifest({ [hash]: document }) } });
      const ok = await post(url, persisted(hash));
      expect(ok.body).to.deep.equal({ data: { me: { kind: "USER", role: "VIEWER" } } });
      const arbitrary = await query(url, document);
      expect([arbitrary.status, arbitrary.body.errors?.[0]?.extensions?.code]).to.deep.equal([200, "PERSISTED_QUERY_ONLY"]);
      const strict = await query(url, document, {}, { accept: "application/graphql-response+json" });
      expect(strict.status).to.equal(400);
      const unknown = await post(url, persisted(createHash("sha256").update("{ tenant { id } }").digest("hex")));
      expect(unknown.body.errors?.[0]?.extensions?.code).to.equal("PERSISTED_QUERY_NOT_FOUND");
      // The onboarding schema is under the same allow-list.
      const unlinked = await query(url, "{ signUpAvailable }", {}, { authorization: `Bearer ${s.token(`nobody-${randomBytes(4).toString("hex")}`)}` });
      expect(unlinked.body.errors?.[0]?.extensions?.code).to.equal("PERSISTED_QUERY_ONLY");
    });

    it("a manifest whose key is not its document's SHA-256 stops the edge at start", async () => {
      const file = manifest({ [hash]: `${document} ` });
      let error: unknown;
      try {
        await edge({ config: { PERSISTED_OPERATIONS_FILE: file } });
      } catch (err) {
        error = err;
      }
      expect(String(error)).to.include(`${hash} is not the SHA-256 of its document`);
    });
  });

  describe("security headers on every response", () => {
    const expectHelmet = (headers: Headers, where: string) => {
      expect(headers.get("content-security-policy"), where).to.include("default-src 'none'");
      expect(headers.get("content-security-policy"), where).to.include("frame-ancestors 'none'");
      expect(headers.get("x-content-type-options"), where).to.equal("nosniff");
      expect(headers.get("x-frame-options"), where).to.equal("DENY");
      expect(headers.get("strict-transport-security"), where).to.match(/max-age=\d+/);
      expect(headers.get("referrer-policy"), where).to.equal("no-referrer");
      expect(headers.get("cross-origin-opener-policy"), where).to.equal("same-origin");
      expect(headers.get("x-powered-by"), where).to.equal(null);
    };

    it("on /graphql (an answer, a refusal, a 401, a 413) and on /healthz and unknown routes", async () => {
      expectHelmet((await query(prodUrl, "{ me { kind } }")).headers, "/graphql 200");
      expectHelmet((await query(prodUrl, nestedAccountsQuery(50))).headers, "/graphql refused document");
      expectHelmet((await query(prodUrl, "{ me { kind } }", {}, { authorization: "" })).headers, "/graphql 401");
      expectHelmet((await post(prodUrl, `{"query":"${"x".repeat(2 * 1024 * 1024)}"}`)).headers, "/graphql 413");
      expectHelmet((await fetch(`${prodUrl}/healthz`)).headers, "/healthz");
      expectHelmet((await fetch(`${prodUrl}/nope`)).headers, "404");
    });
  });

  describe("CORS", () => {
    const preflight = (url: string, origin: string) =>
      fetch(`${url}/graphql`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type,x-apgms-tenant,x-api-key" },
      });

    it("a preflight from a configured origin is answered before authentication, allowing the edge's request headers", async () => {
      const res = await preflight(prodUrl, ALLOWED_ORIGIN);
      expect(res.status).to.equal(204);
      expect(res.headers.get("access-control-allow-origin")).to.equal(ALLOWED_ORIGIN);
      const allowed = res.headers.get("access-control-allow-headers")?.split(",") ?? [];
      expect(allowed).to.include.members(["authorization", "content-type", "x-apgms-tenant", "x-api-key"]);
      expect(res.headers.get("access-control-allow-methods")).to.equal("GET,POST");
      expect(res.headers.get("access-control-allow-credentials")).to.equal(null);
      expect(res.headers.get("vary")).to.include("Origin");
    });

    it("a configured origin's request may read the answer; another origin's may not", async () => {
      const allowed = await query(prodUrl, "{ me { kind } }", {}, { origin: ALLOWED_ORIGIN });
      expect(allowed.headers.get("access-control-allow-origin")).to.equal(ALLOWED_ORIGIN);
      expect(allowed.headers.get("access-control-expose-headers")).to.include("x-request-id");
      const refused = await query(prodUrl, "{ me { kind } }", {}, { origin: "https://evil.example" });
      expect(refused.headers.get("access-control-allow-origin")).to.equal(null);
      expect((await preflight(prodUrl, "https://evil.example")).headers.get("access-control-allow-origin")).to.equal(null);
    });

    it("with no CORS_ORIGINS (the default) no origin is allowed", async () => {
      const res = await preflight(devUrl, ALLOWED_ORIGIN);
      expect(res.headers.get("access-control-allow-origin")).to.equal(null);
      const answer = await query(devUrl, "{ me { kind } }", {}, { origin: ALLOWED_ORIGIN });
      expect(answer.headers.get("access-control-allow-origin")).to.equal(null);
    });
  });
});
