import { env, loadConfig } from "@apgms/common";
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
});

/** The Postgres schema this service owns; the Prisma models pin it. */
export const DATABASE_SCHEMA = "identity";

export type IdentityConfig = z.infer<typeof configSchema>;

/** Reads the environment once; a bad one stops the process naming the variable. */
export function loadIdentityConfig(source: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return loadConfig(configSchema, source);
}
