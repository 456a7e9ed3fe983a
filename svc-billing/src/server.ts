import { createGrpcServer, type GrpcServerHandle, type GrpcTlsConfig, type Logger, type ServiceTokenVerifier, type TenantReader } from "@apgms/common";
import type { BillingCache } from "./cache.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { campaignService } from "./handlers/campaign-service.js";
import { offerService } from "./handlers/offer-service.js";
import type { HandlerDeps } from "./handlers/scope.js";
import { transactionService } from "./handlers/transaction-service.js";
import { descriptorSetPath } from "@apgms/common/grpc/descriptor-set";
import type { OutboxWake } from "@apgms/common/outbox/index";

export interface BuildServerOptions {
  config: HandlerDeps["config"];
  prisma: PrismaClient;
  logger: Logger;
  /** The read-through cache (billingCache); its Redis connection is the caller's to close. */
  cache: BillingCache;
  /** One-round-trip statements as a tenant; closed with Prisma on shutdown. */
  reader: TenantReader;
  /** Verifies the service token every call must carry (audience svc-billing). */
  serviceTokens: ServiceTokenVerifier;
  /** Woken after each write; the relay (this instance's or another's) publishes the outbox. */
  outbox: OutboxWake;
  tls?: GrpcTlsConfig;
  drainTimeoutMs?: number;
}

/** Wires the three billing services, health and reflection; closing the database is the last shutdown step. */
export function buildServer(options: BuildServerOptions): GrpcServerHandle {
  const { config, prisma, logger, cache, reader, serviceTokens, outbox, tls, drainTimeoutMs } = options;
  const deps: HandlerDeps = { config, prisma, logger, cache, reader, outbox };
  return createGrpcServer({
    logger,
    serviceTokens,
    tls,
    services: [campaignService(deps), offerService(deps), transactionService(deps)],
    descriptorSetPath: descriptorSetPath(),
    drainTimeoutMs,
    onShutdown: [() => prisma.$disconnect(), () => reader.close()],
  });
}
