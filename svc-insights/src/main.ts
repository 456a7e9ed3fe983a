import { telemetry } from "./instrument.js";
import { checkRowLevelSecurity, createLogger, createServiceTokenVerifier, exitOnSignals, TenantReader } from "@apgms/common";
import { connectAnswerCache } from "./cache.js";
import { DATABASE_SCHEMA, loadInsightsConfig, SERVICE_NAME } from "./config.js";
import { APP_ROLE, createPrisma } from "./db/client.js";
import { withStatementTimeout } from "./db/pools.js";
import { runBillingConsumer } from "./run-billing-consumer.js";
import { buildServer } from "./server.js";

async function main(): Promise<void> {
  const config = loadInsightsConfig();
  const logger = createLogger(SERVICE_NAME, { level: config.LOG_LEVEL });
  // Prisma only checks the role here: every statement of the service is raw SQL through the two pools below.
  const prisma = createPrisma({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA, maxConnections: 1 });
  await checkRowLevelSecurity(prisma, APP_ROLE, logger);
  await prisma.$disconnect();
  const serviceTokens = createServiceTokenVerifier({ audience: SERVICE_NAME, keys: config.SERVICE_TOKEN_PUBLIC_KEYS });
  const cache = connectAnswerCache(config, logger);
  const writer = new TenantReader({ databaseUrl: config.DATABASE_URL, max: config.INGEST_POOL_SIZE });
  const reader = new TenantReader({ databaseUrl: withStatementTimeout(config.DATABASE_URL, config.QUERY_TIMEOUT_MS), max: config.READ_POOL_SIZE });
  const handle = buildServer({ config, logger, writer, reader, cache: cache.cache, serviceTokens, tls: config });
  const billingEvents = config.BILLING_EVENTS_ENABLED
    ? runBillingConsumer({ natsUrl: config.NATS_URL, prefix: config.NATS_PREFIX, databaseUrl: config.DATABASE_URL, cache: cache.cache, logger })
    : undefined;
  exitOnSignals(logger, async () => {
    // First the consumer: the batch in hand commits and is acknowledged while the cache is still open.
    await billingEvents?.stop();
    await handle.shutdown();
    await cache.close();
    await telemetry.shutdown();
  });
  await handle.listen(config.GRPC_HOST, config.GRPC_PORT);
}

main().catch((err: unknown) => {
  process.stderr.write(`svc-insights failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
