import type { Logger } from "@apgms/common/logger";
import { createSchema, createYoga, type Plugin } from "graphql-yoga";
import { GraphQLError } from "graphql";
import { AuthError } from "../../auth/errors.js";
import type { TokenClaims } from "../../auth/jwt-verifier.js";
import { MetadataKeys, type RequestContext } from "@apgms/common/context";
import { graphqlCodeFor, isServiceError } from "@apgms/common/errors";
import type { IdentityClients } from "../../identity-clients.js";
import { createMaskError } from "../errors.js";
import { onboardingTypeDefs } from "./schema.js";

export interface OnboardingServerContext {
  claims: TokenClaims;
  requestContext: RequestContext;
}

interface SignUpInput {
  tenantName: string;
  slug: string;
  accountName?: string | null;
  displayName?: string | null;
}

/**
 * Anything but sign-up from an identity without a user is what it always was:
 * a 401 with a challenge, not a GraphQL validation error about unknown fields.
 */
function useUnlinkedIsUnauthenticated(): Plugin {
  const refused = new AuthError("no active user is linked to this identity; sign up first (mutation signUp)", "invalid_token");
  return {
    onValidate() {
      return ({ result }) => {
        if (!result.length) return;
        // Thrown, not set as the result: Yoga answers validation results with 200 under
        // application/json whatever their extensions say.
        throw new GraphQLError(refused.message, {
          extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: { "www-authenticate": refused.challenge } } },
        });
      };
    },
  };
}

/** CreateTenant's request fields, as the signUp input names them. */
const inputFields: Record<string, string> = {
  name: "tenantName",
  slug: "slug",
  account_name: "accountName",
  owner_display_name: "displayName",
  owner_email: "email",
  owner_oidc_subject: "sub",
};

function renameField(err: unknown): unknown {
  if (!isServiceError(err)) return err;
  const field = err.metadata.get(MetadataKeys.field)[0];
  if (typeof field !== "string") return err;
  const extensions = { code: graphqlCodeFor(err.code), field: inputFields[field] ?? field };
  const message = field === "owner_oidc_subject" ? "this identity already belongs to a tenant" : err.details.replace(field, extensions.field);
  return new GraphQLError(message, { extensions });
}

export function buildOnboardingYoga(options: { identity: IdentityClients; logger: Logger; development: boolean }) {
  const { identity, logger, development } = options;
  const resolvers = {
    Query: { signUpAvailable: () => true },
    Mutation: {
      signUp: async (_: unknown, { input }: { input: SignUpInput }, ctx: OnboardingServerContext) => {
        const { claims } = ctx;
        if (!claims.email) {
          throw new GraphQLError("your token carries no email claim; ask your identity provider to include it", {
            extensions: { code: "FAILED_PRECONDITION" },
          });
        }
        const res = await identity.tenants
          .createTenant(
          {
            name: input.tenantName,
            slug: input.slug,
            accountName: input.accountName ?? "Main",
            ownerEmail: claims.email,
            ownerDisplayName: input.displayName ?? claims.name ?? claims.email,
            ownerOidcIssuer: claims.iss,
            ownerOidcSubject: claims.sub,
          },
            { context: ctx.requestContext },
          )
          .catch((err: unknown) => {
            throw renameField(err);
          });
        logger.info({ audit: true, mutation: ["signUp"], tenantId: res.tenant!.id, subject: claims.sub, outcome: "ok" }, "mutation");
        return { tenantId: res.tenant!.id, tenantSlug: res.tenant!.slug, accountId: res.accountId, userId: res.ownerUserId };
      },
    },
  };
  return createYoga<OnboardingServerContext>({
    schema: createSchema<OnboardingServerContext>({ typeDefs: onboardingTypeDefs, resolvers }),
    graphqlEndpoint: "/graphql",
    graphiql: false,
    landingPage: false,
    maskedErrors: { maskError: createMaskError(logger), isDev: development },
    logging: false,
    plugins: [useUnlinkedIsUnauthenticated()],
  });
}

export type OnboardingYoga = ReturnType<typeof buildOnboardingYoga>;
