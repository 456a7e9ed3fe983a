import type { Plugin } from "graphql-yoga";
import { GraphQLError, visit, type ASTNode, type DocumentNode } from "graphql";

/**
 * graphql-js reports a wrong argument or variable value (an unknown enum
 * value, a string where an Int belongs, a missing required field) as a
 * validation or coercion error without a code. Give those BAD_USER_INPUT and
 * the name of the argument, field or variable at fault, so clients handle them
 * like the services' own input errors.
 */
const patterns: RegExp[] = [
  /^Variable "\$(\w+)" got invalid value .*?(?:at "\w+\.([\w.[\]]+)")?;/s,
  /^Variable "\$(\w+)" of required type .* was not provided/,
  /^Field "(\w+)" of required type .* was not provided/,
  /^Argument "(\w+)" of required type .* was not provided/,
  /^Enum "\w+" cannot represent non-enum value|^Value ".*" does not exist in "\w+" enum/,
  /^(?:Int|Float|String|Boolean|ID) cannot represent/,
  /^Expected value of type ".*", found/,
];

function inputField(error: GraphQLError, document?: DocumentNode): string | undefined {
  for (const re of patterns) {
    const m = re.exec(error.message);
    if (!m) continue;
    if (m[2]) return m[2];
    if (m[1]) return m[1];
    return enclosingName(error.nodes?.[0], document) ?? "input";
  }
  return undefined;
}

/** The name of the argument or input field a literal value sits in. */
function enclosingName(target: ASTNode | undefined, document: DocumentNode | undefined): string | undefined {
  if (!target || !document) return undefined;
  let found: string | undefined;
  visit(document, {
    enter(node, _key, parent, _path, ancestors) {
      if (found || node.loc?.start !== target.loc?.start || node.kind !== target.kind) return;
      const chain = [...ancestors, parent];
      for (let i = chain.length - 1; i >= 0; i--) {
        const a = chain[i];
        if (a && !Array.isArray(a) && "kind" in a && (a.kind === "ObjectField" || a.kind === "Argument")) {
          found = a.name.value;
          break;
        }
      }
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
    extensions: { ...error.extensions, code: "BAD_USER_INPUT", field, http: { status: 400 } },
  });
}

export function useInputErrorCodes(): Plugin {
  return {
    onValidate({ params }) {
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map((e) => withCode(e, params.documentAST)));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if ("errors" in result && result.errors?.length) setResult({ ...result, errors: result.errors.map((e) => withCode(e)) });
        },
      };
    },
  };
}
