import { telemetry } from "./instrument.js";
import { readFileSync } from "node:fs";
import { createLogger } from "@apgms/common/logger";
import { createRedis } from "@apgms/common/redis";
import { createServiceTokenMinter } from "@apgms/common/service-token";
import { exitOnSignals } from "@apgms/common/shutdown";
import { buildApp } from "./app.js";
import { createJwtVerifier, discoverJwksUri } from "./auth/jwt-verifier.js";
import { natsRevocations } from "./auth/revocations.js";
import { startStoredAudit } from "./audit/start.js";
import { readConfig } from "./config.js";
import { createBillingClients } from "./billing-clients.js";
import { createIdentityClients } from "./identity-clients.js";
import { createInsightsClients } from "./insights-clients.js";

async function main(): Promise<void> {
  const config = readConfig();
  const logger = createLogger("bff", { level: config.LOG_LEVEL });
  const jwksUri = config.OIDC_JWKS_URI ?? (await discoverJwksUri(config.OIDC_ISSUER));
  const jwt = createJwtVerifier({
    issuer: config.OIDC_ISSUER,
    audience: config.OIDC_AUDIENCE,
    jwksUri,
    clockToleranceSeconds: config.OIDC_CLOCK_TOLERANCE_SECONDS,
  });
  const serviceTokens = createServiceTokenMinter({ key: config.SERVICE_TOKEN_PRIVATE_KEY, issuer: "bff" });
  const identity = createIdentityClients(config.IDENTITY_GRPC_ADDRESS, { timeoutMs: config.GRPC_TIMEOUT_MS, serviceTokens, tls: config });
  const billing = createBillingClients(config.BILLING_GRPC_ADDRESS, { timeoutMs: config.GRPC_TIMEOUT_MS, serviceTokens, tls: config });
  const insights = createInsightsClients(config.INSIGHTS_GRPC_ADDRESS, { timeoutMs: config.GRPC_TIMEOUT_MS, serviceTokens, tls: config });
  const redis = createRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX, logger);
  const revocations = natsRevocations({ url: config.NATS_URL, prefix: config.NATS_PREFIX, logger });
  const https = config.TLS_CERT_FILE && config.TLS_KEY_FILE ? { cert: readFileSync(config.TLS_CERT_FILE), key: readFileSync(config.TLS_KEY_FILE) } : undefined;
  // The audit trail is stored by svc-identity from a JetStream stream; NATS must answer at start.
  const stored = await startStoredAudit({ natsUrl: config.NATS_URL, natsPrefix: config.NATS_PREFIX, logger });
  const app = buildApp({ config, logger, identity, billing, insights, redis, jwt, audit: stored.audit, revocations, https });

  app.server.listen(config.HTTP_PORT, config.HTTP_HOST, () => {
    const scheme = https ? "https" : "http";
    logger.info({ url: `${scheme}://${config.HTTP_HOST}:${config.HTTP_PORT}/graphql`, jwksUri }, "bff listening");
  });
  exitOnSignals(logger, async () => {
    await app.close();
    await stored.close();
    await revocations.close();
    identity.close();
    billing.close();
    insights.close();
    redis.disconnect();
    await telemetry.shutdown();
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`bff failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
