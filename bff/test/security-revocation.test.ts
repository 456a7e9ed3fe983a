import { spawn, type ChildProcess } from "node:child_process";
import { connect } from "node:net";
import { createLogger } from "@apgms/common/logger";
import { TEST_NATS_URL, testNatsPrefix } from "@apgms/common/testing/nats";
import { expect } from "chai";
import type { App } from "../src/app.js";
import { natsRevocations, type RevocationChannel } from "../src/auth/revocations.js";
import { AUDIENCE, getStack, type SeededUser, type Stack } from "./stack.js";
import { freePort, startEdge, waitFor } from "./support.js";

const ME = "{ me { kind } }";
const CACHE_SECONDS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Edge {
  app: App;
  url: string;
  revocations?: RevocationChannel;
}

/**
 * Two edges share svc-identity and Redis and keep their auth caches for 30 s;
 * what one revokes must stop working on the other within a second, through
 * NATS. A third edge without NATS shows the cache would otherwise keep
 * serving, so the fan-out (not a cache miss) is what is measured.
 */
describe("revocation on every edge at once (NATS)", function () {
  this.timeout(60_000);
  const logger = createLogger("revocation-test", { level: process.env.TEST_LOG_LEVEL ?? "silent" });
  let s: Stack;
  const edges: Edge[] = [];
  let edge1: Edge;
  let edge2: Edge;
  let isolated: Edge;

  async function startEdgeWith(natsUrl: string | undefined, prefix: string): Promise<Edge> {
    const revocations = natsUrl ? natsRevocations({ url: natsUrl, prefix, logger }) : undefined;
    const { app, url } = await startEdge({
      issuerUrl: s.issuerUrl,
      audience: AUDIENCE,
      identity: s.identity,
      redis: s.redis,
      logger,
      revocations,
      config: { AUTH_CACHE_SECONDS: CACHE_SECONDS, IDENTITY_GRPC_ADDRESS: s.identityAddress },
    });
    const edge = { app, url, revocations };
    edges.push(edge);
    return edge;
  }

  async function gqlAt(edge: Edge, query: string, variables: Record<string, unknown>, headers: Record<string, string>) {
    const res = await fetch(`${edge.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...headers },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, body: (await res.json()) as { data?: Record<string, unknown> | null; errors?: unknown[] } };
  }

  const bearer = (user: SeededUser, sid = `sid-${user.id}`) => ({ authorization: `Bearer ${s.token(user.subject, { sid })}` });

  /** Milliseconds until `edge` answers `me` with 401 for these credentials (polling every 20 ms, up to `limitMs`). */
  async function msUntilRefused(edge: Edge, headers: Record<string, string>, since: number, limitMs = 5_000): Promise<number> {
    while (Date.now() - since < limitMs) {
      if ((await gqlAt(edge, ME, {}, headers)).status === 401) return Date.now() - since;
      await sleep(20);
    }
    return Infinity;
  }

  async function expectServed(edge: Edge, headers: Record<string, string>, what: string) {
    const res = await gqlAt(edge, ME, {}, headers);
    expect(res.status, `${what}: ${JSON.stringify(res.body)}`).to.equal(200);
  }

  async function asOwnerOn(edge: Edge, query: string, variables: Record<string, unknown> = {}) {
    const res = await gqlAt(edge, query, variables, bearer(s.a.users.owner));
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return res.body.data!;
  }

  before(async () => {
    s = await getStack();
    const prefix = testNatsPrefix("revoke");
    edge1 = await startEdgeWith(TEST_NATS_URL, prefix);
    edge2 = await startEdgeWith(TEST_NATS_URL, prefix);
    isolated = await startEdgeWith(undefined, prefix);
    await Promise.all([edge1.revocations!.ready(), edge2.revocations!.ready()]);
  });

  after(async () => {
    for (const e of edges) {
      await e.app.close(1_000);
      await e.revocations?.close();
    }
  });

  it("a revoked API key fails on the other edge within one second", async () => {
    const created = (await asOwnerOn(edge1, 'mutation { createApiKey(input: { name: "fanout", scopes: ["identity:read"] }) { apiKey { id } secret } }')) as {
      createApiKey: { apiKey: { id: string }; secret: string };
    };
    const key = { "x-api-key": created.createApiKey.secret };
    await expectServed(edge2, key, "the key before revocation");
    await asOwnerOn(edge1, "mutation($id: ID!) { revokeApiKey(id: $id) { id } }", { id: created.createApiKey.apiKey.id });
    const ms = await msUntilRefused(edge2, key, Date.now());
    expect(ms, "ms until edge 2 refuses the revoked key").to.be.below(1_000);
  });

  it("a revoked session fails on the other edge within one second (an edge without NATS still serves it)", async () => {
    const user = await s.join(s.a.users.owner, s.a.accountId, `revoked-session-${Date.now()}@a.test`, "VIEWER");
    const headers = bearer(user);
    for (const e of [edge1, edge2, isolated]) await expectServed(e, headers, "the session before revocation");
    const listed = (await asOwnerOn(edge1, "query($u: ID) { sessions(userId: $u) { nodes { id } } }", { u: user.id })) as { sessions: { nodes: Array<{ id: string }> } };
    expect(listed.sessions.nodes).to.have.length(1);
    await asOwnerOn(edge1, "mutation($id: ID!) { revokeSession(id: $id) { id } }", { id: listed.sessions.nodes[0]!.id });
    const since = Date.now();
    expect(await msUntilRefused(edge2, headers, since), "ms until edge 2 refuses the revoked session").to.be.below(1_000);
    await expectServed(isolated, headers, `an edge without NATS, ${CACHE_SECONDS} s cache`);
  });

  it("a deleted user fails on the other edge within one second (an edge without NATS still serves it)", async () => {
    const user = await s.join(s.a.users.owner, s.a.accountId, `deleted-${Date.now()}@a.test`, "ANALYST");
    const headers = bearer(user);
    for (const e of [edge1, edge2, isolated]) await expectServed(e, headers, "the user before deletion");
    await asOwnerOn(edge1, "mutation($id: ID!) { deleteUser(id: $id) }", { id: user.id });
    const since = Date.now();
    expect(await msUntilRefused(edge2, headers, since), "ms until edge 2 refuses the deleted user").to.be.below(1_000);
    await expectServed(isolated, headers, `an edge without NATS, ${CACHE_SECONDS} s cache`);
  });

  describe("with NATS down", () => {
    let nats: ChildProcess | undefined;
    let natsUrl: string;
    let port: number;

    const startNats = async () => {
      nats = spawn("nats-server", ["-a", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
      await waitFor(
        "nats-server",
        () =>
          new Promise<boolean>((resolve) => {
            const socket = connect({ host: "127.0.0.1", port }, () => resolve(true));
            socket.once("error", () => resolve(false));
            socket.once("connect", () => socket.destroy());
          }),
      );
    };
    const stopNats = async () => {
      const n = nats;
      if (!n || n.exitCode !== null) return;
      const exited = new Promise((r) => n.once("exit", r));
      n.kill("SIGTERM");
      await exited;
    };

    before(async () => {
      port = await freePort();
      natsUrl = `nats://127.0.0.1:${port}`;
    });
    after(stopNats);

    it("an edge starts and serves without NATS, and its revocations reach the others once NATS is back", async () => {
      const prefix = testNatsPrefix("revoke-down");
      const a = await startEdgeWith(natsUrl, prefix);
      const b = await startEdgeWith(natsUrl, prefix);
      const user = await s.join(s.a.users.owner, s.a.accountId, `nats-down-${Date.now()}@a.test`, "VIEWER");
      const headers = bearer(user);
      await expectServed(a, headers, "edge A with NATS never reached");
      await expectServed(b, headers, "edge B with NATS never reached");

      await startNats();
      await Promise.all([a.revocations!.ready(), b.revocations!.ready()]);
      await stopNats();
      await expectServed(a, headers, "edge A after NATS went away");
      await expectServed(b, headers, "edge B after NATS went away");

      await startNats();
      // The clients reconnect by themselves (every 500 ms) and resubscribe.
      await sleep(1_500);
      await asOwnerOn(a, "mutation($id: ID!) { deleteUser(id: $id) }", { id: user.id });
      expect(await msUntilRefused(b, headers, Date.now()), "ms until edge B refuses after the reconnect").to.be.below(1_000);
    });
  });
});
