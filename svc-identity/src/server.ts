import { createGrpcServer, type GrpcServerHandle, type GrpcTlsConfig, type Logger, type ServiceTokenVerifier, type TenantReader } from "@apgms/common";
import type { IdentityCache } from "./cache.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { accountService } from "./handlers/account-service.js";
import { apiKeyService } from "./handlers/api-key-service.js";
import { auditService } from "./handlers/audit-service.js";
import { invitationService } from "./handlers/invitation-service.js";
import { membershipService } from "./handlers/membership-service.js";
import { principalService } from "./handlers/principal-service.js";
import type { HandlerDeps } from "./handlers/scope.js";
import { sessionService } from "./handlers/session-service.js";
import { tenantService } from "./handlers/tenant-service.js";
import { userService } from "./handlers/user-service.js";
import { descriptorSetPath } from "@apgms/common/grpc/descriptor-set";

export interface BuildServerOptions {
  config: HandlerDeps["config"];
  prisma: PrismaClient;
  /** The same database and role, every connection in the platform scope (createPrisma scope "platform"). */
  platform: PrismaClient;
  logger: Logger;
  /** The read-through cache (identityCache); its Redis connection is the caller's to close. */
  cache: IdentityCache;
  /** One-round-trip reads as a tenant, as the service's role; closed with Prisma on shutdown. */
  reader: TenantReader;
  /** Verifies the service token every call must carry (audience svc-identity). */
  serviceTokens: ServiceTokenVerifier;
  tls?: GrpcTlsConfig;
  /** How long in-flight calls get on shutdown; the library default otherwise. */
  drainTimeoutMs?: number;
}

/** Wires the nine identity services (audit included), health and reflection; closing Prisma is the last shutdown step. */
export function buildServer(options: BuildServerOptions): GrpcServerHandle {
  const { config, prisma, platform, logger, cache, reader, serviceTokens, tls, drainTimeoutMs } = options;
  const deps: HandlerDeps = { config, prisma, platform, logger, cache, reader };
  return createGrpcServer({
    logger,
    serviceTokens,
    tls,
    services: [
      tenantService(deps),
      accountService(deps),
      userService(deps),
      sessionService(deps),
      apiKeyService(deps),
      principalService(deps),
      invitationService(deps),
      membershipService(deps),
      auditService(deps),
    ],
    descriptorSetPath: descriptorSetPath(),
    drainTimeoutMs,
    onShutdown: [() => prisma.$disconnect(), () => platform.$disconnect(), () => reader.close()],
  });
}
