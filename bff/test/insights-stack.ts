import { createAuditTrail } from "@apgms/common/audit/trail";
import { createLogger } from "@apgms/common/logger";
import type { AuditEvent } from "@apgms/proto/apgms/identity/v1/audit";
import { testMinter } from "@apgms/common/testing/service-keys";
import { Redis } from "ioredis";
import { Client as PgClient } from "pg";
import { createEdgeAudit } from "../src/audit/edge-audit.js";
import { createInsightsClients } from "../src/insights-clients.js";
import { unique } from "./billing-stack.js";
import { insightsDatabase, spawnInsights, type InsightsProcess } from "./insights-process.js";
import { AUDIENCE, getStack, type GqlResponse, type SeededUser, type Stack } from "./stack.js";
import { startEdge } from "./support.js";

/** A credential as the tests send it: a seeded user's token or an API key's secret. */
export type Caller = { token: string } | { apiKey: string };

export interface EventsResponse {
  status: number;
  headers: Headers;
  /** The report, or `{ errors: [...] }`. */
  body: {
    accepted?: number;
    duplicates?: number;
    rejected?: Array<{ index: number; id: string; field: string; reason: string }>;
    errors?: Array<{ message: string; extensions: { code: string; line?: number; limit?: number } }>;
  };
}

/**
 * The shared stack (svc-identity, the issuer, tenants a and b with a user of
 * each role) plus svc-insights as its own process on a fresh database, and an
 * edge of its own wired to both (svc-billing absent) that reports its gRPC
 * calls (x-apgms-upstream-calls) and keeps its audit records. Started once per
 * run, on first use.
 */
export interface InsightsStack extends Stack {
  /** The insights edge's URL (Stack.url is the shared edge without svc-insights). */
  insightsUrl: string;
  insightsProcess: InsightsProcess;
  /** svc-insights' database as the tables' owner: what was stored (row-level security does not apply). */
  insightsPg: PgClient;
  /** POST /graphql on the insights edge. */
  igql(query: string, variables?: Record<string, unknown>, caller?: Caller): Promise<GqlResponse>;
  /** igql as a seeded user. */
  ias(user: SeededUser, query: string, variables?: Record<string, unknown>): Promise<GqlResponse>;
  /** POST /v1/events on the insights edge. */
  postEvents(body: string | Buffer, options: { caller?: Caller; contentType?: string; encoding?: string; headers?: Record<string, string> }): Promise<EventsResponse>;
  /** A seeded user's token (cached). */
  tokenOf(user: SeededUser): string;
  /** A new API key of tenant a or b (created by its owner) with these scopes; its secret. */
  createKey(tenant: "a" | "b", scopes: string[]): Promise<string>;
  /** Ids of a tenant's stored events, sorted. */
  storedIds(tenantId: string): Promise<string[]>;
  /** Every audit record the insights edge made. */
  audited: AuditEvent[];
  flushAudit(): Promise<void>;
}

let started: Promise<InsightsStack> | undefined;
const cleanups: Array<() => Promise<void>> = [];

export function getInsightsStack(): Promise<InsightsStack> {
  return (started ??= startInsightsStack());
}

after(async function () {
  this.timeout(30_000);
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function startInsightsStack(): Promise<InsightsStack> {
  const s = await getStack();
  const db = await insightsDatabase("bff_insights");
  cleanups.push(() => db.drop());
  const svc = await spawnInsights(db);
  cleanups.push(svc.stop);
  cleanups.push(async () => {
    const raw = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    const keys = await raw.keys(`${svc.redisPrefix}*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
  });
  const insights = createInsightsClients(svc.address, { timeoutMs: 10_000, serviceTokens: testMinter("bff") });
  cleanups.push(async () => insights.close());
  const audited: AuditEvent[] = [];
  const trail = createAuditTrail({ source: "bff", logger: createLogger("bff-insights-test", { level: "silent" }), sink: { publish: async (e) => void audited.push(e) } });
  const { app, url } = await startEdge({
    issuerUrl: s.issuerUrl,
    audience: AUDIENCE,
    identity: s.identity,
    insights,
    audit: createEdgeAudit(trail),
    redis: s.redis,
    config: { NODE_ENV: "test", IDENTITY_GRPC_ADDRESS: s.identityAddress, UPSTREAM_CALLS_HEADER: true, AUTH_CACHE_SECONDS: 60 },
  });
  cleanups.push(() => app.close());
  const insightsPg = new PgClient({ connectionString: db.url });
  await insightsPg.connect();
  cleanups.push(() => insightsPg.end());

  const headersOf = (caller: Caller | undefined): Record<string, string> =>
    !caller ? {} : "token" in caller ? { authorization: `Bearer ${caller.token}` } : { "x-api-key": caller.apiKey };
  const igql: InsightsStack["igql"] = async (query, variables = {}, caller) => {
    const res = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...headersOf(caller) },
      body: JSON.stringify({ query, variables }),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse["body"] };
  };
  const tokens = new Map<string, string>();
  const tokenOf = (user: SeededUser) => {
    let t = tokens.get(user.subject);
    if (!t) tokens.set(user.subject, (t = s.token(user.subject)));
    return t;
  };
  const postEvents: InsightsStack["postEvents"] = async (body, { caller, contentType = "application/json", encoding, headers = {} }) => {
    const res = await fetch(`${url}/v1/events`, {
      method: "POST",
      headers: { "content-type": contentType, ...(encoding ? { "content-encoding": encoding } : {}), ...headersOf(caller), ...headers },
      body: typeof body === "string" ? body : new Uint8Array(body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as EventsResponse["body"] };
  };
  const createKey: InsightsStack["createKey"] = async (tenant, scopes) => {
    const res = await s.as(s[tenant].users.owner, "mutation($n: String!, $s: [String!]!) { createApiKey(input: { name: $n, scopes: $s }) { secret } }", { n: unique("key"), s: scopes });
    const secret = (res.body.data as { createApiKey?: { secret: string } } | null | undefined)?.createApiKey?.secret;
    if (!secret) throw new Error(`createApiKey failed: ${JSON.stringify(res.body)}`);
    return secret;
  };
  const storedIds = async (tenantId: string) =>
    (await insightsPg.query<{ id: string }>("SELECT id FROM insights.events WHERE tenant_id = $1 ORDER BY id", [tenantId])).rows.map((r) => r.id);
  return {
    ...s,
    insightsUrl: url,
    insightsProcess: svc,
    insightsPg,
    igql,
    ias: (user, query, variables) => igql(query, variables, { token: tokenOf(user) }),
    postEvents,
    tokenOf,
    createKey,
    storedIds,
    audited,
    flushAudit: () => trail.flush(),
  };
}
