import type { IncomingMessage, ServerResponse } from "node:http";
import cors from "cors";

/** Request headers a browser client of /graphql may send beyond the CORS-safelisted ones. */
const ALLOWED_HEADERS = ["authorization", "content-type", "x-api-key", "x-apgms-tenant", "x-request-id"];
/** Response headers its script may read. */
const EXPOSED_HEADERS = ["x-request-id", "x-apgms-tenant", "www-authenticate", "retry-after", "ratelimit", "ratelimit-policy"];

/**
 * The CORS policy of /graphql: only the configured origins (exact
 * `scheme://host[:port]`) get `Access-Control-Allow-Origin`; none by default,
 * so only same-origin pages can read answers. Credentials travel in headers,
 * never cookies, so `Access-Control-Allow-Credentials` is never sent.
 * Returns true when it answered a preflight (OPTIONS) itself, before
 * authentication, which a preflight cannot pass (it carries no credentials).
 */
export function createCors(origins: readonly string[]) {
  const middleware = cors({
    origin: [...origins],
    methods: ["GET", "POST"],
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: 600,
  });
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    // With a static policy the middleware works synchronously: it ends a preflight, else calls next.
    middleware(req, res, () => {});
    return res.writableEnded;
  };
}
