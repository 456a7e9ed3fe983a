// svc-insights as its own process, the way the edge's tests run it.
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testServiceKeys } from "@apgms/common/testing/service-keys";
import { repoRoot } from "./identity-process.js";
import { freePort, waitFor } from "./support.js";

/** svc-insights' row-level-security role (its migration creates it). */
export const INSIGHTS_APP_ROLE = "apgms_insights_app";

/** A fresh database with svc-insights' migrations applied (as the tables' owner). */
export async function insightsDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase({ prefix });
  await deployMigrations({ databaseUrl: db.url, schema: "insights", migrationsDir: path.join(repoRoot, "svc-insights/prisma/migrations") });
  return db;
}

export interface InsightsProcess {
  address: string;
  port: number;
  child: ChildProcess;
  /** Its Redis keys' prefix (its answer cache). */
  redisPrefix: string;
  /** SIGTERM, then waits for the exit; nothing if it already exited. */
  stop(): Promise<void>;
}

/**
 * Starts `svc-insights/dist/src/main.js` on `db` as its row-level-security
 * role, with the test service key, a Redis key prefix of its own within the
 * run's, billing's events off (the edge's tests send their own) and `env`
 * over that; waits until its health check answers SERVING.
 */
export async function spawnInsights(db: TestDatabase, env: Record<string, string> = {}): Promise<InsightsProcess> {
  const port = await freePort();
  const redisPrefix = `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}insights-${randomBytes(4).toString("hex")}:`;
  const child = spawn(process.execPath, [path.join(repoRoot, "svc-insights/dist/src/main.js")], {
    env: {
      ...process.env,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
      SERVICE_TOKEN_PUBLIC_KEYS: testServiceKeys().publicKeyPem,
      DATABASE_URL: db.urlAs(INSIGHTS_APP_ROLE),
      PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
      REDIS_KEY_PREFIX: redisPrefix,
      BILLING_EVENTS_ENABLED: "false",
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
    await waitFor(`svc-insights on ${address}`, async () => (await health.check("", 500)) === "SERVING");
  } catch (err) {
    await stop();
    throw err;
  } finally {
    health.close();
  }
  return { address, port, child, redisPrefix, stop };
}
