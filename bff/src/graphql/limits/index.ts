import type { Plugin } from "graphql-yoga";
import { armorPlugins } from "./armor.js";
import type { RequestLimits } from "./defaults.js";
import { usePersistedOnly, type PersistedOperations } from "./persisted-operations.js";
import { useBatchLimit } from "./use-batch-limit.js";
import { useNodeLimit } from "./use-node-limit.js";
import { useNoIntrospection } from "./use-no-introspection.js";

export interface GraphqlLimitOptions {
  limits: RequestLimits;
  development: boolean;
  /** The allow-list of persisted-operations mode; absent: any document (within the limits) runs. */
  persistedOperations?: PersistedOperations;
}

/**
 * Everything a Yoga of the edge needs to refuse abusive requests before any
 * resolver runs, for both schemas (the tenant's and onboarding's): spread the
 * result into `createYoga`'s options and its plugins.
 */
export function graphqlLimits({ limits, development, persistedOperations }: GraphqlLimitOptions) {
  const plugins: Plugin[] = [useBatchLimit(limits.maxBatch)];
  if (persistedOperations) plugins.push(usePersistedOnly(persistedOperations));
  if (limits.documentLimits) plugins.push(...armorPlugins(limits, development), useNodeLimit(limits.maxNodes));
  if (!development) plugins.push(useNoIntrospection());
  return {
    options: {
      // CORS is answered by the edge before authentication (http/cors.ts); Yoga's own would allow every origin.
      cors: false as const,
      maxRequestBodySize: limits.maxBodyBytes,
      batching: limits.maxBatch > 0 ? { limit: limits.maxBatch } : false,
    },
    plugins,
  };
}

export { REQUEST_LIMIT_DEFAULTS, type RequestLimits } from "./defaults.js";
export { loadPersistedOperations, type PersistedOperations } from "./persisted-operations.js";
