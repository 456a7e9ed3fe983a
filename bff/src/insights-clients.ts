import { connect, type ClientOptions } from "@apgms/common/grpc/client";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import type { GrpcTlsConfig } from "@apgms/common/grpc/tls";
import type { ServiceTokenMinter } from "@apgms/common/service-token";
import { AnalyticsServiceClient } from "@apgms/proto/apgms/insights/v1/analytics";
import { EventServiceClient } from "@apgms/proto/apgms/insights/v1/event";

/** The audience of the service tokens svc-insights accepts. */
export const INSIGHTS_AUDIENCE = "svc-insights";

export interface InsightsClientOptions extends Omit<ClientOptions, "credentials"> {
  /** Mints each call's service token (tenant and principal of the request); svc-insights refuses calls without one. */
  serviceTokens?: ServiceTokenMinter;
  /** TLS to svc-insights (GRPC_TLS_*); plaintext when no CA is set. */
  tls?: GrpcTlsConfig;
}

/**
 * Reads may be retried on UNAVAILABLE. IngestEvents is safe to repeat (stored
 * ids count as duplicates) but is not retried: a retry after a lost reply
 * would report the batch's events as duplicates instead of accepted.
 * SetDimensions is never retried either (it rolls up every stored event).
 */
const idempotent = (method: string) => /^(list|timeSeries|breakdown|funnel|retention)/.test(method);

/** Typed clients for svc-insights' event and analytics services, sharing one HTTP/2 connection, and its health check. */
export function createInsightsClients(address: string, options: InsightsClientOptions = {}) {
  const { serviceTokens, tls, ...rest } = options;
  const base = { isIdempotent: idempotent, ...rest, tls, credentials: serviceTokens?.forAudience(INSIGHTS_AUDIENCE) };
  const events = connect(EventServiceClient, address, base);
  const shared = { ...base, channel: events.raw.getChannel() };
  const health = createHealthClient(address, tls);
  return {
    events: events.client,
    analytics: connect(AnalyticsServiceClient, address, shared).client,
    /** grpc.health.v1 of svc-insights over the same transport settings (no service token needed). */
    health: { check: health.check },
    close: () => {
      health.close();
      events.raw.close();
    },
  };
}

export type InsightsClients = ReturnType<typeof createInsightsClients>;
