import { env, grpcServiceEnv, grpcServiceIssues, loadConfig, parseConfig, withPageTokenKey } from "@apgms/common";
import { z } from "zod";

export const configSchema = z.object({
  /** As apgms_billing_app, the row-level-security role (never one that bypasses RLS). */
  DATABASE_URL: env.url(),
  GRPC_PORT: env.port(50052),
  /** false: this instance never relays the outbox (another one does). */
  OUTBOX_RELAY_ENABLED: env.bool(true),
  /** How often scheduled campaigns are started and campaigns past their end time ended; 0 turns it off. */
  SCHEDULE_SWEEP_SECONDS: z.coerce.number().int().min(0).max(3_600).default(15),
  ...grpcServiceEnv,
});

/** This service's name: the audience its callers' service tokens must name. */
export const SERVICE_NAME = "svc-billing";

/** The Postgres schema this service owns; the Prisma models pin it. */
export const DATABASE_SCHEMA = "billing";

export type BillingConfig = z.infer<typeof configSchema>;

const serviceSchema = configSchema.superRefine((c, ctx) => {
  for (const issue of grpcServiceIssues(c)) ctx.addIssue({ code: "custom", path: [issue.path], message: issue.message });
});

/** Like loadBillingConfig, but throws ConfigError instead of exiting. */
export function parseBillingConfig(source: NodeJS.ProcessEnv = process.env): BillingConfig {
  return withPageTokenKey(SERVICE_NAME, parseConfig(serviceSchema, source));
}

/** Reads the environment once; a bad one stops the process naming the variable. */
export function loadBillingConfig(source: NodeJS.ProcessEnv = process.env): BillingConfig {
  return withPageTokenKey(SERVICE_NAME, loadConfig(serviceSchema, source));
}
