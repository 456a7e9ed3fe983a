// The environment every gRPC service reads alike, and its checks: spread
// `grpcServiceEnv` into a service's schema, refine it with
// `grpcServiceIssues`, and pass what parseConfig returns through
// `withPageTokenKey`. Services add their own fields around it.
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { env } from "./config.js";
import { grpcTlsEnv, grpcTlsIssues, type GrpcTlsConfig } from "./grpc/tls.js";
import { createLogger } from "./logger.js";
import { PAGE_TOKEN_MIN_KEY_BYTES } from "./pagination.js";
import { serviceTokenEnv } from "./service-token-keys.js";

export const grpcServiceEnv = {
  GRPC_HOST: z.string().min(1).default("127.0.0.1"),
  LOG_LEVEL: env.logLevel(),
  /** Hot reads go through Redis (docs/architecture.md, "Read-through cache"). */
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** Prefixes every key (one prefix per deployment; tests use one per run). */
  REDIS_KEY_PREFIX: z.string().default("apgms:"),
  /** false: every read goes to Postgres (to measure the cold path, or if Redis is not wanted at all). */
  READ_CACHE_ENABLED: env.bool(true),
  /** How long a cached entry lives at most (each gets ±10% jitter); writes invalidate at once anyway. */
  READ_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** Names this deployment's streams and subjects; tests use one per run. */
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
  /** Public keys of the service tokens callers sign with; PEM, several during a rotation. Required in every environment. */
  SERVICE_TOKEN_PUBLIC_KEYS: serviceTokenEnv.publicKeys(),
  ...grpcTlsEnv,
};

type ServiceFields = GrpcTlsConfig & { NODE_ENV: string; PAGE_TOKEN_SECRET: string[] };

/** What fields alone cannot check: TLS files that go together, and page-token keys in production. */
export function grpcServiceIssues(c: ServiceFields): Array<{ path: string; message: string }> {
  const issues = grpcTlsIssues(c);
  if (c.NODE_ENV === "production" && c.PAGE_TOKEN_SECRET.length === 0) {
    issues.push({ path: "PAGE_TOKEN_SECRET", message: `required when NODE_ENV=production (comma-separated keys of ${PAGE_TOKEN_MIN_KEY_BYTES}+ bytes)` });
  }
  return issues;
}

/**
 * Without PAGE_TOKEN_SECRET (development, test), page tokens are signed with a
 * random key of this process: they stop working when it restarts and on any
 * other replica. Said once, as a warning.
 */
export function withPageTokenKey<T extends { PAGE_TOKEN_SECRET: string[]; LOG_LEVEL: string }>(service: string, config: T): T {
  if (config.PAGE_TOKEN_SECRET.length > 0) return config;
  createLogger(service, { level: config.LOG_LEVEL }).warn(
    "PAGE_TOKEN_SECRET is not set: page tokens are signed with a random key of this process and break on restart or another replica",
  );
  return { ...config, PAGE_TOKEN_SECRET: [randomBytes(PAGE_TOKEN_MIN_KEY_BYTES).toString("base64url")] };
}
