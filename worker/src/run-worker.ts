// What main runs, and what the tests run with their own job kinds: connect,
// declare the topology, start the runner; stop() drains it, then closes NATS
// and Postgres.
import type { Logger } from "@apgms/common";
import { connectNats } from "@apgms/common/nats/connect";
import { checkRowLevelSecurity } from "@apgms/common";
import { DATABASE_SCHEMA, SERVICE_NAME } from "./config.js";
import { APP_ROLE, createPrisma } from "./db/client.js";
import type { Job } from "./jobs/define.js";
import { startJobRunner, type JobRunner } from "./jobs/runner.js";
import { ensureTopology, workerTopology } from "./jobs/topology.js";

export interface RunWorkerOptions {
  natsUrl: string;
  natsPrefix: string;
  /** As apgms_worker_app. */
  databaseUrl: string;
  poolSize: number;
  drainTimeoutMs: number;
  jobs: readonly Job[];
  logger: Logger;
}

export interface RunningWorker {
  runner: JobRunner;
  stop(): Promise<void>;
}

export async function runWorker(options: RunWorkerOptions): Promise<RunningWorker> {
  const { natsUrl, natsPrefix, databaseUrl, poolSize, drainTimeoutMs, jobs, logger } = options;
  const prisma = createPrisma({ databaseUrl, schema: DATABASE_SCHEMA, maxConnections: poolSize });
  await checkRowLevelSecurity(prisma, APP_ROLE, logger);
  const nc = await connectNats({ url: natsUrl, name: SERVICE_NAME, waitOnFirstConnect: true });
  const topology = workerTopology(natsPrefix, jobs);
  await ensureTopology(nc, topology);
  const runner = await startJobRunner({ nc, prisma, topology, logger, drainTimeoutMs });
  return {
    runner,
    async stop() {
      await runner.stop();
      await nc.drain().catch(() => nc.close()); // sends the last acks
      await prisma.$disconnect();
    },
  };
}
