import type { Plugin } from "graphql-yoga";
import type { ServerContext } from "./context.js";

/** The response header that reports how many gRPC calls the operation made. */
export const UPSTREAM_CALLS_HEADER = "x-apgms-upstream-calls";

/**
 * Reports, in a response header, the gRPC calls (attempts, retries included)
 * that executing the operation made; authentication's own calls, made before
 * it, are not counted. For `make bench` and debugging N+1 patterns
 * (UPSTREAM_CALLS_HEADER=true); off by default, since it tells a client how
 * its query was served.
 */
export function useUpstreamCallsHeader(): Plugin<Record<string, unknown>, ServerContext> {
  return {
    onResponse({ response, serverContext }) {
      const calls = serverContext?.requestContext?.upstreamCalls ?? 0;
      response.headers.set(UPSTREAM_CALLS_HEADER, String(calls));
    },
  };
}
