import type { Logger } from "@apgms/common/logger";
import type { DocumentNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import { principalToString } from "@apgms/common/context";
import { graphqlCodeFor, isServiceError } from "@apgms/common/errors";
import type { GraphQLContext } from "./context.js";

/** The code a client will see: the audit hook runs before errors are masked. */
function errorCode(error: { extensions?: Record<string, unknown>; originalError?: unknown }): string {
  if (typeof error.extensions?.code === "string") return error.extensions.code;
  if (isServiceError(error.originalError)) return graphqlCodeFor(error.originalError.code);
  return "INTERNAL_SERVER_ERROR";
}

/** One audit line per mutation: who, which tenant, which fields, and whether it succeeded. */
export function useAuditLog(logger: Logger): Plugin<GraphQLContext> {
  return {
    onExecute({ args }) {
      const document: DocumentNode = args.document;
      const op = document.definitions.find((d) => d.kind === "OperationDefinition");
      if (!op || op.kind !== "OperationDefinition" || op.operation !== "mutation") return;
      const fields = op.selectionSet.selections.flatMap((s) => (s.kind === "Field" ? [s.name.value] : []));
      const ctx = args.contextValue;
      return {
        onExecuteDone({ result }) {
          const errors = "errors" in result && result.errors ? result.errors.map(errorCode) : [];
          logger.info(
            {
              audit: true,
              principal: ctx.requestContext.principal ? principalToString(ctx.requestContext.principal) : undefined,
              tenantId: ctx.principal.tenant.id,
              mutation: fields,
              outcome: errors.length ? "refused" : "ok",
              errors,
            },
            "mutation",
          );
        },
      };
    },
  };
}
