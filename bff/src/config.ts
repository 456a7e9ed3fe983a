import { env, loadConfig } from "@apgms/common/config";
import { grpcTlsEnv, grpcTlsIssues } from "@apgms/common/grpc/tls";
import { serviceTokenEnv } from "@apgms/common/service-token-keys";
import { z } from "zod";
import { REQUEST_LIMIT_DEFAULTS as LIMITS } from "./graphql/limits/defaults.js";
import { DEFAULT_RATE_LIMITS, plansFromEnv } from "./limits/plans.js";

export const configSchema = z.object({
  /** Rate limits per client address, principal and tenant (docs/security.md#rate-limits); turn off only to measure without them. */
  RATE_LIMITS_ENABLED: env.bool(true),
  /** Requests per window from one client address, counted before authentication. */
  RATE_LIMIT_IP: z.coerce.number().int().positive().default(DEFAULT_RATE_LIMITS.ip),
  RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(DEFAULT_RATE_LIMITS.windowSeconds),
  /** JSON `{"<plan>": {"principal": points, "tenant": points}}` over the defaults of limits/plans.ts. */
  RATE_LIMIT_PLANS: plansFromEnv,
  /** A slower Redis answer is replaced by the in-memory insurance limiter. */
  RATE_LIMIT_REDIS_TIMEOUT_MS: z.coerce.number().int().min(1).max(5000).default(DEFAULT_RATE_LIMITS.redisTimeoutMs),
  NODE_ENV: env.nodeEnv(),
  LOG_LEVEL: env.logLevel(),
  HTTP_HOST: z.string().default("127.0.0.1"),
  HTTP_PORT: env.port(4000),
  IDENTITY_GRPC_ADDRESS: z.string().min(1).default("127.0.0.1:50051"),
  /** svc-billing; while it is down only billing fields fail (SERVICE_UNAVAILABLE), and /readyz says so without failing. */
  BILLING_GRPC_ADDRESS: z.string().min(1).default("127.0.0.1:50052"),
  /** svc-insights; while it is down only insights fields and POST /v1/events fail (SERVICE_UNAVAILABLE), and /readyz says so without failing. */
  INSIGHTS_GRPC_ADDRESS: z.string().min(1).default("127.0.0.1:50053"),
  GRPC_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  REDIS_KEY_PREFIX: z.string().default("apgms:"),
  /** The OIDC issuer whose tokens are accepted (`iss`), e.g. https://acme.okta.com/oauth2/default. */
  OIDC_ISSUER: z.string().url(),
  OIDC_AUDIENCE: z.string().min(1).default("apgms"),
  /** Defaults to the jwks_uri of the issuer's discovery document. */
  OIDC_JWKS_URI: z.string().url().optional(),
  OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /**
   * Comma-separated issuer URLs whose subjects a provisioning key (scope
   * identity:provision) may link users to; default: OIDC_ISSUER only.
   */
  PROVISIONING_ISSUERS: z
    .string()
    .optional()
    .transform((v) => (v ? v.split(",").map((x) => x.trim()).filter(Boolean) : undefined))
    .pipe(z.array(z.string().url()).optional()),
  /**
   * Let a signed-in identity that is linked to no user create its own tenant
   * (GraphQL `signUp`, becoming its owner). Off unless asked for.
   */
  SIGNUP_ENABLED: env.bool(false),
  /** Take the client address from X-Forwarded-For; only behind a proxy you trust. */
  TRUST_PROXY: env.bool(false),
  /** How long a resolved principal, session state or API key is trusted before it is checked again. */
  AUTH_CACHE_SECONDS: z.coerce.number().int().min(0).max(60).default(5),
  /** Serve ordinary POSTs without Yoga's Fetch-API layer (http/fast-graphql.ts); false only to measure it (make bench). */
  GRAPHQL_FAST_PATH: env.bool(true),
  /** Run queries compiled by graphql-jit (graphql/use-jit-queries.ts); false only to measure it (make bench). */
  GRAPHQL_JIT: env.bool(true),
  /** Answer with `x-apgms-upstream-calls`: the gRPC calls the operation made (make bench counts them). */
  UPSTREAM_CALLS_HEADER: env.bool(false),
  /** Development only: emails GraphiQL offers as "sign in as" (comma-separated; `make dev` passes the seeded users). */
  DEV_SIGN_IN_USERS: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.email())),
  /** Development only: the issuer whose `POST /token` mints those sign-ins (default OIDC_ISSUER). */
  DEV_OIDC_ISSUER: z.string().url().optional(),
  /** GraphQL document limits (docs/security.md#graphql-limits): each refusal has its own code, before any resolver runs. */
  /** Off only to measure what the document limits cost (make bench); never in production. */
  GRAPHQL_LIMITS_ENABLED: env.bool(true),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(2).default(LIMITS.maxDepth),
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).default(LIMITS.maxAliases),
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).default(LIMITS.maxDirectives),
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(10).default(LIMITS.maxTokens),
  GRAPHQL_MAX_COST: z.coerce.number().int().positive().default(LIMITS.maxCost),
  /** Objects and fields one operation may return, counted with its variables (QUERY_TOO_COSTLY above it). */
  GRAPHQL_MAX_NODES: z.coerce.number().int().positive().default(LIMITS.maxNodes),
  /** Operations in one batched request; 0 refuses every batch. */
  GRAPHQL_MAX_BATCH: z.coerce.number().int().min(0).max(100).default(LIMITS.maxBatch),
  /** Largest /graphql request body (413 above it). */
  MAX_REQUEST_BODY_BYTES: z.coerce.number().int().min(1024).default(LIMITS.maxBodyBytes),
  /** Deadline of a whole request, inherited by its gRPC calls; also the time a client has to send one. */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(300_000).default(LIMITS.timeoutMs),
  /** Persisted-operations mode: only this manifest's documents (`{"<sha256>": "<document>"}`) run; off when unset. */
  PERSISTED_OPERATIONS_FILE: z.string().min(1).optional(),
  /** Comma-separated origins (`https://app.example.com`) whose pages may read /graphql answers; none by default. */
  CORS_ORIGINS: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((o) => URL.canParse(o) && new URL(o).origin === o, "an origin is scheme://host[:port], without path or trailing slash"))),
  /** Signs the service tokens of the edge's gRPC calls (PKCS#8 PEM, Ed25519 or P-256); required in every environment. */
  SERVICE_TOKEN_PRIVATE_KEY: serviceTokenEnv.privateKey(),
  ...grpcTlsEnv,
  /** HTTPS: the edge terminates TLS itself when both are set (PEM files). */
  TLS_CERT_FILE: z.string().min(1).optional(),
  TLS_KEY_FILE: z.string().min(1).optional(),
  /** Revocations reach every edge through NATS core pub/sub; unreachable NATS only delays them to AUTH_CACHE_SECONDS. */
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** Subject prefix of this deployment (or test run): `<prefix>.auth.revoke`. */
  NATS_PREFIX: z.string().min(1).default("apgms"),
});

export type Config = z.infer<typeof configSchema>;

const edgeSchema = configSchema.superRefine((c, ctx) => {
  for (const issue of grpcTlsIssues(c)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
  if (Boolean(c.TLS_CERT_FILE) !== Boolean(c.TLS_KEY_FILE)) ctx.addIssue({ code: "custom", path: [c.TLS_CERT_FILE ? "TLS_KEY_FILE" : "TLS_CERT_FILE"], message: "TLS_CERT_FILE and TLS_KEY_FILE go together" });
});

export const readConfig = (source: NodeJS.ProcessEnv = process.env): Config => loadConfig(edgeSchema, source);
