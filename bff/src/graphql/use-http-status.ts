import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * The edge's HTTP status rule (GraphQL over HTTP, docs/api.md#errors), where
 * Yoga's own choices differ from it:
 *
 * - a request that is not a GraphQL request at all (invalid JSON, no query,
 *   a bad parameter) is 400 whatever the Accept header; Yoga answers some of
 *   them 200 under application/json;
 * - a GraphQL request that cannot run (parse, validation, operation
 *   resolution, variable coercion) is 200 under application/json and 400
 *   under application/graphql-response+json; Yoga answers a failed operation
 *   resolution 400 under both;
 * - a POST in a media type no parser takes is 415 with a body and a code, not
 *   Yoga's empty 415.
 *
 * Execution errors carry no HTTP status: 200 under both, with `data`.
 */
const REQUEST_ERRORS = new Set(["GRAPHQL_PARSE_FAILED", "GRAPHQL_VALIDATION_FAILED", "OPERATION_RESOLUTION_FAILURE"]);

interface HttpExtension {
  status?: number;
  spec?: boolean;
  headers?: Record<string, string>;
}

function withHttp(error: GraphQLError, http: HttpExtension, message = error.message): GraphQLError {
  return new GraphQLError(message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, http },
  });
}

function operationMessage(operationName: unknown): string {
  return typeof operationName === "string" && operationName !== ""
    ? `operationName ${JSON.stringify(operationName)} names no operation in the document`
    : "the document has several operations: say which to run with operationName";
}

function normalize(error: GraphQLError, operationName: unknown): GraphQLError {
  const code = error.extensions?.code;
  const http = (error.extensions?.http ?? {}) as HttpExtension;
  if (typeof code !== "string") return error;
  if (code === "OPERATION_RESOLUTION_FAILURE") return withHttp(error, { ...http, spec: true, status: 400 }, operationMessage(operationName));
  if (REQUEST_ERRORS.has(code)) return withHttp(error, { ...http, spec: true, status: 400 });
  if (code === "BAD_REQUEST" && http.spec) return withHttp(error, { status: http.status ?? 400, headers: http.headers });
  return error;
}

/** The result with its request errors given their HTTP status (the rule above); other results as they are. */
export function normalizeRequestErrors<R extends object>(result: R, operationName: unknown): R {
  if (Array.isArray(result) || !("errors" in result)) return result;
  const errors = (result as { errors?: readonly unknown[] }).errors;
  if (!errors?.length) return result;
  return { ...result, errors: errors.map((e) => (e instanceof GraphQLError ? normalize(e, operationName) : e)) };
}

export function useHttpStatus(): Plugin {
  const operationNames = new WeakMap<Request, unknown>();
  return {
    onRequestParse({ request, requestParser }) {
      if (request.method === "POST" && !requestParser) {
        throw new GraphQLError("Content-Type must be application/json", {
          extensions: { code: "UNSUPPORTED_MEDIA_TYPE", http: { status: 415, headers: { accept: "application/json" } } },
        });
      }
    },
    onParams({ params, request }) {
      operationNames.set(request, params.operationName);
    },
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result) || !("errors" in result) || !result.errors?.length) return;
      setResult(normalizeRequestErrors(result, operationNames.get(request)));
    },
  };
}
