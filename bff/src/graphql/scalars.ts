import { GraphQLScalarType, Kind } from "graphql";

/** A date, or a date and time with seconds optional and a zone required (`Z` or `±hh:mm`). */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2}))?$/i;

/**
 * Throws a plain TypeError, not a GraphQLError: graphql-js then reports it with
 * the value's location (literals) or the variable's path, from which
 * use-input-error-codes names the argument at fault.
 */
function parseDate(value: unknown): Date {
  if (typeof value !== "string") throw new TypeError("DateTime must be an ISO 8601 string, e.g. 2030-01-31T12:00:00Z");
  const d = new Date(value);
  if (!ISO_8601.test(value) || Number.isNaN(d.getTime())) {
    throw new TypeError(`${JSON.stringify(value.slice(0, 64))} is not an ISO 8601 date-time, e.g. 2030-01-31T12:00:00Z`);
  }
  return d;
}

export const DateTime = new GraphQLScalarType<Date, string>({
  name: "DateTime",
  serialize: (value) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString()),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseMinorUnits(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw new TypeError(`MinorUnits must be a whole number of minor units between ±${Number.MAX_SAFE_INTEGER} (1999 is 19.99 EUR), not ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Money's amount: a whole number of the currency's minor units (cents), as a
 * JSON number. Never a float: 19.99 EUR is 1999. Only safe integers
 * (|n| ≤ 2^53 − 1) pass, so no client can lose a cent to rounding.
 */
export const MinorUnits = new GraphQLScalarType<number, number>({
  name: "MinorUnits",
  serialize: (value) => parseMinorUnits(value),
  parseValue: parseMinorUnits,
  parseLiteral: (ast) => parseMinorUnits(ast.kind === Kind.INT ? Number(ast.value) : ast.kind === Kind.FLOAT ? Number(ast.value) : undefined),
});
