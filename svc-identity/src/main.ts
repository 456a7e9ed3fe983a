import { telemetry } from "./instrument.js";
import { checkRowLevelSecurity, createLogger, createServiceTokenVerifier, exitOnSignals, TenantReader } from "@apgms/common";
import { DATABASE_SCHEMA, loadIdentityConfig, SERVICE_NAME } from "./config.js";
import { APP_ROLE, createPrisma } from "./db/client.js";
import { auditStream } from "@apgms/common/audit/stream";
import { connectNats } from "@apgms/common/nats/connect";
import { startAuditConsumer } from "./audit-consumer.js";
import { startPurgeSweep } from "./purge-sweep.js";
import { buildServer } from "./server.js";
import { connectIdentityCache } from "./cache.js";

async function main(): Promise<void> {
  const config = loadIdentityConfig();
  const logger = createLogger("svc-identity", { level: config.LOG_LEVEL });
  const prisma = createPrisma({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA });
  const platform = createPrisma({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA, scope: "platform" });
  await checkRowLevelSecurity(prisma, APP_ROLE, logger);
  const serviceTokens = createServiceTokenVerifier({ audience: SERVICE_NAME, keys: config.SERVICE_TOKEN_PUBLIC_KEYS });
  const cache = connectIdentityCache(config, logger);
  const reader = new TenantReader({ databaseUrl: config.DATABASE_URL });
  const handle = buildServer({ config, prisma, platform, logger, cache: cache.cache, reader, serviceTokens, tls: config });
  const stopSweep = startPurgeSweep(prisma, cache.cache, logger, config.TENANT_PURGE_INTERVAL_SECONDS);
  const nc = await connectNats({ url: config.NATS_URL, name: "svc-identity" });
  const auditConsumer = await startAuditConsumer({ nc, db: prisma, logger, names: auditStream(config.NATS_PREFIX) });
  exitOnSignals(logger, async () => {
    stopSweep();
    await auditConsumer.stop();
    await nc.drain();
    await handle.shutdown();
    await cache.close();
    await telemetry.shutdown();
  });
  await handle.listen(config.GRPC_HOST, config.GRPC_PORT);
}

main().catch((err: unknown) => {
  process.stderr.write(`svc-identity failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
