import { env, grpcServiceEnv, grpcServiceIssues, loadConfig, parseConfig, withPageTokenKey } from "@apgms/common";
import { z } from "zod";
import { MAX_GRACE_SECONDS } from "./domain/grace-period.js";

export const configSchema = z.object({
  DATABASE_URL: env.url(),
  GRPC_PORT: env.port(50051),
  /** How long a soft-deleted tenant is kept before its purge. */
  TENANT_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(30),
  /** Grace period of a rotated API key's old secret when the caller asks for 0. */
  API_KEY_GRACE_DEFAULT_SECONDS: z.coerce.number().int().min(0).max(MAX_GRACE_SECONDS).default(86_400),
  /** How long an invitation (and each resent code) can be accepted. */
  INVITATION_TTL_HOURS: z.coerce.number().int().min(1).max(2160).default(168),
  /** How often this process purges tenants past their retention window; 0 turns the sweep off. */
  TENANT_PURGE_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  ...grpcServiceEnv,
});

/** This service's name: the audience its callers' service tokens must name. */
export const SERVICE_NAME = "svc-identity";

/** The Postgres schema this service owns; the Prisma models pin it. */
export const DATABASE_SCHEMA = "identity";

export type IdentityConfig = z.infer<typeof configSchema>;

const serviceSchema = configSchema.superRefine((c, ctx) => {
  for (const issue of grpcServiceIssues(c)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
});

/** Like loadIdentityConfig, but throws ConfigError instead of exiting. */
export function parseIdentityConfig(source: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return withPageTokenKey(SERVICE_NAME, parseConfig(serviceSchema, source));
}

/** Reads the environment once; a bad one stops the process naming the variable. */
export function loadIdentityConfig(source: NodeJS.ProcessEnv = process.env): IdentityConfig {
  return withPageTokenKey(SERVICE_NAME, loadConfig(serviceSchema, source));
}
