import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { operationCost } from "../../limits/operation-cost.js";

export const QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY";

/**
 * Refuses, before any resolver runs, an operation that may return more than
 * `maxNodes` objects and fields once its variables are known (GitHub-style
 * node limit). GraphQL Armor's cost limit runs at validation, cached per
 * document, and cannot see a `first: $n`; this check counts what the request
 * really asks for, with the rate limiter's weight (1 per field, times the
 * items of each page). It keeps one request from occupying the edge for long:
 * at 40,000 rows (two nested pages of 200) a response took ~0.5 s of the
 * edge's single thread, stalling every other tenant's requests on it.
 * Same code and HTTP status as Armor's cost refusal.
 */
export function useNodeLimit(maxNodes: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const nodes = operationCost(args.schema, args.document, args.operationName, variables);
      if (nodes <= maxNodes) return;
      setResultAndStopExecution({
        errors: [
          new GraphQLError(`this operation may return ${nodes} objects and fields, more than ${maxNodes}: ask for smaller pages`, {
            extensions: { code: QUERY_TOO_COSTLY, http: { spec: true, status: 400 } },
          }),
        ],
      });
    },
  };
}
