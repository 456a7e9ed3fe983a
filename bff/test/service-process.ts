// A domain service (svc-billing, svc-insights) as its own process, the way the edge's tests run it.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testServiceKeys } from "@apgms/common/testing/service-keys";
import { repoRoot } from "./identity-process.js";
import { freePort, waitFor } from "./support.js";

export interface ServiceSpec {
  /** "billing" | "insights": the package `svc-<name>`, its Postgres schema and its role `apgms_<name>_app`. */
  name: string;
  /** What the edge's tests switch off (e.g. the outbox relay: they read no events). */
  env: Record<string, string>;
}

export const BILLING: ServiceSpec = { name: "billing", env: { OUTBOX_RELAY_ENABLED: "false" } };
export const INSIGHTS: ServiceSpec = { name: "insights", env: { BILLING_EVENTS_ENABLED: "false" } };

/** The service's row-level-security role (its migration creates it). */
export const appRole = (spec: ServiceSpec) => `apgms_${spec.name}_app`;

/** A fresh database with the service's migrations applied (as the tables' owner). */
export async function serviceDatabase(spec: ServiceSpec, prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase({ prefix });
  await deployMigrations({ databaseUrl: db.url, schema: spec.name, migrationsDir: path.join(repoRoot, `svc-${spec.name}/prisma/migrations`) });
  return db;
}

export interface ServiceProcess {
  address: string;
  port: number;
  child: ChildProcess;
  /** Its Redis keys' prefix (its cache). */
  redisPrefix: string;
  /** SIGTERM, then waits for the exit; nothing if it already exited. */
  stop(): Promise<void>;
}

/**
 * Starts `svc-<name>/dist/src/main.js` on `db` as its row-level-security role,
 * with the test service key, a Redis key prefix of its own within the run's,
 * the spec's switches and `env` over that; waits until its health check
 * answers SERVING.
 */
export async function spawnService(spec: ServiceSpec, db: TestDatabase, env: Record<string, string> = {}): Promise<ServiceProcess> {
  const port = await freePort();
  const redisPrefix = `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}${spec.name}-${randomBytes(4).toString("hex")}:`;
  const child = spawn(process.execPath, [path.join(repoRoot, `svc-${spec.name}/dist/src/main.js`)], {
    env: {
      ...process.env,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
      SERVICE_TOKEN_PUBLIC_KEYS: testServiceKeys().publicKeyPem,
      DATABASE_URL: db.urlAs(appRole(spec)),
      PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
      REDIS_KEY_PREFIX: redisPrefix,
      ...spec.env,
      ...env,
      GRPC_PORT: String(port),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const address = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const health = createHealthClient(address);
  try {
    await waitFor(`svc-${spec.name} on ${address}`, async () => (await health.check("", 500)) === "SERVING");
  } catch (err) {
    await stop();
    throw err;
  } finally {
    health.close();
  }
  return { address, port, child, redisPrefix, stop };
}
