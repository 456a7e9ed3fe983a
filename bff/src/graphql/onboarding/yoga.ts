import type { Logger } from "@apgms/common/logger";
import type { RequestContext } from "@apgms/common/context";
import { createSchema, createYoga, type Plugin } from "graphql-yoga";
import { GraphQLError } from "graphql";
import { AuthError } from "../../auth/errors.js";
import type { TokenClaims } from "../../auth/jwt-verifier.js";
import type { IdentityClients } from "../../identity-clients.js";
import type { EdgeAudit } from "../../audit/edge-audit.js";
import { outcomeOf } from "../audit.js";
import { createMaskError } from "../errors.js";
import { graphqlLimits, type PersistedOperations, type RequestLimits } from "../limits/index.js";
import { useHttpStatus } from "../use-http-status.js";
import { useInputErrorCodes } from "../use-input-error-codes.js";
import { identityResolvers, identityTypeResolvers, type AuditEntry } from "./identity-resolvers.js";
import { onboardingTypeDefs } from "./schema.js";

export interface OnboardingServerContext {
  claims: TokenClaims;
  requestContext: RequestContext;
}

/**
 * Anything but the identity's own operations, from an identity with no
 * membership (in the requested tenant), is what it always was: a 401 with a
 * challenge, not a GraphQL validation error about unknown fields.
 */
const ROOT_FIELD_UNKNOWN = /^Cannot query field "\w+" on type "(Query|Mutation|Subscription)"/;

function useUnlinkedIsUnauthenticated(): Plugin {
  const refused = new AuthError(
    "no active user is linked to this identity (in the requested tenant); accept an invitation, restore your tenant or sign up (see memberships, myInvitations, restorableTenants)",
    "invalid_token",
  );
  return {
    onValidate() {
      return ({ result }) => {
        // Only an operation this schema lacks is "not signed in"; a bad argument to one it has is
        // an ordinary input error (useInputErrorCodes).
        if (!result.some((e) => ROOT_FIELD_UNKNOWN.test(e.message))) return;
        // Thrown, not set as the result: Yoga answers validation results with 200 under
        // application/json whatever their extensions say.
        throw new GraphQLError(refused.message, {
          extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "www-authenticate": refused.challenge } } },
        });
      };
    },
  };
}

export interface OnboardingOptions {
  identity: IdentityClients;
  logger: Logger;
  development: boolean;
  signUpEnabled: boolean;
  audit: EdgeAudit;
  onMembershipChange?: (claims: TokenClaims) => void;
  /** The same document limits (and allow-list) as the tenant's schema. */
  requestLimits: RequestLimits;
  persistedOperations?: PersistedOperations;
}

/** The GraphQL an identity sees before it belongs to a tenant: join, restore or create one. */
export function buildOnboardingYoga(options: OnboardingOptions) {
  const { identity, logger, development, signUpEnabled, onMembershipChange } = options;
  // One record per mutation, as auditMutations makes them, with the identity in place of a user
  // principal (there is none yet); the tenant it joined, created or restored is also the target.
  const audit = ({ claims, mutation, tenantId, errors }: AuditEntry) =>
    options.audit.record({
      action: mutation,
      principal: `identity:${claims.iss}#${claims.sub}`,
      tenantId: tenantId ?? "",
      targetIds: tenantId ? [tenantId] : [],
      outcome: errors[0] ? outcomeOf(errors[0]) : "ok",
      errorCodes: errors,
    });
  const limits = graphqlLimits({ limits: options.requestLimits, development, persistedOperations: options.persistedOperations });
  const ops = identityResolvers<OnboardingServerContext>({ identity, signUpEnabled, onMembershipChange, audit }, (ctx) => ctx.claims);
  return createYoga<OnboardingServerContext>({
    schema: createSchema<OnboardingServerContext>({ typeDefs: onboardingTypeDefs, resolvers: { ...identityTypeResolvers, ...ops } }),
    graphqlEndpoint: "/graphql",
    graphiql: false,
    landingPage: false,
    ...limits.options,
    maskedErrors: { maskError: createMaskError(logger), isDev: development },
    logging: false,
    plugins: [...limits.plugins, useUnlinkedIsUnauthenticated(), useInputErrorCodes(), useHttpStatus()],
  });
}

export type OnboardingYoga = ReturnType<typeof buildOnboardingYoga>;
