import type { IncomingMessage, ServerResponse } from "node:http";
import helmet from "helmet";

/**
 * Helmet's headers for every response of the edge, /graphql (plain node:http)
 * and the express routes alike: set once where the server takes a request.
 * The edge serves JSON, so its content security policy allows nothing to load
 * or frame it; in development GraphiQL's page (inline scripts) needs none.
 */
export function createSecurityHeaders({ development }: { development: boolean }) {
  const middleware = helmet({
    contentSecurityPolicy: development
      ? false
      : { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"] } },
    frameguard: { action: "deny" },
  });
  return (req: IncomingMessage, res: ServerResponse): void =>
    // Helmet only sets headers and calls next synchronously.
    middleware(req, res, (err?: unknown) => {
      if (err) throw err;
    });
}
