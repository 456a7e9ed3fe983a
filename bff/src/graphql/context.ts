import type { RequestContext } from "@apgms/common/context";
import type { Logger } from "@apgms/common/logger";
import type { Authenticator } from "../auth/authenticator.js";
import type { AuthPrincipal } from "../auth/principal.js";
import type { BillingClients } from "../billing-clients.js";
import type { IdentityClients } from "../identity-clients.js";
import type { InsightsClients } from "../insights-clients.js";
import type { RequestRateLimits } from "../limits/edge-limiter.js";
import type { BillingLoaders } from "./billing/loaders.js";
import type { IdentityLoaders } from "./identity/loaders.js";

/** What the HTTP layer hands Yoga for each request. */
export interface ServerContext {
  principal: AuthPrincipal;
  /** Not `request`: Yoga's own context has that name for the Fetch Request. */
  requestContext: RequestContext;
  /** This request's rate limits (absent when they are off). */
  rateLimit?: RequestRateLimits;
}

export interface GraphQLContext extends ServerContext {
  identity: IdentityClients;
  billing: BillingClients;
  insights: InsightsClients;
  auth: Authenticator;
  logger: Logger;
  /** Per request: identity's related objects, batched (identity/loaders.ts). */
  loaders: IdentityLoaders;
  /** Per request: billing's related objects, batched (billing/loaders.ts). */
  billingLoaders: BillingLoaders;
  /** The issuer that new users are linked to by default. */
  oidcIssuer: string;
  /** Issuers whose subjects a provisioning key may link users to. */
  provisioningIssuers: readonly string[];
}
