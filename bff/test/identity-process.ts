// svc-identity as its own process, the way the edge's tests run it.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import type { GrpcTlsConfig } from "@apgms/common/grpc/tls";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testServiceKeys } from "@apgms/common/testing/service-keys";
import { freePort, waitFor } from "./support.js";

export const repoRoot = path.resolve(__dirname, "../../..");

/** A fresh database with svc-identity's migrations applied (as the tables' owner). */
export async function identityDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase({ prefix });
  await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir: path.join(repoRoot, "svc-identity/prisma/migrations") });
  return db;
}

export interface IdentityProcess {
  /** host:port to dial (the host is `options.host`, default 127.0.0.1). */
  address: string;
  port: number;
  child: ChildProcess;
  /** SIGTERM, then waits for the exit; nothing if it already exited. */
  stop(): Promise<void>;
}

export interface SpawnIdentityOptions {
  /** Listen on this port (to restart on the same one); default a free one. */
  port?: number;
  /** The host name in `address` (a TLS certificate's name, say). */
  host?: string;
  /** TLS of the health check that decides it is up. */
  tls?: GrpcTlsConfig;
}

/**
 * Starts `svc-identity/dist/src/main.js` with the run's environment, the test
 * service key and `env` (which must give DATABASE_URL, as the service's
 * row-level-security role), and waits until its health check answers SERVING.
 */
export async function spawnIdentity(env: Record<string, string>, options: SpawnIdentityOptions = {}): Promise<IdentityProcess> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [path.join(repoRoot, "svc-identity/dist/src/main.js")], {
    env: {
      ...process.env,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
      SERVICE_TOKEN_PUBLIC_KEYS: testServiceKeys().publicKeyPem,
      ...env,
      GRPC_PORT: String(port),
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const address = `${options.host ?? "127.0.0.1"}:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const health = createHealthClient(address, options.tls);
  try {
    await waitFor(`svc-identity on ${address}`, async () => (await health.check("", 500)) === "SERVING");
  } catch (err) {
    await stop();
    throw err;
  } finally {
    health.close();
  }
  return { address, port, child, stop };
}
