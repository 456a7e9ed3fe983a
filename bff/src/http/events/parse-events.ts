import { EventsRequestError } from "./reply.js";

export type EventsFormat = "json" | "ndjson";

const tooMany = (max: number, got: string) =>
  new EventsRequestError(413, "TOO_MANY_EVENTS", `at most ${max} events per call (got ${got}); split the events into several calls`, { limit: max });

const noEvents = () => new EventsRequestError(400, "NO_EVENTS", "the body holds no events");

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** A JSON array of events, or `{"events": [...]}`. */
function parseJson(text: string, maxEvents: number): unknown[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new EventsRequestError(400, "INVALID_JSON", `the body is not valid JSON: ${(err as Error).message}`);
  }
  const events = Array.isArray(body) ? body : isObject(body) && Object.keys(body).length === 1 && Array.isArray(body.events) ? body.events : undefined;
  if (!events) throw new EventsRequestError(400, "INVALID_JSON", 'the body must be a JSON array of events or an object {"events": [...]}');
  if (events.length > maxEvents) throw tooMany(maxEvents, String(events.length));
  return events;
}

/** One event per line; blank lines are skipped (they are no event and have no index). */
function parseNdjson(text: string, maxEvents: number): unknown[] {
  const events: unknown[] = [];
  let start = 0;
  for (let line = 1; start <= text.length; line++) {
    let end = text.indexOf("\n", start);
    if (end === -1) end = text.length;
    const source = text.slice(start, end).trim();
    start = end + 1;
    if (source === "") continue;
    if (events.length === maxEvents) throw tooMany(maxEvents, "more");
    try {
      events.push(JSON.parse(source));
    } catch (err) {
      throw new EventsRequestError(400, "INVALID_NDJSON", `line ${line} is not valid JSON: ${(err as Error).message}`, { line });
    }
  }
  return events;
}

/** The items of the body, not yet checked one by one (event-items.ts does that). */
export function parseEvents(text: string, format: EventsFormat, maxEvents: number): unknown[] {
  const events = format === "json" ? parseJson(text, maxEvents) : parseNdjson(text, maxEvents);
  if (events.length === 0) throw noEvents();
  return events;
}

/** The body's format by its Content-Type; anything else is 415. */
export function formatOf(contentType: string | undefined): EventsFormat {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/json") return "json";
  if (type === "application/x-ndjson" || type === "application/ndjson" || type === "application/jsonl") return "ndjson";
  throw new EventsRequestError(415, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be application/json (an array of events, or {\"events\": [...]}) or application/x-ndjson (one event per line)");
}
