import { createServer, type RequestListener, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Logger } from "@apgms/common/logger";
import express from "express";
import type { Redis } from "ioredis";
import { createAuditTrail } from "@apgms/common/audit/trail";
import { createEdgeAudit, type EdgeAudit } from "./audit/edge-audit.js";
import { createAuthenticator } from "./auth/authenticator.js";
import type { RevocationChannel } from "./auth/revocations.js";
import type { JwtVerifier } from "./auth/jwt-verifier.js";
import type { Config } from "./config.js";
import { buildOnboardingYoga } from "./graphql/onboarding/yoga.js";
import { devSignInRouter } from "./graphql/graphiql.js";
import { buildYoga } from "./graphql/yoga.js";
import { createFastGraphql } from "./http/fast-graphql.js";
import { createGraphqlHandler } from "./http/graphql-handler.js";
import { createCors } from "./http/cors.js";
import { createSecurityHeaders } from "./http/security-headers.js";
import { requestLimits, type RequestLimitConfig } from "./graphql/limits/from-config.js";
import { loadPersistedOperations } from "./graphql/limits/index.js";
import { healthRoutes } from "./http/health.js";
import { createEventsHandler, EVENTS_PATH } from "./http/events/events-route.js";
import { createEdgeLimiter } from "./limits/edge-limiter.js";
import { rateLimitSettings, type RateLimitConfig } from "./limits/plans.js";
import type { BillingClients } from "./billing-clients.js";
import type { IdentityClients } from "./identity-clients.js";
import type { InsightsClients } from "./insights-clients.js";

export interface AppDeps {
  config: Pick<Config, "NODE_ENV" | "OIDC_ISSUER" | "AUTH_CACHE_SECONDS" | "IDENTITY_GRPC_ADDRESS" | "TRUST_PROXY" | "SIGNUP_ENABLED"> &
    Partial<Pick<Config, "PROVISIONING_ISSUERS" | "DEV_SIGN_IN_USERS" | "DEV_OIDC_ISSUER" | "UPSTREAM_CALLS_HEADER" | "GRAPHQL_FAST_PATH" | "GRAPHQL_JIT">> &
    RateLimitConfig &
    RequestLimitConfig &
    Partial<Pick<Config, "PERSISTED_OPERATIONS_FILE" | "CORS_ORIGINS">>;
  logger: Logger;
  identity: IdentityClients;
  /** svc-billing; while it is down only billing fields fail, and /readyz reports it without failing. */
  billing: BillingClients;
  /** svc-insights; while it is down only insights fields and POST /v1/events fail, and /readyz reports it without failing. */
  insights: InsightsClients;
  redis: Redis;
  jwt: JwtVerifier;
  /** The audit trail (stored through NATS: see startStoredAudit); default: log lines and OTLP log records only. */
  audit?: EdgeAudit;
  /** Fan-out of auth cache invalidations to the other edge instances (NATS); without it they wait out AUTH_CACHE_SECONDS. */
  revocations?: RevocationChannel;
  /** Serve HTTPS with this certificate chain and key (PEM) instead of plain HTTP. */
  https?: { cert: Buffer; key: Buffer };
}

export interface App {
  server: Server;
  /** Stops accepting connections and waits for in-flight requests, cutting them after `drainTimeoutMs` (10 s). */
  close(drainTimeoutMs?: number): Promise<void>;
}

/** Builds the edge without listening, so tests drive it on port 0. */
export function buildApp(deps: AppDeps): App {
  const { config, logger, identity, billing, insights, redis, jwt } = deps;
  const development = config.NODE_ENV === "development";
  const devSignIn = development && config.DEV_SIGN_IN_USERS?.length
    ? { users: config.DEV_SIGN_IN_USERS, issuerUrl: config.DEV_OIDC_ISSUER ?? config.OIDC_ISSUER }
    : undefined;
  const auth = createAuthenticator({ jwt, identity, redis, logger, cacheSeconds: config.AUTH_CACHE_SECONDS, revocations: deps.revocations });
  const audit = deps.audit ?? createEdgeAudit(createAuditTrail({ source: "bff", logger }));
  const limits = requestLimits(config);
  const persistedOperations = config.PERSISTED_OPERATIONS_FILE ? loadPersistedOperations(config.PERSISTED_OPERATIONS_FILE) : undefined;
  if (persistedOperations) logger.info({ operations: persistedOperations.size }, "persisted-operations mode: only the allow-list runs");
  const membership = { signUpEnabled: config.SIGNUP_ENABLED, onMembershipChange: auth.forgetIdentity };
  const yoga = buildYoga({
    identity,
    billing,
    insights,
    auth,
    logger,
    oidcIssuer: config.OIDC_ISSUER,
    provisioningIssuers: config.PROVISIONING_ISSUERS ?? [config.OIDC_ISSUER],
    development,
    devSignIn,
    ...membership,
    requestLimits: limits,
    persistedOperations,
    audit,
    upstreamCallsHeader: config.UPSTREAM_CALLS_HEADER,
    jit: config.GRAPHQL_JIT !== false,
  });
  const onboarding = buildOnboardingYoga({ identity, logger, development, audit, ...membership, requestLimits: limits, persistedOperations });
  const rateLimits = rateLimitSettings(config);
  const limiter =
    rateLimits &&
    createEdgeLimiter({
      redis,
      settings: rateLimits,
      logger,
      onExceeded: ({ requestId, ip, tenantId, principal, policy, cost, quota, windowSeconds }) =>
        audit.securityEvent("rateLimit.hit", { requestId, ip, tenantId, principal, reason: `${policy} limit exceeded`, details: { policy, cost, quota, windowSeconds } }),
    });
  // Persisted-operations mode resolves documents in Yoga's onParams, which only Yoga's own path runs.
  const fast =
    config.GRAPHQL_FAST_PATH !== false && !persistedOperations
      ? createFastGraphql({ yoga, maxBodyBytes: limits.maxBodyBytes, upstreamCallsHeader: config.UPSTREAM_CALLS_HEADER })
      : undefined;
  const graphql = createGraphqlHandler({
    yoga,
    onboarding,
    auth,
    audit,
    logger,
    development,
    trustProxy: config.TRUST_PROXY,
    limiter,
    requestTimeoutMs: limits.timeoutMs,
    cors: createCors(config.CORS_ORIGINS ?? []),
    fast,
  });
  // Bulk ingestion (http/events/): the same credentials, limiter and audit trail as /graphql.
  const events = createEventsHandler({ insights, auth, audit, logger, trustProxy: config.TRUST_PROXY, limiter, requestTimeoutMs: limits.timeoutMs });

  const identityHealth = identity.health;
  const securityHeaders = createSecurityHeaders({ development });
  const rest = express();
  rest.disable("x-powered-by");
  if (devSignIn) rest.use(devSignInRouter(devSignIn, logger));
  const serving = (health: { check(service: string): Promise<string> }) => async () => {
    const state = await health.check("");
    if (state !== "SERVING") throw new Error(state);
  };
  rest.use(
    healthRoutes([
      { name: "svc-identity", check: serving(identityHealth) },
      { name: "redis", check: () => redis.ping() },
      { name: "svc-billing", check: serving(billing.health), optional: true },
      { name: "svc-insights", check: serving(insights.health), optional: true },
    ]),
  );
  rest.use((_req, res) => {
    res.status(404).json({ errors: [{ message: "not found", extensions: { code: "NOT_FOUND" } }] });
  });

  const handler: RequestListener = (req, res) => {
    securityHeaders(req, res);
    const url = req.url ?? "/";
    if (url === "/graphql" || url.startsWith("/graphql?")) {
      graphql(req, res).catch((err: unknown) => {
        logger.error({ err }, "unhandled error on /graphql");
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    if (url === EVENTS_PATH || url.startsWith(`${EVENTS_PATH}?`)) {
      events(req, res).catch((err: unknown) => {
        logger.error({ err }, `unhandled error on ${EVENTS_PATH}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    rest(req, res);
  };
  const server: Server = deps.https ? createHttpsServer({ cert: deps.https.cert, key: deps.https.key }, handler) : createServer(handler);
  server.keepAliveTimeout = 65_000;
  // How long a client may take to send a whole request (slow uploads, slowloris); Node checks every 30 s.
  server.requestTimeout = limits.timeoutMs;
  server.headersTimeout = Math.min(limits.timeoutMs, 10_000);

  return {
    server,
    close: (drainTimeoutMs = 10_000) =>
      new Promise<void>((resolve) => {
        const cut = setTimeout(() => {
          logger.warn({ drainTimeoutMs }, "drain timed out; closing the remaining connections");
          server.closeAllConnections();
        }, drainTimeoutMs);
        cut.unref();
        server.close(() => {
          clearTimeout(cut);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
