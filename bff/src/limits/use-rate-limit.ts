import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import type { GraphQLContext, ServerContext } from "../graphql/context.js";
import { operationCost, type FieldWeights } from "./operation-cost.js";

export function rateLimitedMessage(retryAfter: number): string {
  return `rate limit exceeded; retry in ${retryAfter} s`;
}

/**
 * Charges each operation's cost to its principal and tenant once the document
 * is validated and before any resolver runs; a refusal is a 429 with
 * Retry-After and nothing executes. Every response gets the RateLimit fields
 * of the policies charged. `weights` adds the work of fields that grow with
 * an argument (each domain declares its own; merged in yoga.ts).
 */
export function useRateLimit(weights: FieldWeights = {}): Plugin<GraphQLContext, ServerContext> {
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const { rateLimit, requestContext } = args.contextValue;
      if (!rateLimit || !requestContext.principal || !requestContext.tenantId) return;
      const variables = (args.variableValues ?? {}) as Record<string, unknown>;
      const cost = operationCost(args.schema, args.document, args.operationName, variables, { weights });
      if (await rateLimit.charge(requestContext.principal, requestContext.tenantId, cost)) return;
      const retryAfter = rateLimit.retryAfter ?? 1;
      setResultAndStopExecution({
        errors: [
          new GraphQLError(rateLimitedMessage(retryAfter), {
            extensions: { code: "RATE_LIMITED", http: { status: 429, headers: { "retry-after": String(retryAfter) } } },
          }),
        ],
      });
    },
    onResponse({ response, serverContext }) {
      const headers = serverContext.rateLimit?.headers();
      if (headers) for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
    },
  };
}
