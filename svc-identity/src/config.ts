import { randomBytes } from "node:crypto";
import { createLogger, env, grpcTlsEnv, grpcTlsIssues, loadConfig, parseConfig, PAGE_TOKEN_MIN_KEY_BYTES, serviceTokenEnv } from "@apgms/common";
import { z } from "zod";
import { MAX_GRACE_SECONDS } from "./domain/grace-period.js";

export const configSchema = z.object({
  DATABASE_URL: env.url(),
  GRPC_HOST: z.string().min(1).default("127.0.0.1"),
  GRPC_PORT: env.port(50051),
  LOG_LEVEL: env.logLevel(),
  /** How long a soft-deleted tenant is kept before its purge. */
  TENANT_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  /** Grace period of a rotated API key's old secret when the caller asks for 0. */
  API_KEY_GRACE_DEFAULT_SECONDS: z.coerce.number().int().min(0).max(MAX_GRACE_SECONDS).default(86_400),
  /** How long an invitation (and each resent code) can be accepted. */
  INVITATION_TTL_HOURS: z.coerce.number().int().min(1).max(2160).default(168),
  /** How often this process purges tenants past their retention window; 0 turns the sweep off. */
  TENANT_PURGE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  /** Hot reads (tenants, users, accounts, API keys) go through Redis: see docs/architecture.md, "Read-through cache". */
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** Prefixes every key (one prefix per deployment; tests use one per run). */
  REDIS_KEY_PREFIX: z.string().default("apgms:"),
  /** false: every read goes to Postgres (to measure the cold path, or if Redis is not wanted at all). */
  READ_CACHE_ENABLED: env.bool(true),
  /** How long a cached row lives at most (each entry gets ±10% jitter); writes invalidate at once anyway. */
  READ_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** NATS with JetStream: the audit trail arrives on a stream this service consumes. */
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** Names this deployment's streams and subjects (`<prefix>_AUDIT`, `<prefix>.audit.events`); tests use one per run. */
  NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only").default("apgms"),
  /** `production` (the default) requires PAGE_TOKEN_SECRET; development and test make up a key. */
  NODE_ENV: env.nodeEnv(),
  /**
   * HMAC keys of page tokens, comma-separated, each at least 32 bytes: the first signs, every one
   * verifies (rotation). Every replica needs the same list, or a token from one fails on another.
   */
  PAGE_TOKEN_SECRET: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((k) => Buffer.byteLength(k) >= PAGE_TOKEN_MIN_KEY_BYTES, `each key must be at least ${PAGE_TOKEN_MIN_KEY_BYTES} bytes`))),
  /** Public keys of the service tokens callers (the edge) sign with; PEM, several during a rotation. Required in every environment. */
  SERVICE_TOKEN_PUBLIC_KEYS: serviceTokenEnv.publicKeys(),
  ...grpcTlsEnv,
});

/** This service's name: the audience its callers' service tokens must name. */
export const SERVICE_NAME = "svc-identity";

/** The Postgres schema this service owns; the Prisma models pin it. */
export const DATABASE_SCHEMA = "identity";

export type IdentityConfig = z.infer<typeof configSchema>;

const serviceSchema = configSchema.superRefine((c, ctx) => {
  for (const issue of grpcTlsIssues(c)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
  if (c.NODE_ENV === "production" && c.PAGE_TOKEN_SECRET.length === 0) {
    ctx.addIssue({ code: "custom", path: ["PAGE_TOKEN_SECRET"], message: `required when NODE_ENV=production (comma-separated keys of ${PAGE_TOKEN_MIN_KEY_BYTES}+ bytes)` });
  }
});

/**
 * Without PAGE_TOKEN_SECRET (development, test), page tokens are signed with a
 * random key of this process: they stop working when it restarts and on any
 * other replica. Said once, as a warning.
 */
function withPageTokenKey(config: IdentityConfig): IdentityConfig {
  if (config.PAGE_TOKEN_SECRET.length > 0) return config;
  createLogger("svc-identity", { level: config.LOG_LEVEL }).warn(
    "PAGE_TOKEN_SECRET is not set: page tokens are signed with a random key of this process and break on restart or another replica",
  );
  return { ...config, PAGE_TOKEN_SECRET: [randomBytes(PAGE_TOKEN_MIN_KEY_BYTES).toString("base64url")] };
}

/** Like loadIdentityConfig, but throws ConfigError instead of exiting. */
export function parseIdentityConfig(source: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return withPageTokenKey(parseConfig(serviceSchema, source));
}

/** Reads the environment once; a bad one stops the process naming the variable. */
export function loadIdentityConfig(source: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return withPageTokenKey(loadConfig(serviceSchema, source));
}
