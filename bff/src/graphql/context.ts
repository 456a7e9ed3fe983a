import type { RequestContext } from "@apgms/common/context";
import type { Logger } from "@apgms/common/logger";
import type { Account } from "@apgms/proto/apgms/identity/v1/account";
import type { PageRequest } from "@apgms/proto/apgms/common/v1/pagination";
import type { ListUsersResponse, User } from "@apgms/proto/apgms/identity/v1/user";
import type { Authenticator } from "../auth/authenticator.js";
import type { AuthPrincipal } from "../auth/principal.js";
import type { IdentityClients } from "../identity-clients.js";
import type { RequestRateLimits } from "../limits/edge-limiter.js";

/** What the HTTP layer hands Yoga for each request. */
export interface ServerContext {
  principal: AuthPrincipal;
  /** Not `request`: Yoga's own context has that name for the Fetch Request. */
  requestContext: RequestContext;
  /** This request's rate limits (absent when they are off). */
  rateLimit?: RequestRateLimits;
}

export interface Loaders {
  account(id: string): Promise<Account>;
  user(id: string): Promise<User>;
  /** One page of an account's users. */
  accountUsers(accountId: string, page: PageRequest): Promise<ListUsersResponse>;
}

export interface GraphQLContext extends ServerContext {
  identity: IdentityClients;
  auth: Authenticator;
  logger: Logger;
  loaders: Loaders;
  /** The issuer that new users are linked to by default. */
  oidcIssuer: string;
  /** Issuers whose subjects a provisioning key may link users to. */
  provisioningIssuers: readonly string[];
}
