import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

export const BATCH_TOO_LARGE = "BATCH_TOO_LARGE";

/**
 * Refuses a batched request (a JSON array of operations) over `maxBatch`
 * operations, or any batch when batching is off (0), with a code of its own.
 * Yoga's own check (`batching.limit`) stays configured behind this one but
 * answers BAD_REQUEST, the code of every malformed request.
 */
export function useBatchLimit(maxBatch: number): Plugin {
  return {
    onRequestParse() {
      return {
        onRequestParseDone({ requestParserResult }) {
          if (!Array.isArray(requestParserResult) || requestParserResult.length <= maxBatch) return;
          const message =
            maxBatch === 0
              ? "batched requests are not accepted: send one operation per request"
              : `a batch may hold at most ${maxBatch} operations, this one has ${requestParserResult.length}`;
          throw new GraphQLError(message, { extensions: { code: BATCH_TOO_LARGE, http: { status: 400 } } });
        },
      };
    },
  };
}
