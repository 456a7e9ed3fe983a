import { graphqlCodeFor, isServiceError } from "@apgms/common/errors";
import { MetadataKeys } from "@apgms/common/context";
import type { Logger } from "@apgms/common/logger";
import { GraphQLError, Kind, type ASTNode } from "graphql";

const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/**
 * Proto field names (snake_case, dotted) to the GraphQL argument a client
 * sent. `node` is the field the error happened in: an `account_id` there is
 * its `id` argument when it has one and no `accountId`.
 */
export function graphqlField(protoField: string, node?: ASTNode): string {
  if (protoField.startsWith("page.")) return protoField === "page.page_size" ? "first" : "after";
  if (protoField === "expire_time") return "expiresAt";
  const name = camel(protoField);
  if (node?.kind === Kind.FIELD && protoField.endsWith("_id")) {
    const args = new Set(node.arguments?.map((a) => a.name.value));
    if (!args.has(name) && args.has("id")) return "id";
  }
  return name;
}

export function forbidden(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "FORBIDDEN" } });
}

export function badInput(field: string, message: string): GraphQLError {
  return new GraphQLError(`${field}: ${message}`, { extensions: { code: "BAD_USER_INPUT", field } });
}

/**
 * Yoga's maskError hook: gRPC statuses from the services become typed GraphQL
 * errors (code, and the field at fault); anything unexpected is logged with its
 * cause and masked (outside development). Refusals are not logged as errors:
 * they are the caller's, and the audit log has the mutations.
 */
export function createMaskError(logger: Logger) {
  return (error: unknown, message: string, isDev?: boolean): Error => {
    const masked = maskError(error, message, isDev);
    if (masked instanceof GraphQLError && masked.extensions.code === "INTERNAL_SERVER_ERROR") {
      const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
      logger.error({ err: original, path: masked.path }, "unexpected error in a resolver");
    }
    return masked;
  };
}

export function maskError(error: unknown, message: string, isDev?: boolean): Error {
  const gqlError = error instanceof GraphQLError ? error : undefined;
  const original = gqlError?.originalError ?? error;
  if (original instanceof GraphQLError) return gqlError ?? original;
  if (isServiceError(original)) {
    const code = graphqlCodeFor(original.code);
    const field = original.metadata?.get(MetadataKeys.field)[0];
    const extensions: Record<string, unknown> = { code };
    if (typeof field === "string") extensions.field = graphqlField(field, gqlError?.nodes?.[0]);
    const text = code === "INTERNAL_SERVER_ERROR" && !isDev ? message : original.details;
    return new GraphQLError(text, { nodes: gqlError?.nodes, path: gqlError?.path, extensions });
  }
  if (gqlError && !gqlError.originalError) return gqlError;
  return new GraphQLError(isDev && original instanceof Error ? original.message : message, {
    nodes: gqlError?.nodes,
    path: gqlError?.path,
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  });
}
