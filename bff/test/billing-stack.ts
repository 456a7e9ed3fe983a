import { randomBytes } from "node:crypto";
import { createAuditTrail } from "@apgms/common/audit/trail";
import { createLogger } from "@apgms/common/logger";
import type { AuditEvent } from "@apgms/proto/apgms/identity/v1/audit";
import { testMinter } from "@apgms/common/testing/service-keys";
import { Redis } from "ioredis";
import { Client as PgClient } from "pg";
import type { App } from "../src/app.js";
import { createEdgeAudit } from "../src/audit/edge-audit.js";
import { createBillingClients, type BillingClients } from "../src/billing-clients.js";
import { billingDatabase, spawnBilling } from "./billing-process.js";
import { AUDIENCE, getStack, type GqlResponse, type SeededUser, type Stack } from "./stack.js";
import { startEdge } from "./support.js";

/**
 * The shared stack (svc-identity, the issuer, tenants a and b with a user of
 * each role) plus svc-billing as its own process on a fresh database, and an
 * edge of its own wired to both that reports its gRPC calls
 * (x-apgms-upstream-calls). Started once per run, on first use, so the
 * identity-only tests never wait for svc-billing.
 */
export interface BillingStack extends Stack {
  /** The billing edge's URL (Stack.url is the shared edge without svc-billing). */
  billingUrl: string;
  billingAddress: string;
  /** svc-billing's clients as the tests' own service (fixtures, checks). */
  billing: BillingClients;
  /** As the tables' owner: row checks that no refusal changed anything. */
  billingPg: PgClient;
  /** POST /graphql on the billing edge. */
  bgql(query: string, variables?: Record<string, unknown>, auth?: { token?: string; apiKey?: string }): Promise<GqlResponse>;
  /** Every audit record the billing edge made, as stored (redacted). */
  audited: AuditEvent[];
  /** Resolves once every record made so far is in `audited`. */
  flushAudit(): Promise<void>;
  /** bgql as a seeded user. */
  bas(user: SeededUser, query: string, variables?: Record<string, unknown>): Promise<GqlResponse>;
}

let started: Promise<BillingStack> | undefined;
const cleanups: Array<() => Promise<void>> = [];

export function getBillingStack(): Promise<BillingStack> {
  return (started ??= startBillingStack());
}

after(async function () {
  this.timeout(30_000);
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

async function startBillingStack(): Promise<BillingStack> {
  const s = await getStack();
  const db = await billingDatabase("bff_billing");
  cleanups.push(() => db.drop());
  const svc = await spawnBilling(db);
  cleanups.push(svc.stop);
  cleanups.push(async () => {
    const raw = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    const keys = await raw.keys(`${svc.redisPrefix}*`);
    if (keys.length) await raw.del(...keys);
    raw.disconnect();
  });
  const billing = createBillingClients(svc.address, { timeoutMs: 10_000, serviceTokens: testMinter("bff") });
  cleanups.push(async () => billing.close());
  const audited: AuditEvent[] = [];
  const trail = createAuditTrail({ source: "bff", logger: createLogger("bff-billing-test", { level: "silent" }), sink: { publish: async (e) => void audited.push(e) } });
  const { app, url }: { app: App; url: string } = await startEdge({
    issuerUrl: s.issuerUrl,
    audience: AUDIENCE,
    identity: s.identity,
    billing,
    audit: createEdgeAudit(trail),
    redis: s.redis,
    config: { NODE_ENV: "test", IDENTITY_GRPC_ADDRESS: s.identityAddress, UPSTREAM_CALLS_HEADER: true, AUTH_CACHE_SECONDS: 60 },
  });
  cleanups.push(() => app.close());
  const billingPg = new PgClient({ connectionString: db.url });
  await billingPg.connect();
  cleanups.push(() => billingPg.end());

  const bgql: BillingStack["bgql"] = async (query, variables = {}, auth = {}) => {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (auth.token) headers.authorization = `Bearer ${auth.token}`;
    if (auth.apiKey) headers["x-api-key"] = auth.apiKey;
    const res = await fetch(`${url}/graphql`, { method: "POST", headers, body: JSON.stringify({ query, variables }) });
    return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse["body"] };
  };
  const tokens = new Map<string, string>();
  const bas: BillingStack["bas"] = (user, query, variables) => {
    let t = tokens.get(user.subject);
    if (!t) tokens.set(user.subject, (t = s.token(user.subject)));
    return bgql(query, variables, { token: t });
  };
  return { ...s, billingUrl: url, billingAddress: svc.address, billing, billingPg, audited, flushAudit: () => trail.flush(), bgql, bas };
}

/** A name no other test run uses. */
export const unique = (label: string) => `${label}-${randomBytes(3).toString("hex")}`;
