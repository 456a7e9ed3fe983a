import { env, loadConfig, parseConfig } from "@apgms/common";
import { z } from "zod";

export const configSchema = z.object({
  /** As apgms_worker_app, the row-level-security role (never one that bypasses RLS). */
  DATABASE_URL: env.url(),
  LOG_LEVEL: env.logLevel(),
  /** NATS with JetStream: the jobs and dead-letter streams (src/jobs/topology.ts). */
  NATS_URL: z.string().min(1).default("nats://127.0.0.1:4222"),
  /** Names the streams and subjects of this deployment, as the services' NATS_PREFIX. */
  NATS_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "letters, digits, _ and - only").default("apgms"),
  /** Connections of the pool the handlers' transactions use. */
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(8),
  /** On SIGTERM, how long jobs in hand may run to completion before they are handed back (nak) for another worker. */
  DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  NODE_ENV: env.nodeEnv(),
});

/** This process's name (logs, NATS connection name). */
export const SERVICE_NAME = "worker";

/** The Postgres schema the worker owns; the Prisma models pin it. */
export const DATABASE_SCHEMA = "worker";

export type WorkerConfig = z.infer<typeof configSchema>;

export function parseWorkerConfig(source: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseConfig(configSchema, source);
}

/** Reads the environment once; a bad one stops the process naming the variable. */
export function loadWorkerConfig(source: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return loadConfig(configSchema, source);
}
