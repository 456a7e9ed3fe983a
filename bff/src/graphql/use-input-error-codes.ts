import type { Plugin } from "graphql-yoga";
import { GraphQLError, Kind, visit, type ASTNode, type DocumentNode } from "graphql";

/**
 * graphql-js reports a wrong argument or variable value (an unknown enum
 * value, a string where an Int belongs, a missing required field, a DateTime
 * that does not parse) as a validation or coercion error without a code. Give
 * those BAD_USER_INPUT and the name of the argument or input field at fault,
 * as the schema names it, so clients handle them like the services' own input
 * errors. A variable is named by where the document uses it: `$when` passed
 * as `expiresAt` is `expiresAt`.
 *
 * They are request errors (nothing ran): HTTP 200 under application/json and
 * 400 under application/graphql-response+json (`http.spec`, see use-http-status.ts).
 */
const variablePatterns: RegExp[] = [
  /^Variable "\$(\w+)" got invalid value .*?(?: at "\w+((?:\.\w+|\[\d+\])+)")?;/s,
  /^Variable "\$(\w+)" of (?:required|non-null) type .* (?:was not provided|must not be null)/,
];
const literalPatterns: RegExp[] = [
  /^Field "(\w+)" of required type .* was not provided/,
  /^Argument "(\w+)" of required type .* was not provided/,
  /^Field "\w+" argument "(\w+)" of type ".*" is required, but it was not provided/,
  /^Enum "\w+" cannot represent non-enum value|^Value ".*" does not exist in "\w+" enum/,
  /^(?:Int|Float|String|Boolean|ID) cannot represent/,
  /^Expected value of type ".*", found/,
];

/** The last named segment of a coercion path: `.input.scopes[1]` → `scopes`. */
function lastName(path: string): string | undefined {
  const names = path.split(".").map((p) => p.replace(/\[\d+\]/g, "")).filter(Boolean);
  return names[names.length - 1];
}

function inputField(error: GraphQLError, document?: DocumentNode): string | undefined {
  for (const re of variablePatterns) {
    const m = re.exec(error.message);
    if (!m) continue;
    const inPath = m[2] ? lastName(m[2]) : undefined;
    return inPath ?? (m[1] ? variableUsage(m[1], document) : undefined) ?? m[1];
  }
  for (const re of literalPatterns) {
    const m = re.exec(error.message);
    if (!m) continue;
    return m[1] ?? enclosingName(error.nodes?.[0], document) ?? "input";
  }
  return undefined;
}

type Ancestor = ASTNode | readonly ASTNode[];

/** The nearest argument or input-object field among `chain`, innermost first. */
function nearestName(chain: ReadonlyArray<Ancestor | undefined>): string | undefined {
  for (let i = chain.length - 1; i >= 0; i--) {
    const a = chain[i];
    if (a && !Array.isArray(a) && "kind" in a && (a.kind === Kind.OBJECT_FIELD || a.kind === Kind.ARGUMENT)) return a.name.value;
  }
  return undefined;
}

/** The argument or input field in which the document first uses `$name`. */
function variableUsage(name: string, document: DocumentNode | undefined): string | undefined {
  if (!document) return undefined;
  let found: string | undefined;
  visit(document, {
    VariableDefinition: () => false,
    Variable(node, _key, parent, _path, ancestors) {
      if (found || node.name.value !== name) return;
      found = nearestName([...(ancestors as Ancestor[]), parent as Ancestor | undefined]);
    },
  });
  return found;
}

/** The name of the argument or input field a literal value sits in. */
function enclosingName(target: ASTNode | undefined, document: DocumentNode | undefined): string | undefined {
  if (!target || !document) return undefined;
  let found: string | undefined;
  visit(document, {
    enter(node, _key, parent, _path, ancestors) {
      if (found || node.loc?.start !== target.loc?.start || node.kind !== target.kind) return;
      found = nearestName([...(ancestors as Ancestor[]), parent as Ancestor | undefined]);
    },
  });
  return found;
}

function withCode<E extends Error>(error: E, document?: DocumentNode): E | GraphQLError {
  if (!(error instanceof GraphQLError)) return error;
  if (error.extensions?.code && error.extensions.code !== "GRAPHQL_VALIDATION_FAILED") return error;
  const field = inputField(error, document);
  if (!field) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    originalError: error.originalError,
    extensions: { ...error.extensions, code: "BAD_USER_INPUT", field, http: { spec: true, status: 400 } },
  });
}

export function useInputErrorCodes(): Plugin {
  return {
    onValidate({ params }) {
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map((e) => withCode(e, params.documentAST)));
      };
    },
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          // Only a result without data is a request error (variables that did not coerce).
          if ("errors" in result && result.errors?.length && !("data" in result)) {
            setResult({ ...result, errors: result.errors.map((e) => withCode(e, args.document)) });
          }
        },
      };
    },
  };
}
