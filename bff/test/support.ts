import type { AddressInfo } from "node:net";
import { createServer as createNetServer } from "node:net";
import type { Logger } from "@apgms/common/logger";
import { createLogger } from "@apgms/common/logger";
import { testServiceKeys } from "@apgms/common/testing/service-keys";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { buildApp, type App, type AppDeps } from "../src/app.js";
import { createJwtVerifier } from "../src/auth/jwt-verifier.js";
import type { RevocationChannel } from "../src/auth/revocations.js";
import { createDevIssuer } from "../src/dev-oidc/issuer.js";
import { generateSigningKey, type SigningKey } from "../src/dev-oidc/keys.js";
import { createBillingClients, type BillingClients } from "../src/billing-clients.js";
import type { IdentityClients } from "../src/identity-clients.js";
import { createInsightsClients, type InsightsClients } from "../src/insights-clients.js";

// Services that tests spawn inherit the run's service token keys from the environment.
testServiceKeys();

/** A port that was free a moment ago (for processes that must be told their port up front). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createNetServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await Promise.resolve().then(probe).catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not become ready in ${timeoutMs} ms`);
}

export interface EdgeOptions {
  issuerUrl: string;
  audience: string;
  identity: IdentityClients;
  /** svc-billing's clients; default: ones to an address where nothing listens (billing fields answer SERVICE_UNAVAILABLE), closed with the edge. */
  billing?: BillingClients;
  /** svc-insights' clients; default: ones to an address where nothing listens (insights fields and POST /v1/events answer SERVICE_UNAVAILABLE), closed with the edge. */
  insights?: InsightsClients;
  redis: Redis;
  config?: Partial<AppDeps["config"]>;
  logger?: Logger;
  /** Revocations shared with other edges (NATS). */
  revocations?: RevocationChannel;
  /** Serve HTTPS with this certificate and key. */
  https?: AppDeps["https"];
  /** Where audit records go (the stored trail through JetStream); default: the log only. */
  audit?: AppDeps["audit"];
}

/**
 * Rate limits of the test edges: the whole suite comes from one address and a
 * few principals sharing Redis counters, so limits stay on (every request is
 * counted) but far above what it sends. security-rate-limit.test.ts sets small ones.
 */
export const TEST_RATE_LIMITS = {
  RATE_LIMIT_IP: 1_000_000,
  RATE_LIMIT_PLANS: { standard: { principal: 100_000_000, tenant: 100_000_000 } },
} satisfies Partial<AppDeps["config"]>;

/** A BFF of its own on port 0 (for tests that need other settings than the shared stack's). */
export async function startEdge(options: EdgeOptions): Promise<{ app: App; url: string }> {
  const { issuerUrl, audience, identity, redis, config = {}, logger = createLogger("test", { level: "silent" }), revocations, https, audit } = options;
  const ownBilling = options.billing ? undefined : createBillingClients("127.0.0.1:1", { timeoutMs: 500, retries: 0 });
  const billing = options.billing ?? ownBilling!;
  const ownInsights = options.insights ? undefined : createInsightsClients("127.0.0.1:1", { timeoutMs: 500, retries: 0 });
  const insights = options.insights ?? ownInsights!;
  const built = buildApp({
    config: {
      NODE_ENV: "production",
      OIDC_ISSUER: issuerUrl,
      AUTH_CACHE_SECONDS: 1,
      IDENTITY_GRPC_ADDRESS: "127.0.0.1:1",
      TRUST_PROXY: false,
      SIGNUP_ENABLED: false,
      ...TEST_RATE_LIMITS,
      ...config,
    },
    logger,
    identity,
    billing,
    insights,
    redis,
    jwt: createJwtVerifier({ issuer: issuerUrl, audience, jwksUri: `${issuerUrl}/.well-known/jwks.json`, clockToleranceSeconds: 5 }),
    revocations,
    https,
    audit,
  });
  const app: App = {
    server: built.server,
    close: async (drainTimeoutMs) => {
      await built.close(drainTimeoutMs);
      ownBilling?.close();
      ownInsights?.close();
    },
  };
  await new Promise<void>((resolve) => app.server.listen(0, "127.0.0.1", resolve));
  return { app, url: `${https ? "https" : "http"}://127.0.0.1:${(app.server.address() as AddressInfo).port}` };
}

export interface ProvisionedTenant {
  tenantId: string;
  slug: string;
  accountId: string;
  /** The owner, whose OIDC subject (at `issuerUrl`) is its email `owner@<slug>.test`. */
  owner: { id: string; email: string; subject: string; role: Role };
}

/** A tenant with its first account and an owner who signs in through `issuerUrl`, via the platform RPC. */
export async function provisionTenant(identity: IdentityClients, issuerUrl: string, slug: string): Promise<ProvisionedTenant> {
  const email = `owner@${slug}.test`;
  const res = await identity.tenants.createTenant({
    name: `Tenant ${slug}`,
    slug,
    accountName: "Main",
    ownerEmail: email,
    ownerDisplayName: "Owner",
    ownerOidcIssuer: issuerUrl,
    ownerOidcSubject: email,
  });
  return { tenantId: res.tenant!.id, slug, accountId: res.accountId, owner: { id: res.ownerUserId, email, subject: email, role: Role.ROLE_OWNER } };
}

export interface TestIssuer {
  key: SigningKey;
  issuerUrl: string;
  close(): Promise<void>;
}

/** The development OIDC issuer on a free port, with a fresh signing key. */
export async function startTestIssuer(audience: string): Promise<TestIssuer> {
  const key = generateSigningKey();
  const port = await freePort();
  const issuerUrl = `http://127.0.0.1:${port}`;
  const issuer = createDevIssuer({ issuerUrl, audience, keys: [key] });
  await new Promise<void>((resolve) => issuer.listen(port, "127.0.0.1", resolve));
  return { key, issuerUrl, close: () => new Promise((resolve) => issuer.close(() => resolve())) };
}

/** A Redis client under a key prefix of its own within the run's; `cleanup` deletes its keys and disconnects. */
export function testRedis(label: string): { redis: Redis; cleanup(): Promise<void> } {
  const prefix = `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}${label}-${randomBytes(4).toString("hex")}:`;
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", { keyPrefix: prefix });
  return {
    redis,
    async cleanup() {
      const keys = await redis.keys(`${prefix}*`);
      if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length)));
      redis.disconnect();
    },
  };
}
