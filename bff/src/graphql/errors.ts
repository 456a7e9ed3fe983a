import { graphqlCodeFor, isServiceError } from "@apgms/common/errors";
import { MetadataKeys } from "@apgms/common/context";
import type { Logger } from "@apgms/common/logger";
import { GraphQLError, Kind, type ASTNode } from "graphql";
import { insightsArgumentNames, type ArgumentNaming } from "./insights/field-names.js";

const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Proto fields whose GraphQL argument is not simply their camelCase, in every operation. */
export const PROTO_FIELD_EXCEPTIONS: Readonly<Record<string, string>> = {
  "page.page_size": "first",
  "page.page_token": "after",
  expire_time: "expiresAt",
  // Billing: times are …At like every other time of the edge; a transaction filter's window is from/to.
  start_time: "startsAt",
  end_time: "endsAt",
  clear_end_time: "clearEndsAt",
  "filter.start_time": "from",
  "filter.end_time": "to",
  // Named like a code so that the audit trail redacts it (bearer codes).
  csv: "codesCsv",
};

/** Fields that name their arguments (and the service's messages) their own way, by the field's name: insights' ranges are from/to. */
const FIELD_ARGUMENT_NAMES: Readonly<Record<string, ArgumentNaming>> = { ...insightsArgumentNames };

const ownNaming = (node?: ASTNode): ArgumentNaming | undefined => (node?.kind === Kind.FIELD ? FIELD_ARGUMENT_NAMES[node.name.value] : undefined);

/**
 * The GraphQL argument (or input field) a client sent for a proto field the
 * service named. The rule: the field's own naming (FIELD_ARGUMENT_NAMES), the exceptions above, else the camelCase of the
 * field's last segment (`grace_period_seconds` → `gracePeriodSeconds`); a
 * `<x>_id` in a field that takes `id` and no `<x>Id` is that `id`
 * (`user(id:)` → GetUser's `user_id`). `node` is the field the error happened in.
 */
export function graphqlField(protoField: string, node?: ASTNode): string {
  const own = ownNaming(node);
  if (own) return own.argument(protoField);
  const exception = PROTO_FIELD_EXCEPTIONS[protoField];
  if (exception) return exception;
  const name = camel(protoField.slice(protoField.lastIndexOf(".") + 1));
  if (node?.kind === Kind.FIELD && protoField.endsWith("_id")) {
    const args = new Set(node.arguments?.map((a) => a.name.value));
    if (!args.has(name) && args.has("id")) return "id";
  }
  return name;
}

/** The service's message with its leading proto field name replaced by the GraphQL one ("oidc_subject is …" → "oidcSubject is …"). */
export function graphqlMessage(details: string, protoField: string, field: string): string {
  if (!details.startsWith(protoField)) return details;
  const next = details.charAt(protoField.length);
  return next === ":" || next === " " || next === "" ? field + details.slice(protoField.length) : details;
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
    const protoField = original.metadata?.get(MetadataKeys.field)[0];
    const reason = original.metadata?.get(MetadataKeys.reason)[0];
    const extensions: Record<string, unknown> = { code };
    // Why, when the code alone does not say (a refused redemption: FAILED_PRECONDITION, OFFER_LIMIT_REACHED).
    if (typeof reason === "string" && reason) extensions.reason = reason;
    let details = original.details;
    if (typeof protoField === "string") {
      const field = graphqlField(protoField, gqlError?.nodes?.[0]);
      extensions.field = field;
      details = graphqlMessage(details, protoField, field);
    }
    details = ownNaming(gqlError?.nodes?.[0])?.message(details) ?? details;
    const text = code === "INTERNAL_SERVER_ERROR" && !isDev ? message : details;
    return new GraphQLError(text, { nodes: gqlError?.nodes, path: gqlError?.path, extensions });
  }
  if (gqlError && !gqlError.originalError) return gqlError;
  return new GraphQLError(isDev && original instanceof Error ? original.message : message, {
    nodes: gqlError?.nodes,
    path: gqlError?.path,
    extensions: { code: "INTERNAL_SERVER_ERROR" },
  });
}
