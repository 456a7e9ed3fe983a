import type { Plugin } from "graphql-yoga";
import { GraphQLError } from "graphql";

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

function inputField(error: GraphQLError): string | undefined {
  for (const re of patterns) {
    const m = re.exec(error.message);
    if (!m) continue;
    if (m[2]) return m[2];
    if (m[1]) return m[1];
    return argumentName(error) ?? "input";
  }
  return undefined;
}

/** The argument or input field the error's AST node sits under, when graphql-js gives us one. */
function argumentName(error: GraphQLError): string | undefined {
  const node = error.nodes?.[0];
  return node && "name" in node && node.name && typeof node.name === "object" && "value" in node.name ? String(node.name.value) : undefined;
}

function withCode<E extends Error>(error: E): E | GraphQLError {
  if (!(error instanceof GraphQLError)) return error;
  if (error.extensions?.code && error.extensions.code !== "GRAPHQL_VALIDATION_FAILED") return error;
  const field = inputField(error);
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
    onValidate() {
      return ({ result, setResult }) => {
        if (result.length) setResult(result.map(withCode));
      };
    },
    onExecute() {
      return {
        onExecuteDone({ result, setResult }) {
          if ("errors" in result && result.errors?.length) setResult({ ...result, errors: result.errors.map(withCode) });
        },
      };
    },
  };
}
