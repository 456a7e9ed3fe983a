import { randomBytes, randomUUID } from "node:crypto";
import { createLogger } from "@apgms/common/logger";
import type { TestDatabase } from "@apgms/common/testing/database";
import { deleteTestStreams, TEST_NATS_URL, testNatsPrefix } from "@apgms/common/testing/nats";
import { testMinter } from "@apgms/common/testing/service-keys";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { Redis } from "ioredis";
import { Client as PgClient } from "pg";
import { startStoredAudit } from "../src/audit/start.js";
import type { SigningKey } from "../src/dev-oidc/keys.js";
import { mintToken, type MintOptions } from "../src/dev-oidc/tokens.js";
import { createIdentityClients, type IdentityClients } from "../src/identity-clients.js";
import { identityDatabase, spawnIdentity } from "./identity-process.js";
import { provisionTenant, startEdge, startTestIssuer, testRedis } from "./support.js";

/**
 * The real stack for the edge's tests, started once per run: a fresh Postgres
 * database with svc-identity's migrations, svc-identity as its own process,
 * the development OIDC issuer, a Redis key prefix of its own, and the BFF.
 */
export const AUDIENCE = "apgms";

export interface SeededUser {
  id: string;
  email: string;
  subject: string;
  role: Role;
}
export interface SeededTenant {
  id: string;
  slug: string;
  accountId: string;
  users: Record<"owner" | "admin" | "analyst" | "viewer", SeededUser>;
}

export interface GqlResponse {
  status: number;
  headers: Headers;
  body: { data?: Record<string, unknown> | null; errors?: Array<{ message: string; path?: Array<string | number>; extensions?: { code?: string; field?: string; reason?: string } }> };
}

export interface Stack {
  url: string;
  issuerUrl: string;
  key: SigningKey;
  identity: IdentityClients;
  /** host:port of the stack's svc-identity. */
  identityAddress: string;
  pg: PgClient;
  redis: Redis;
  a: SeededTenant;
  b: SeededTenant;
  /** A token of the development issuer for `subject` (extra options for bad tokens). */
  token(subject: string, options?: Partial<MintOptions>): string;
  gql(query: string, variables?: Record<string, unknown>, auth?: { token?: string; apiKey?: string; headers?: Record<string, string> }): Promise<GqlResponse>;
  /** Runs `query` as the given seeded user. */
  as(user: SeededUser, query: string, variables?: Record<string, unknown>): Promise<GqlResponse>;
  /** Invites `email` as `inviter`, and accepts by code as a new identity with that email; the new user. */
  join(inviter: SeededUser, accountId: string, email: string, role: "OWNER" | "ADMIN" | "ANALYST" | "VIEWER"): Promise<SeededUser>;
}

let started: Promise<Stack> | undefined;
const cleanups: Array<() => Promise<void>> = [];

export function getStack(): Promise<Stack> {
  return (started ??= startStack());
}

after(async function () {
  this.timeout(30_000);
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function startStack(): Promise<Stack> {
  const db: TestDatabase = await identityDatabase("bff");
  cleanups.push(() => db.drop());

  // The audit stream (and any other) of this stack only.
  const natsPrefix = testNatsPrefix("bff");
  cleanups.push(() => deleteTestStreams(natsPrefix));
  const svc = await spawnIdentity({
    NATS_PREFIX: natsPrefix,
    // As svc-identity's row-level-security role (its migration creates it), never the owner.
    DATABASE_URL: db.urlAs("apgms_identity_app"),
    PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
  });
  cleanups.push(svc.stop);
  const address = svc.address;

  const { key, issuerUrl, close: closeIssuer } = await startTestIssuer(AUDIENCE);
  cleanups.push(closeIssuer);
  const { redis, cleanup: cleanupRedis } = testRedis("bff");
  cleanups.push(cleanupRedis);

  const identity = createIdentityClients(address, { timeoutMs: 5_000, serviceTokens: testMinter("bff") });
  cleanups.push(async () => identity.close());
  const logger = createLogger("bff-test", { level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const stored = await startStoredAudit({ natsUrl: TEST_NATS_URL, natsPrefix, logger });
  cleanups.push(() => stored.close());
  const { app, url } = await startEdge({
    issuerUrl,
    audience: AUDIENCE,
    identity,
    redis,
    logger,
    audit: stored.audit,
    config: { NODE_ENV: "test", IDENTITY_GRPC_ADDRESS: address, SIGNUP_ENABLED: true },
  });
  cleanups.push(() => app.close());

  const pg = new PgClient({ connectionString: db.url });
  await pg.connect();
  cleanups.push(() => pg.end());

  const seedTenant = async (slug: string): Promise<SeededTenant> => {
    const { tenantId, accountId, owner } = await provisionTenant(identity, issuerUrl, slug);
    const context = { requestId: randomUUID(), tenantId, principal: { kind: "service" as const, id: "test" } };
    const users = { owner } as SeededTenant["users"];
    for (const [name, role] of [["admin", Role.ROLE_ADMIN], ["analyst", Role.ROLE_ANALYST], ["viewer", Role.ROLE_VIEWER]] as const) {
      const email = `${name}@${slug}.test`;
      const u = await identity.users.createUser(
        { accountId, email, displayName: name, role, oidcIssuer: issuerUrl, oidcSubject: email },
        { context },
      );
      users[name] = { id: u.user!.id, email, subject: email, role };
    }
    return { id: tenantId, slug, accountId, users };
  };
  const a = await seedTenant(`tenant-a-${randomBytes(3).toString("hex")}`);
  const b = await seedTenant(`tenant-b-${randomBytes(3).toString("hex")}`);

  const token = (subject: string, options: Partial<MintOptions> = {}) =>
    mintToken(key, { issuer: issuerUrl, audience: AUDIENCE, subject, email: subject, ...options });
  const gql: Stack["gql"] = async (query, variables = {}, auth = {}) => {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json", ...auth.headers };
    if (auth.token) headers.authorization = `Bearer ${auth.token}`;
    if (auth.apiKey) headers["x-api-key"] = auth.apiKey;
    const res = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse["body"] };
  };
  const tokens = new Map<string, string>();
  const as: Stack["as"] = (user, query, variables) => {
    let t = tokens.get(user.subject);
    if (!t) tokens.set(user.subject, (t = token(user.subject)));
    return gql(query, variables, { token: t });
  };
  const join: Stack["join"] = async (inviter, accountId, email, role) => {
    const invited = await as(inviter, "mutation($i: InviteUserInput!) { inviteUser(input: $i) { code } }", { i: { accountId, email, role } });
    const code = (invited.body.data as { inviteUser: { code: string } } | undefined)?.inviteUser.code;
    if (!code) throw new Error(`inviteUser failed: ${JSON.stringify(invited.body)}`);
    const subject = `joined-${randomBytes(4).toString("hex")}`;
    const accepted = await gql("mutation($c: String!) { acceptInvitation(code: $c) { userId } }", { c: code }, { token: token(subject, { email }) });
    const userId = (accepted.body.data as { acceptInvitation: { userId: string } } | undefined)?.acceptInvitation.userId;
    if (!userId) throw new Error(`acceptInvitation failed: ${JSON.stringify(accepted.body)}`);
    return { id: userId, email, subject, role: Role[`ROLE_${role}`] };
  };
  return { url, issuerUrl, key, identity, identityAddress: address, pg, redis, a, b, token, gql, as, join };
}

/** `data[field]` of a response that must have no errors (the errors are the assertion message). */
export function dataOf<T>(res: GqlResponse, field: string): T {
  if (res.body.errors !== undefined) throw new Error(`unexpected errors: ${JSON.stringify(res.body.errors)}`);
  return (res.body.data as Record<string, T>)[field]!;
}

/** The `extensions.code` of the first error, or undefined. */
export const errorCode = (res: GqlResponse) => res.body.errors?.[0]?.extensions?.code;
