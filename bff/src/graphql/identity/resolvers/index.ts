import type { AuthPrincipal } from "../../../auth/principal.js";
import type { GraphQLContext } from "../../context.js";
import { forbidden } from "../../errors.js";
import { identityResolvers, identityTypeResolvers, type IdentityOpsDeps } from "../../onboarding/identity-resolvers.js";
import { mutationResolvers } from "./mutations.js";
import { queryResolvers } from "./queries.js";
import { typeResolvers } from "./types.js";

/** The identity's own operations need a person: an API key has no identity of its own. */
function personOf(p: AuthPrincipal) {
  if (p.kind !== "user") throw forbidden("only a signed-in person can do this; API keys cannot");
  return p.claims;
}

export function buildIdentityResolvers(deps: IdentityOpsDeps) {
  const ops = identityResolvers<GraphQLContext>(deps, (ctx) => personOf(ctx.principal));
  return {
    ...identityTypeResolvers,
    ...typeResolvers,
    Query: { ...queryResolvers, ...ops.Query },
    Mutation: { ...mutationResolvers, ...ops.Mutation },
  };
}
