import { GraphQLScalarType, Kind, type ValueNode } from "graphql";

/** An attribute's value as JSON carries it: a string, a finite number or a boolean. */
export type AttributePrimitive = string | number | boolean;

const describe = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object" : JSON.stringify(v));

/** Throws a plain TypeError (graphql-js reports it with the argument's path, use-input-error-codes names the argument). */
function primitive(value: unknown, what: string): AttributePrimitive {
  if (typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  throw new TypeError(`${what} must be a string, a finite number or a boolean, not ${describe(value)}`);
}

type Variables = Readonly<Record<string, unknown>> | null | undefined;

function literal(ast: ValueNode, variables: Variables): unknown {
  switch (ast.kind) {
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value, variables)]));
    case Kind.NULL:
      return null;
    default:
      return ast.kind === Kind.LIST ? [] : undefined;
  }
}

/**
 * One attribute value: a JSON string, number or boolean (`"summer"`, `12.5`,
 * `true`). The kind is part of the value: the string "1" and the number 1
 * are different values to filters and breakdowns.
 */
export const AttributeValue = new GraphQLScalarType<AttributePrimitive, AttributePrimitive>({
  name: "AttributeValue",
  serialize: (value) => primitive(value, "AttributeValue"),
  parseValue: (value) => primitive(value, "AttributeValue"),
  parseLiteral: (ast, variables) => primitive(literal(ast, variables), "AttributeValue"),
});

export type AttributeMap = Record<string, AttributePrimitive>;

function attributeMap(value: unknown): AttributeMap {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`Attributes must be a JSON object of keys to values, not ${describe(value)}`);
  const out: AttributeMap = {};
  for (const [key, v] of Object.entries(value)) out[key] = primitive(v, `Attributes[${JSON.stringify(key.slice(0, 64))}]`);
  return out;
}

/**
 * An event's attributes: a JSON object of keys to strings, finite numbers
 * and booleans, e.g. `{"campaign": "summer", "price": 12.5, "member": true}`.
 * The keys' rules (and at most 50 of them) are svc-insights', which rejects
 * the one event that breaks them.
 */
export const Attributes = new GraphQLScalarType<AttributeMap, AttributeMap>({
  name: "Attributes",
  serialize: attributeMap,
  parseValue: attributeMap,
  parseLiteral: (ast, variables) => attributeMap(literal(ast, variables)),
});
