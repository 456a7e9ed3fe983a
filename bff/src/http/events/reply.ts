import type { ServerResponse } from "node:http";

/**
 * A refusal of POST /v1/events: its HTTP status and code, answered as the
 * edge answers every refusal, `{"errors":[{"message","extensions":{"code",…}}]}`.
 */
export class EventsRequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** More machine-readable facts (the NDJSON line at fault, a limit). */
    readonly extensions: Record<string, string | number> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "EventsRequestError";
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers });
  res.end(JSON.stringify(body));
}

/** `headers` first, the error's own over them (its Retry-After). */
export function sendError(res: ServerResponse, err: EventsRequestError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, { errors: [{ message: err.message, extensions: { code: err.code, ...err.extensions } }] }, { ...headers, ...err.headers });
}
