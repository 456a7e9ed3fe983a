import { telemetry } from "./instrument.js";
import { checkRowLevelSecurity, createLogger, createServiceTokenVerifier, exitOnSignals, TenantReader } from "@apgms/common";
import { DATABASE_SCHEMA, loadBillingConfig, SERVICE_NAME } from "./config.js";
import { APP_ROLE, createPrisma } from "./db/client.js";
import { buildServer } from "./server.js";
import { connectBillingCache } from "./cache.js";

async function main(): Promise<void> {
  const config = loadBillingConfig();
  const logger = createLogger(SERVICE_NAME, { level: config.LOG_LEVEL });
  const prisma = createPrisma({ databaseUrl: config.DATABASE_URL, schema: DATABASE_SCHEMA });
  await checkRowLevelSecurity(prisma, APP_ROLE, logger);
  const serviceTokens = createServiceTokenVerifier({ audience: SERVICE_NAME, keys: config.SERVICE_TOKEN_PUBLIC_KEYS });
  const cache = connectBillingCache(config, logger);
  const reader = new TenantReader({ databaseUrl: config.DATABASE_URL });
  const handle = buildServer({ config, prisma, logger, cache: cache.cache, reader, serviceTokens, tls: config });
  exitOnSignals(logger, async () => {
    await handle.shutdown();
    await cache.close();
    await telemetry.shutdown();
  });
  await handle.listen(config.GRPC_HOST, config.GRPC_PORT);
}

main().catch((err: unknown) => {
  process.stderr.write(`svc-billing failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
