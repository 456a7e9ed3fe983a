import type { Logger } from "@apgms/common/logger";
import type { DocumentNode } from "graphql";
import type { Plugin } from "graphql-yoga";
import { principalToString } from "@apgms/common/context";
import type { GraphQLContext } from "./context.js";

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
          const errors = "errors" in result && result.errors ? result.errors.map((e) => e.extensions?.code ?? "ERROR") : [];
          logger.info(
            {
              audit: true,
              principal: ctx.request.principal ? principalToString(ctx.request.principal) : undefined,
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
