import { randomBytes } from "node:crypto";
import { createLogger, env, grpcTlsEnv, grpcTlsIssues, loadConfig, parseConfig, PAGE_TOKEN_MIN_KEY_BYTES, serviceTokenEnv } from "@apgms/common";
import { z } from "zod";

export const configSchema = z.object({
  /** As apgms_insights_app, the row-level-security role (never one that bypasses RLS). */
  DATABASE_URL: env.url(),
  GRPC_HOST: z.string().min(1).default("127.0.0.1"),
  GRPC_PORT: env.port(50053),
  LOG_LEVEL: env.logLevel(),
  /** Analytics answers are cached in Redis until the tenant's next ingested batch (src/cache.ts). */
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  REDIS_KEY_PREFIX: z.string().default("apgms:"),
  READ_CACHE_ENABLED: env.bool(true),
  READ_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** Longest an analytics or list statement may run before it is cancelled (RESOURCE_EXHAUSTED). */
  QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** Connections of the ingestion pool (one batch holds one for its statement). */
  INGEST_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** Connections of the read pool (analytics, ListEvents, ExportEvents). */
  READ_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(8),
  /** NATS with JetStream: billing's events arrive on its stream (src/billing-consumer.ts). */
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** Names the streams and subjects of this deployment, as the other services' NATS_PREFIX. */
  NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only").default("apgms"),
  /** Consume billing's domain events into insights events (false: this instance does not). */
  BILLING_EVENTS_ENABLED: env.bool(true),
  NODE_ENV: env.nodeEnv(),
  /** HMAC keys of page tokens, as the other services' (comma-separated, 32+ bytes each; the first signs). */
  PAGE_TOKEN_SECRET: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((k) => Buffer.byteLength(k) >= PAGE_TOKEN_MIN_KEY_BYTES, `each key must be at least ${PAGE_TOKEN_MIN_KEY_BYTES} bytes`))),
  SERVICE_TOKEN_PUBLIC_KEYS: serviceTokenEnv.publicKeys(),
  ...grpcTlsEnv,
});

/** This service's name: the audience its callers' service tokens must name. */
export const SERVICE_NAME = "svc-insights";

/** The Postgres schema this service owns; the Prisma models pin it. */
export const DATABASE_SCHEMA = "insights";

export type InsightsConfig = z.infer<typeof configSchema>;

const serviceSchema = configSchema.superRefine((c, ctx) => {
  for (const issue of grpcTlsIssues(c)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
  if (c.NODE_ENV === "production" && c.PAGE_TOKEN_SECRET.length === 0) {
    ctx.addIssue({ code: "custom", path: ["PAGE_TOKEN_SECRET"], message: `required when NODE_ENV=production (comma-separated keys of ${PAGE_TOKEN_MIN_KEY_BYTES}+ bytes)` });
  }
});

/** Without PAGE_TOKEN_SECRET (development, test) page tokens use a random key of this process (said once, as a warning). */
function withPageTokenKey(config: InsightsConfig): InsightsConfig {
  if (config.PAGE_TOKEN_SECRET.length > 0) return config;
  createLogger(SERVICE_NAME, { level: config.LOG_LEVEL }).warn(
    "PAGE_TOKEN_SECRET is not set: page tokens are signed with a random key of this process and break on restart or another replica",
  );
  return { ...config, PAGE_TOKEN_SECRET: [randomBytes(PAGE_TOKEN_MIN_KEY_BYTES).toString("base64url")] };
}

export function parseInsightsConfig(source: NodeJS.ProcessEnv = process.env): InsightsConfig {
  return withPageTokenKey(parseConfig(serviceSchema, source));
}

/** Reads the environment once; a bad one stops the process naming the variable. */
export function loadInsightsConfig(source: NodeJS.ProcessEnv = process.env): InsightsConfig {
  return withPageTokenKey(loadConfig(serviceSchema, source));
}
