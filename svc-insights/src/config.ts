import { env, grpcServiceEnv, grpcServiceIssues, loadConfig, parseConfig, withPageTokenKey } from "@apgms/common";
import { z } from "zod";

export const configSchema = z.object({
  /** As apgms_insights_app, the row-level-security role (never one that bypasses RLS). */
  DATABASE_URL: env.url(),
  GRPC_PORT: env.port(50053),
  /** Longest an analytics or list statement may run before it is cancelled (RESOURCE_EXHAUSTED). */
  QUERY_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(15_000),
  /** Connections of the ingestion pool (one batch holds one for its statement). */
  INGEST_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** Connections of the read pool (analytics, ListEvents, ExportEvents). */
  READ_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(8),
  /** Consume billing's domain events into insights events (false: this instance does not). */
  BILLING_EVENTS_ENABLED: env.bool(true),
  ...grpcServiceEnv,
});

/** This service's name: the audience its callers' service tokens must name. */
export const SERVICE_NAME = "svc-insights";

/** The Postgres schema this service owns; the Prisma models pin it. */
export const DATABASE_SCHEMA = "insights";

export type InsightsConfig = z.infer<typeof configSchema>;

const serviceSchema = configSchema.superRefine((c, ctx) => {
  for (const issue of grpcServiceIssues(c)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
});

/** Like loadInsightsConfig, but throws ConfigError instead of exiting. */
export function parseInsightsConfig(source: NodeJS.ProcessEnv = process.env): InsightsConfig {
  return withPageTokenKey(SERVICE_NAME, parseConfig(serviceSchema, source));
}

/** Reads the environment once; a bad one stops the process naming the variable. */
export function loadInsightsConfig(source: NodeJS.ProcessEnv = process.env): InsightsConfig {
  return withPageTokenKey(SERVICE_NAME, loadConfig(serviceSchema, source));
}
