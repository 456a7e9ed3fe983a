import type { Config } from "../../config.js";
import { REQUEST_LIMIT_DEFAULTS, type RequestLimits } from "./defaults.js";

export type RequestLimitConfig = Partial<
  Pick<
    Config,
    | "GRAPHQL_MAX_DEPTH"
    | "GRAPHQL_MAX_ALIASES"
    | "GRAPHQL_MAX_DIRECTIVES"
    | "GRAPHQL_MAX_TOKENS"
    | "GRAPHQL_MAX_COST"
    | "GRAPHQL_MAX_BATCH"
    | "GRAPHQL_MAX_NODES"
    | "MAX_REQUEST_BODY_BYTES"
    | "REQUEST_TIMEOUT_MS"
    | "GRAPHQL_LIMITS_ENABLED"
  >
>;

/** The limits a configuration asks for, the defaults where it is silent (tests build partial configs). */
export function requestLimits(config: RequestLimitConfig): RequestLimits {
  const d = REQUEST_LIMIT_DEFAULTS;
  return {
    maxDepth: config.GRAPHQL_MAX_DEPTH ?? d.maxDepth,
    maxAliases: config.GRAPHQL_MAX_ALIASES ?? d.maxAliases,
    maxDirectives: config.GRAPHQL_MAX_DIRECTIVES ?? d.maxDirectives,
    maxTokens: config.GRAPHQL_MAX_TOKENS ?? d.maxTokens,
    maxCost: config.GRAPHQL_MAX_COST ?? d.maxCost,
    maxBatch: config.GRAPHQL_MAX_BATCH ?? d.maxBatch,
    maxNodes: config.GRAPHQL_MAX_NODES ?? d.maxNodes,
    maxBodyBytes: config.MAX_REQUEST_BODY_BYTES ?? d.maxBodyBytes,
    timeoutMs: config.REQUEST_TIMEOUT_MS ?? d.timeoutMs,
    documentLimits: config.GRAPHQL_LIMITS_ENABLED ?? d.documentLimits,
  };
}
