import { mutationResolvers } from "./mutations.js";
import { queryResolvers } from "./queries.js";
import { typeResolvers } from "./types.js";

/** Billing's resolvers, merged with the other domains' in yoga.ts. */
export function buildBillingResolvers() {
  return { ...typeResolvers, Query: queryResolvers, Mutation: mutationResolvers };
}
