import type { Logger } from "@apgms/common/logger";
import { createSchema, createYoga } from "graphql-yoga";
import type { Authenticator } from "../auth/authenticator.js";
import type { IdentityClients } from "../identity-clients.js";
import { useAuditLog } from "./audit.js";
import type { GraphQLContext, ServerContext } from "./context.js";
import { createMaskError } from "./errors.js";
import { createLoaders } from "./loaders.js";
import { buildResolvers } from "./resolvers/index.js";
import type { TokenClaims } from "../auth/jwt-verifier.js";
import { typeDefs } from "./schema.graphql.js";
import { useHttpStatus } from "./use-http-status.js";
import { useInputErrorCodes } from "./use-input-error-codes.js";

export interface YogaOptions {
  identity: IdentityClients;
  auth: Authenticator;
  logger: Logger;
  oidcIssuer: string;
  /** Issuers a provisioning key may link users of (default: oidcIssuer). */
  provisioningIssuers?: readonly string[];
  development: boolean;
  signUpEnabled: boolean;
  onMembershipChange?: (claims: TokenClaims) => void;
}

export function buildYoga(options: YogaOptions) {
  const { identity, auth, logger, oidcIssuer, provisioningIssuers = [oidcIssuer], development, signUpEnabled, onMembershipChange } = options;
  const resolvers = buildResolvers({ identity, signUpEnabled, onMembershipChange });
  const schema = createSchema<GraphQLContext>({ typeDefs, resolvers });
  // GraphiQL with its assets inlined (Yoga's default page loads them from a CDN, which an offline
  // machine cannot reach). Loaded only in development: it is a large module.
  const graphiql = development
    ? {
        renderGraphiQL: (require("@graphql-yoga/render-graphiql") as typeof import("@graphql-yoga/render-graphiql")).renderGraphiQL,
        graphiql: {
          title: "APGMS GraphiQL",
          headers: JSON.stringify({ Authorization: "Bearer <paste: make -s token USER=owner@demo.apgms.dev>" }, null, 2),
          defaultQuery: "{\n  me {\n    kind\n    user { email role }\n    tenant { name slug }\n  }\n}\n",
        },
      }
    : { graphiql: false };
  return createYoga<ServerContext, Omit<GraphQLContext, keyof ServerContext>>({
    schema,
    graphqlEndpoint: "/graphql",
    ...graphiql,
    landingPage: false,
    maskedErrors: { maskError: createMaskError(logger), isDev: development },
    logging: {
      debug: (...args) => logger.debug(args.map(String).join(" ")),
      info: (...args) => logger.info(args.map(String).join(" ")),
      warn: (...args) => logger.warn(args.map(String).join(" ")),
      // Errors reach the log through createMaskError, with their cause.
      error: (...args) => logger.debug(args.map(String).join(" ")),
    },
    context: () => ({ identity, auth, logger, oidcIssuer, provisioningIssuers, loaders: createLoaders(identity) }),
    plugins: [useInputErrorCodes(), useHttpStatus(), useAuditLog(logger)],
  });
}

export type Yoga = ReturnType<typeof buildYoga>;
