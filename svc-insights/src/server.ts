import { createGrpcServer, type GrpcServerHandle, type GrpcTlsConfig, type Logger, type ServiceTokenVerifier, type TenantReader } from "@apgms/common";
import { descriptorSetPath } from "@apgms/common/grpc/descriptor-set";
import type { AnswerCache } from "./cache.js";
import { analyticsService } from "./handlers/analytics-service.js";
import { eventService } from "./handlers/event-service.js";
import type { HandlerDeps } from "./handlers/scope.js";

export interface BuildServerOptions {
  config: HandlerDeps["config"];
  logger: Logger;
  /** Ingestion's pool (closed on shutdown). */
  writer: TenantReader;
  /** The queries' pool (closed on shutdown). */
  reader: TenantReader;
  /** The answer cache; its Redis connection is the caller's to close. */
  cache: AnswerCache;
  /** Verifies the service token every call must carry (audience svc-insights). */
  serviceTokens: ServiceTokenVerifier;
  tls?: GrpcTlsConfig;
  drainTimeoutMs?: number;
}

/** Wires the event and analytics services, health and reflection; closing the pools is the last shutdown step. */
export function buildServer(options: BuildServerOptions): GrpcServerHandle {
  const { config, logger, writer, reader, cache, serviceTokens, tls, drainTimeoutMs } = options;
  const deps: HandlerDeps = { config, logger, writer, reader, cache };
  return createGrpcServer({
    logger,
    serviceTokens,
    tls,
    services: [eventService(deps), analyticsService(deps)],
    descriptorSetPath: descriptorSetPath(),
    drainTimeoutMs,
    onShutdown: [() => writer.close(), () => reader.close()],
  });
}
