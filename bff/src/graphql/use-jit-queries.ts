import type { Plugin } from "graphql-yoga";
import {
  GraphQLError,
  Kind,
  getOperationAST,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";

/**
 * Queries run as compiled JavaScript (graphql-jit) instead of graphql-js's
 * interpreter: for a 50-item list that is about a third of the edge's CPU per
 * request (docs/benchmarks.md, issue 7). Mutations and subscriptions stay on
 * graphql-js: they are rare, and their ordering and audit rules are pinned by
 * tests against graphql-js's executor.
 *
 * Two things graphql-jit does differently are put back, so clients see the
 * same errors either way:
 * - a variable that does not coerce: graphql-jit words it its own way, and
 *   nothing has run yet, so graphql-js executes the request instead and its
 *   error gets BAD_USER_INPUT and the argument's name (use-input-error-codes.ts);
 * - a resolver's error carries no AST `nodes` from graphql-jit; they are found
 *   again from the error's path, because the service-error rules read the
 *   field's arguments from them (errors.ts graphqlField).
 *
 * Compiling costs several interpreted runs (100-150 µs for the bench's queries,
 * and new code for V8 to keep), so a document is compiled on its second
 * execution: clients that
 * inline a new literal in every request (`user(id: "…")`) stay on graphql-js
 * and pay nothing extra. The compiled query is kept per parsed document
 * (Yoga's parser cache hands out the same object for the same text) and
 * operation name, and goes when the document does.
 */
export function useJitQueries(): Plugin {
  /** Per document and operation name: how often it ran interpreted, or its compiled query (null: does not compile). */
  const seen = new WeakMap<DocumentNode, Map<string, number | CompiledQuery | null>>();

  function compiledFor(schema: GraphQLSchema, document: DocumentNode, operationName: string | undefined): CompiledQuery | null {
    let byName = seen.get(document);
    if (!byName) seen.set(document, (byName = new Map()));
    const key = operationName ?? "";
    const entry = byName.get(key);
    if (entry === undefined) {
      byName.set(key, 1);
      return null;
    }
    if (typeof entry !== "number") return entry;
    const result = compileQuery(schema, document, operationName);
    // What does not compile is left to graphql-js, which reports it its own way.
    const query = isCompiledQuery(result) ? result : null;
    byName.set(key, query);
    return query;
  }

  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== "query") return;
      const query = compiledFor(args.schema, args.document, args.operationName ?? undefined);
      if (!query) return;
      setExecuteFn(async (execArgs) => {
        const result = (await query.query(execArgs.rootValue, execArgs.contextValue, execArgs.variableValues)) as ExecutionResult;
        if (!result.errors?.length) return result;
        if (!("data" in result)) return executeFn(execArgs);
        // graphql-js's key order (errors first), so the JSON is byte for byte the same.
        const { errors, data, ...rest } = result;
        return { errors: errors.map((e) => withNodes(e, execArgs.document, operation)), data, ...rest };
      });
    },
  };
}

function withNodes(error: GraphQLError, document: DocumentNode, operation: OperationDefinitionNode): GraphQLError {
  if (error.nodes?.length || !error.path) return error;
  const node = fieldAt(document, operation.selectionSet, error.path);
  if (!node) return error;
  return new GraphQLError(error.message, {
    nodes: [node],
    path: error.path,
    originalError: error.originalError ?? undefined,
    extensions: error.extensions,
  });
}

/** The field node a response path leads to (list indexes skipped, fragments followed). */
export function fieldAt(document: DocumentNode, root: SelectionSetNode, path: ReadonlyArray<string | number>): FieldNode | undefined {
  let selections: SelectionSetNode | undefined = root;
  let found: FieldNode | undefined;
  for (const key of path) {
    if (typeof key === "number") continue;
    if (!selections) return undefined;
    found = findField(document, selections, key);
    if (!found) return undefined;
    selections = found.selectionSet;
  }
  return found;
}

function findField(document: DocumentNode, set: SelectionSetNode, responseKey: string): FieldNode | undefined {
  for (const selection of set.selections) {
    if (selection.kind === Kind.FIELD) {
      if ((selection.alias ?? selection.name).value === responseKey) return selection;
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      const inner = findField(document, selection.selectionSet, responseKey);
      if (inner) return inner;
    } else {
      const fragment = document.definitions.find(
        (d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value,
      );
      const inner = fragment && findField(document, fragment.selectionSet, responseKey);
      if (inner) return inner;
    }
  }
  return undefined;
}
