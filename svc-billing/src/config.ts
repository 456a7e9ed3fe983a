import { randomBytes } from "node:crypto";
import { createLogger, env, grpcTlsEnv, grpcTlsIssues, loadConfig, parseConfig, PAGE_TOKEN_MIN_KEY_BYTES, serviceTokenEnv } from "@apgms/common";
import { z } from "zod";

export const configSchema = z.object({
  /** As apgms_billing_app, the row-level-security role (never one that bypasses RLS). */
  DATABASE_URL: env.url(),
  GRPC_HOST: z.string().min(1).default("127.0.0.1"),
  GRPC_PORT: env.port(50052),
  LOG_LEVEL: env.logLevel(),
  /** Campaign, offer and totals reads go through Redis: see docs/architecture.md, "Read-through cache". */
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  REDIS_KEY_PREFIX: z.string().default("apgms:"),
  READ_CACHE_ENABLED: env.bool(true),
  READ_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  /** NATS with JetStream: the outbox relay publishes billing's events there. */
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** Names this deployment's streams and subjects (`<prefix>.<tenant>.billing.<event>`); tests use one per run. */
  NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only").default("apgms"),
  /** false: this instance never relays the outbox (another one does). */
  OUTBOX_RELAY_ENABLED: env.bool(true),
  /** How often scheduled campaigns are started and campaigns past their end time ended; 0 turns it off. */
  SCHEDULE_SWEEP_SECONDS: z.coerce.number().int().min(0).max(3_600).default(15),
  NODE_ENV: env.nodeEnv(),
  /** HMAC keys of page tokens, as svc-identity's (comma-separated, 32+ bytes each; the first signs). */
  PAGE_TOKEN_SECRET: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((k) => k.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine((k) => Buffer.byteLength(k) >= PAGE_TOKEN_MIN_KEY_BYTES, `each key must be at least ${PAGE_TOKEN_MIN_KEY_BYTES} bytes`))),
  SERVICE_TOKEN_PUBLIC_KEYS: serviceTokenEnv.publicKeys(),
  ...grpcTlsEnv,
});

/** This service's name: the audience its callers' service tokens must name. */
export const SERVICE_NAME = "svc-billing";

/** The Postgres schema this service owns; the Prisma models pin it. */
export const DATABASE_SCHEMA = "billing";

export type BillingConfig = z.infer<typeof configSchema>;

const serviceSchema = configSchema.superRefine((c, ctx) => {
  for (const issue of grpcTlsIssues(c)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
  if (c.NODE_ENV === "production" && c.PAGE_TOKEN_SECRET.length === 0) {
    ctx.addIssue({ code: "custom", path: ["PAGE_TOKEN_SECRET"], message: `required when NODE_ENV=production (comma-separated keys of ${PAGE_TOKEN_MIN_KEY_BYTES}+ bytes)` });
  }
});

/** Without PAGE_TOKEN_SECRET (development, test) page tokens use a random key of this process (said once, as a warning). */
function withPageTokenKey(config: BillingConfig): BillingConfig {
  if (config.PAGE_TOKEN_SECRET.length > 0) return config;
  createLogger(SERVICE_NAME, { level: config.LOG_LEVEL }).warn(
    "PAGE_TOKEN_SECRET is not set: page tokens are signed with a random key of this process and break on restart or another replica",
  );
  return { ...config, PAGE_TOKEN_SECRET: [randomBytes(PAGE_TOKEN_MIN_KEY_BYTES).toString("base64url")] };
}

export function parseBillingConfig(source: NodeJS.ProcessEnv = process.env): BillingConfig {
  return withPageTokenKey(parseConfig(serviceSchema, source));
}

/** Reads the environment once; a bad one stops the process naming the variable. */
export function loadBillingConfig(source: NodeJS.ProcessEnv = process.env): BillingConfig {
  return withPageTokenKey(loadConfig(serviceSchema, source));
}
