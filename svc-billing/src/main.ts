import { telemetry } from "./instrument.js";
import { checkRowLevelSecurity, createLogger, createServiceTokenVerifier, exitOnSignals, TenantReader } from "@apgms/common";
import { DATABASE_SCHEMA, loadBillingConfig, SERVICE_NAME } from "./config.js";
import { APP_ROLE, createPrisma } from "./db/client.js";
import { buildServer } from "./server.js";
import { connectBillingCache } from "./cache.js";
import { connectNats, type NatsConnection } from "@apgms/common/nats/connect";
import { OutboxWake, outboxWakeSubject, startOutboxRelay, type OutboxRelay } from "@apgms/common/outbox/index";
import { startScheduleSweep } from "./schedule-sweep.js";

async function main(): Promise<void> {
  const config = loadBillingConfig();
  const logger = createLogger(SERVICE_NAME, { level: config.LOG_LEVEL });
  const prisma = createPrisma({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA });
  const platform = createPrisma({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA, scope: "platform", maxConnections: 2 });
  await checkRowLevelSecurity(prisma, APP_ROLE, logger);
  const serviceTokens = createServiceTokenVerifier({ audience: SERVICE_NAME, keys: config.SERVICE_TOKEN_PUBLIC_KEYS });
  const cache = connectBillingCache(config, logger);
  const reader = new TenantReader({ databaseUrl: config.DATABASE_URL });
  const outbox = new OutboxWake(outboxWakeSubject(config.NATS_PREFIX, "billing"));
  const handle = buildServer({ config, prisma, logger, cache: cache.cache, reader, serviceTokens, outbox, tls: config });
  const stopSweep = startScheduleSweep(prisma, platform, cache.cache, logger, config.SCHEDULE_SWEEP_SECONDS, outbox);
  // Writes never wait for NATS: the service starts without it, and the relay publishes the outbox
  // once NATS answers (the connection then reconnects by itself after any drop).
  let nc: NatsConnection | undefined;
  let relay: OutboxRelay | undefined;
  connectNats({ url: config.NATS_URL, name: SERVICE_NAME, waitOnFirstConnect: true }).then(
    (connection) => {
      nc = connection;
      outbox.connect(connection);
      if (config.OUTBOX_RELAY_ENABLED) {
        relay = startOutboxRelay({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA, nats: connection, prefix: config.NATS_PREFIX, domain: "billing", logger, wake: outbox });
      }
    },
    (err: unknown) => logger.error({ err }, "NATS: could not connect; the outbox is not relayed by this instance"),
  );
  exitOnSignals(logger, async () => {
    stopSweep();
    await relay?.stop();
    await nc?.drain();
    await handle.shutdown();
    await platform.$disconnect();
    await cache.close();
    await telemetry.shutdown();
  });
  await handle.listen(config.GRPC_HOST, config.GRPC_PORT);
}

main().catch((err: unknown) => {
  process.stderr.write(`svc-billing failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
