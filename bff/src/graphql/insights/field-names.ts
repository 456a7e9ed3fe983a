const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/**
 * The argument a client sent for a proto field svc-insights named in an
 * analytics or dimensions error: ranges are `from`/`to` here (not billing's
 * `startsAt`/`endsAt`), and a list item keeps its position
 * (`filters[1].key`, `steps[2]`, `keys[0]`), so the client sees which one.
 */
export function insightsArgument(protoField: string): string {
  if (protoField === "start_time") return "from";
  if (protoField === "end_time") return "to";
  return protoField.split(".").map(camel).join(".");
}

/** The root fields whose errors are named by insightsArgument (errors.ts consults it by field name, not alias). */
export const insightsArgumentNames: Readonly<Record<string, (protoField: string) => string>> = {
  timeSeries: insightsArgument,
  breakdown: insightsArgument,
  funnel: insightsArgument,
  retention: insightsArgument,
  setInsightsDimensions: insightsArgument,
};
