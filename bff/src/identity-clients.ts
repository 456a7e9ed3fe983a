import { connect, type ClientOptions } from "@apgms/common/grpc/client";
import { AccountServiceClient } from "@apgms/proto/apgms/identity/v1/account";
import { ApiKeyServiceClient } from "@apgms/proto/apgms/identity/v1/api_key";
import { AuditServiceClient } from "@apgms/proto/apgms/identity/v1/audit";
import { InvitationServiceClient } from "@apgms/proto/apgms/identity/v1/invitation";
import { MembershipServiceClient } from "@apgms/proto/apgms/identity/v1/membership";
import { PrincipalServiceClient } from "@apgms/proto/apgms/identity/v1/principal";
import { SessionServiceClient } from "@apgms/proto/apgms/identity/v1/session";
import { TenantServiceClient } from "@apgms/proto/apgms/identity/v1/tenant";
import { UserServiceClient } from "@apgms/proto/apgms/identity/v1/user";

/** Typed clients for every svc-identity service, sharing one HTTP/2 connection. */
export function createIdentityClients(address: string, options: ClientOptions = {}) {
  const principals = connect(PrincipalServiceClient, address, options);
  const channel = principals.raw.getChannel();
  const shared = { ...options, channel };
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
    close: () => principals.raw.close(),
  };
}

export type IdentityClients = ReturnType<typeof createIdentityClients>;
