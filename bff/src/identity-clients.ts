import { connect, type ClientOptions } from "@apgms/common/grpc/client";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import type { GrpcTlsConfig } from "@apgms/common/grpc/tls";
import type { ServiceTokenMinter } from "@apgms/common/service-token";
import { AccountServiceClient } from "@apgms/proto/apgms/identity/v1/account";
import { ApiKeyServiceClient } from "@apgms/proto/apgms/identity/v1/api_key";
import { AuditServiceClient } from "@apgms/proto/apgms/identity/v1/audit";
import { InvitationServiceClient } from "@apgms/proto/apgms/identity/v1/invitation";
import { MembershipServiceClient } from "@apgms/proto/apgms/identity/v1/membership";
import { PrincipalServiceClient } from "@apgms/proto/apgms/identity/v1/principal";
import { SessionServiceClient } from "@apgms/proto/apgms/identity/v1/session";
import { TenantServiceClient } from "@apgms/proto/apgms/identity/v1/tenant";
import { UserServiceClient } from "@apgms/proto/apgms/identity/v1/user";

/** The audience of the service tokens svc-identity accepts. */
export const IDENTITY_AUDIENCE = "svc-identity";

export interface IdentityClientOptions extends Omit<ClientOptions, "credentials"> {
  /** Mints each call's service token (tenant and principal of the request); svc-identity refuses calls without one. */
  serviceTokens?: ServiceTokenMinter;
  /** TLS to svc-identity (GRPC_TLS_*); plaintext when no CA is set. */
  tls?: GrpcTlsConfig;
}

/** Typed clients for every svc-identity service, sharing one HTTP/2 connection, and its health check. */
export function createIdentityClients(address: string, options: IdentityClientOptions = {}) {
  const { serviceTokens, tls, ...rest } = options;
  const base = { ...rest, tls, credentials: serviceTokens?.forAudience(IDENTITY_AUDIENCE) };
  const principals = connect(PrincipalServiceClient, address, base);
  const shared = { ...base, channel: principals.raw.getChannel() };
  const health = createHealthClient(address, tls);
  return {
    principals: principals.client,
    tenants: connect(TenantServiceClient, address, shared).client,
    accounts: connect(AccountServiceClient, address, shared).client,
    users: connect(UserServiceClient, address, shared).client,
    sessions: connect(SessionServiceClient, address, shared).client,
    apiKeys: connect(ApiKeyServiceClient, address, shared).client,
    invitations: connect(InvitationServiceClient, address, shared).client,
    memberships: connect(MembershipServiceClient, address, shared).client,
    audit: connect(AuditServiceClient, address, shared).client,
    /** grpc.health.v1 of svc-identity over the same transport settings (no service token needed). */
    health: { check: health.check },
    close: () => {
      health.close();
      principals.raw.close();
    },
  };
}

export type IdentityClients = ReturnType<typeof createIdentityClients>;
