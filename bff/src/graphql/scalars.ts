import { GraphQLError, GraphQLScalarType, Kind } from "graphql";

function parseDate(value: unknown): Date {
  if (typeof value !== "string") throw new GraphQLError("DateTime must be an ISO 8601 string", { extensions: { code: "BAD_USER_INPUT" } });
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) throw new GraphQLError(`invalid DateTime: ${value}`, { extensions: { code: "BAD_USER_INPUT" } });
  return d;
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});
