import type { Logger } from "@apgms/common/logger";
import { createSchema, createYoga } from "graphql-yoga";
import type { Authenticator } from "../auth/authenticator.js";
import type { BillingClients } from "../billing-clients.js";
import type { IdentityClients } from "../identity-clients.js";
import type { InsightsClients } from "../insights-clients.js";
import type { EdgeAudit } from "../audit/edge-audit.js";
import { auditMutations } from "./audit.js";
import { auditResolvers, auditTypeDefs } from "./audit-events.js";
import type { GraphQLContext, ServerContext } from "./context.js";
import { createMaskError } from "./errors.js";
import { graphiqlOptions, type DevSignIn } from "./graphiql.js";
import { graphqlLimits, type PersistedOperations, type RequestLimits } from "./limits/index.js";
import { createBillingLoaders } from "./billing/loaders.js";
import { buildBillingResolvers } from "./billing/resolvers/index.js";
import { billingWeights } from "./billing/cost.js";
import { typeDefs as billingTypeDefs } from "./billing/schema.js";
import { createIdentityLoaders } from "./identity/loaders.js";
import { buildIdentityResolvers } from "./identity/resolvers/index.js";
import { typeDefs as identityTypeDefs } from "./identity/schema.js";
import { insightsWeights } from "./insights/cost.js";
import { buildInsightsResolvers } from "./insights/resolvers/index.js";
import { typeDefs as insightsTypeDefs } from "./insights/schema.js";
import { pageInfoTypeDefs } from "./pagination.js";
import type { TokenClaims } from "../auth/jwt-verifier.js";
import { useHttpStatus } from "./use-http-status.js";
import { useInputErrorCodes } from "./use-input-error-codes.js";
import { useRateLimit } from "../limits/use-rate-limit.js";
import { useJitQueries } from "./use-jit-queries.js";
import { useUpstreamCallsHeader } from "./use-upstream-calls.js";

/**
 * The edge's whole GraphQL contract, one domain after another (each in its
 * folder: schema, resolvers, loaders). Identity declares Query and Mutation;
 * the others extend them.
 */
export const typeDefs = [pageInfoTypeDefs, identityTypeDefs, billingTypeDefs, insightsTypeDefs, auditTypeDefs].join("\n");

export interface YogaOptions {
  identity: IdentityClients;
  billing: BillingClients;
  insights: InsightsClients;
  auth: Authenticator;
  logger: Logger;
  oidcIssuer: string;
  /** Issuers a provisioning key may link users of (default: oidcIssuer). */
  provisioningIssuers?: readonly string[];
  development: boolean;
  /** GraphiQL's "sign in as" (development only). */
  devSignIn?: DevSignIn;
  signUpEnabled: boolean;
  onMembershipChange?: (claims: TokenClaims) => void;
  requestLimits: RequestLimits;
  /** Persisted-operations mode's allow-list; absent: any document within the limits runs. */
  persistedOperations?: PersistedOperations;
  /** Each executed mutation field becomes one audit record. */
  audit: EdgeAudit;
  /** Report each operation's gRPC calls in a response header (useUpstreamCallsHeader). */
  upstreamCallsHeader?: boolean;
  /** Run queries compiled by graphql-jit (useJitQueries). */
  jit?: boolean;
}

export function buildYoga(options: YogaOptions) {
  const { identity, billing, insights, auth, logger, oidcIssuer, provisioningIssuers = [oidcIssuer], development, signUpEnabled, onMembershipChange } = options;
  const { Query: identityQuery, Mutation: identityMutation, ...identityTypes } = buildIdentityResolvers({ identity, signUpEnabled, onMembershipChange });
  const { Query: billingQuery, Mutation: billingMutation, ...billingTypes } = buildBillingResolvers();
  const { Query: insightsQuery, Mutation: insightsMutation, ...insightsTypes } = buildInsightsResolvers();
  const resolvers = {
    ...identityTypes,
    ...billingTypes,
    ...insightsTypes,
    Query: { ...identityQuery, ...billingQuery, ...insightsQuery },
    // Every domain's mutations are audited alike: one record per executed mutation field.
    Mutation: auditMutations({ ...identityMutation, ...billingMutation, ...insightsMutation }, options.audit),
  };
  const schema = createSchema<GraphQLContext>({ typeDefs, resolvers: [resolvers, auditResolvers] });
  const limits = graphqlLimits({ limits: options.requestLimits, development, persistedOperations: options.persistedOperations });
  return createYoga<ServerContext, Omit<GraphQLContext, keyof ServerContext>>({
    schema,
    graphqlEndpoint: "/graphql",
    ...graphiqlOptions(development, options.devSignIn),
    landingPage: false,
    ...limits.options,
    maskedErrors: { maskError: createMaskError(logger), isDev: development },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(" ")),
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      // Errors reach the log through createMaskError, with their cause.
      error: (...args) => logger.debug(args.map(String).join(" ")),
    },
    context: () => ({
      identity,
      billing,
      insights,
      auth,
      logger,
      oidcIssuer,
      provisioningIssuers,
      loaders: createIdentityLoaders(identity),
      billingLoaders: createBillingLoaders(billing),
    }),
    plugins: [...limits.plugins, useInputErrorCodes(), useHttpStatus(), useRateLimit({ ...billingWeights, ...insightsWeights }), ...(options.upstreamCallsHeader ? [useUpstreamCallsHeader()] : []), ...(options.jit ? [useJitQueries()] : [])],
  });
}

export type Yoga = ReturnType<typeof buildYoga>;
