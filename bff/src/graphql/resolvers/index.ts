import { DateTime } from "../scalars.js";
import { mutationResolvers } from "./mutations.js";
import { queryResolvers } from "./queries.js";
import { typeResolvers } from "./types.js";

export const resolvers = { DateTime, Query: queryResolvers, Mutation: mutationResolvers, ...typeResolvers };
