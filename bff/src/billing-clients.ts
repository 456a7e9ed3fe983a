import { connect, type ClientOptions } from "@apgms/common/grpc/client";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import type { GrpcTlsConfig } from "@apgms/common/grpc/tls";
import type { ServiceTokenMinter } from "@apgms/common/service-token";
import { CampaignServiceClient } from "@apgms/proto/apgms/billing/v1/campaign";
import { OfferServiceClient } from "@apgms/proto/apgms/billing/v1/offer";
import { TransactionServiceClient } from "@apgms/proto/apgms/billing/v1/transaction";

/** The audience of the service tokens svc-billing accepts. */
export const BILLING_AUDIENCE = "svc-billing";

export interface BillingClientOptions extends Omit<ClientOptions, "credentials"> {
  /** Mints each call's service token (tenant and principal of the request); svc-billing refuses calls without one. */
  serviceTokens?: ServiceTokenMinter;
  /** TLS to svc-billing (GRPC_TLS_*); plaintext when no CA is set. */
  tls?: GrpcTlsConfig;
}

/** Reads, and ValidateRedemption (it writes nothing), may be retried on UNAVAILABLE; Redeem and the other writes never are. */
const idempotent = (method: string) => /^(get|batchGet|list|validate)/.test(method);

/** Typed clients for every svc-billing service, sharing one HTTP/2 connection, and its health check. */
export function createBillingClients(address: string, options: BillingClientOptions = {}) {
  const { serviceTokens, tls, ...rest } = options;
  const base = { isIdempotent: idempotent, ...rest, tls, credentials: serviceTokens?.forAudience(BILLING_AUDIENCE) };
  const campaigns = connect(CampaignServiceClient, address, base);
  const shared = { ...base, channel: campaigns.raw.getChannel() };
  const health = createHealthClient(address, tls);
  return {
    campaigns: campaigns.client,
    offers: connect(OfferServiceClient, address, shared).client,
    transactions: connect(TransactionServiceClient, address, shared).client,
    /** grpc.health.v1 of svc-billing over the same transport settings (no service token needed). */
    health: { check: health.check },
    close: () => {
      health.close();
      campaigns.raw.close();
    },
  };
}

export type BillingClients = ReturnType<typeof createBillingClients>;
