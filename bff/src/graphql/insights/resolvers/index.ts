import { mutationResolvers } from "./mutations.js";
import { queryResolvers } from "./queries.js";
import { typeResolvers } from "./types.js";

/** Insights' resolvers, merged with the other domains' in yoga.ts. */
export function buildInsightsResolvers() {
  return { ...typeResolvers, Query: queryResolvers, Mutation: mutationResolvers };
}
