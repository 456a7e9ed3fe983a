const camel = (s: string) => s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** Proto fields whose argument is not their camelCase: ranges are from/to here (not billing's startsAt/endsAt), pages first/after. */
const RENAMED: Readonly<Record<string, string>> = {
  start_time: "from",
  end_time: "to",
  "filter.start_time": "from",
  "filter.end_time": "to",
  "filter.name": "name",
  "page.page_size": "first",
  "page.page_token": "after",
};

/**
 * The argument a client sent for a proto field svc-insights named in an
 * error: RENAMED, else the camelCase of each segment, so a list item keeps
 * its position (`filters[1].key`, `steps[2]`, `keys[0]`) and the client sees
 * which one.
 */
export function insightsArgument(protoField: string): string {
  return RENAMED[protoField] ?? protoField.split(".").map(camel).join(".");
}

/** svc-insights' message in the schema's words: every proto field it names, and enum values without their prefix (METRIC_SUM → SUM). */
export function insightsMessage(details: string): string {
  return details
    .replace(/\b(?:(?:filter|page)\.)?[a-z]+(?:_[a-z0-9]+)+\b/g, (name) => insightsArgument(name))
    .replace(/\b(?:METRIC|GRANULARITY|RETENTION_PERIOD)_([A-Z_]+)\b/g, "$1");
}

/** How a root field's errors name what the client sent. */
export interface ArgumentNaming {
  argument(protoField: string): string;
  message(details: string): string;
}

const naming: ArgumentNaming = { argument: insightsArgument, message: insightsMessage };

/** The insights root fields (errors.ts consults them by field name, not alias). */
export const insightsArgumentNames: Readonly<Record<string, ArgumentNaming>> = {
  events: naming,
  timeSeries: naming,
  breakdown: naming,
  funnel: naming,
  retention: naming,
  setInsightsDimensions: naming,
};
