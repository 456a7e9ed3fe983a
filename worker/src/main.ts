import { createLogger, exitOnSignals } from "@apgms/common";
import { loadWorkerConfig, SERVICE_NAME } from "./config.js";
import { JOBS } from "./jobs/catalog.js";
import { runWorker } from "./run-worker.js";

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const logger = createLogger(SERVICE_NAME, { level: config.LOG_LEVEL });
  const worker = await runWorker({
    natsUrl: config.NATS_URL,
    natsPrefix: config.NATS_PREFIX,
    databaseUrl: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    drainTimeoutMs: config.DRAIN_TIMEOUT_MS,
    jobs: JOBS,
    logger,
  });
  // SIGTERM: stop pulling, finish (or hand back) the jobs in hand, send their acks, exit 0.
  exitOnSignals(logger, () => worker.stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`worker failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
