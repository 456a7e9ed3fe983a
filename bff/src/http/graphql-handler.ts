import type { IncomingMessage, ServerResponse } from "node:http";
import { runWithContext, type RequestContext } from "@apgms/common/context";
import type { Logger } from "@apgms/common/logger";
import type { EdgeAudit } from "../audit/edge-audit.js";
import type { Authenticator } from "../auth/authenticator.js";
import { AuthError, UnlinkedIdentityError } from "../auth/errors.js";
import type { AuthPrincipal } from "../auth/principal.js";
import type { ServerContext } from "../graphql/context.js";
import type { OnboardingYoga } from "../graphql/onboarding/yoga.js";
import type { Yoga } from "../graphql/yoga.js";
import { REQUEST_LIMIT_DEFAULTS } from "../graphql/limits/defaults.js";
import type { EdgeLimiter } from "../limits/edge-limiter.js";
import type { FastGraphql } from "./fast-graphql.js";
import { rateLimitedMessage } from "../limits/use-rate-limit.js";
import { clientIp, principalRef, requestIdOf } from "./request-meta.js";

export interface GraphqlHandlerOptions {
  yoga: Yoga;
  /** Serves identities linked to no user (sign-up); absent when sign-up is off. */
  onboarding?: OnboardingYoga;
  auth: Authenticator;
  /** Records sign-ins and refused credentials. */
  audit?: EdgeAudit;
  logger: Logger;
  development: boolean;
  /** Take the client address from X-Forwarded-For (behind a trusted proxy only). */
  trustProxy: boolean;
  /** Rate limits per client address (here, before authentication) and by cost (in Yoga); off when absent. */
  limiter?: EdgeLimiter;
  /** Deadline of a request from its arrival; its gRPC calls inherit it (default 10 s). */
  requestTimeoutMs?: number;
  /** The CORS policy (http/cors.ts): true when it answered a preflight itself. */
  cors?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Serves ordinary POSTs through Yoga's pipeline without its Fetch-API layer (fast-graphql.ts); absent: Yoga serves all. */
  fast?: FastGraphql;
}

function sendError(res: ServerResponse, status: number, code: string, message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
  res.end(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
}

/**
 * The /graphql route, mounted on node:http ahead of express (express costs
 * CPU per request that this hot path does not need). Authenticates before
 * Yoga sees the request: a refused credential is a 401 with a
 * WWW-Authenticate challenge, never a partial GraphQL result.
 */
export function createGraphqlHandler(options: GraphqlHandlerOptions) {
  const { yoga, onboarding, auth, audit, logger, development, trustProxy, limiter, requestTimeoutMs = REQUEST_LIMIT_DEFAULTS.timeoutMs, cors, fast } = options;

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdOf(req);
    res.setHeader("x-request-id", requestId);
    // A body refused before it was read to its end (413) leaves its rest on the connection: close it, never reuse it.
    const socket = req.socket;
    res.once("finish", () => void (req.complete || socket.destroySoon()));
    // A preflight carries no credentials: it is answered before authentication.
    if (cors?.(req, res)) return;
    const deadline = Date.now() + requestTimeoutMs;

    const hasCredentials = Boolean(req.headers.authorization || req.headers["x-api-key"]);
    if (development && !hasCredentials && req.method === "GET" && req.headers.accept?.includes("text/html")) {
      // GraphiQL's page executes nothing; the queries it sends carry the token.
      return void yoga(req, res, {} as ServerContext);
    }

    const ip = clientIp(req, trustProxy);
    const limits = await limiter?.admit(ip, requestId);
    if (limits) {
      for (const [name, value] of Object.entries(limits.headers())) res.setHeader(name, value);
      const retryAfter = limits.retryAfter;
      if (retryAfter !== undefined) {
        return sendError(res, 429, "RATE_LIMITED", rateLimitedMessage(retryAfter), { "retry-after": String(retryAfter) });
      }
    }
    let principal: AuthPrincipal;
    try {
      principal = await auth.authenticate({ headers: req.headers, ip, requestId });
    } catch (err) {
      if (err instanceof UnlinkedIdentityError && onboarding) {
        const requestContext: RequestContext = { requestId, principal: { kind: "service", id: "bff-onboarding" }, deadline };
        return void (await runWithContext(requestContext, () => onboarding(req, res, { claims: err.claims, requestContext })));
      }
      if (err instanceof AuthError) {
        // Only presented credentials are a failed authentication; none at all is just a 401.
        if (hasCredentials) audit?.securityEvent("auth.failed", { requestId, ip, reason: err.message });
        return sendError(res, 401, "UNAUTHENTICATED", err.message, { "www-authenticate": err.challenge });
      }
      logger.error({ err, requestId }, "authentication failed on a dependency");
      return sendError(res, 503, "SERVICE_UNAVAILABLE", "authentication is unavailable, retry shortly", { "retry-after": "1" });
    }

    res.setHeader("x-apgms-tenant", principal.tenant.id);
    if (principal.kind === "user" && principal.signedIn) {
      audit?.securityEvent("auth.signIn", { requestId, ip, tenantId: principal.tenant.id, principal: `user:${principal.user.id}`, targetIds: [principal.sessionId] });
    }
    const requestContext: RequestContext = { requestId, tenantId: principal.tenant.id, principal: principalRef(principal), deadline };
    const context: ServerContext = { principal, requestContext, rateLimit: limits };
    if (fast?.accepts(req)) return runWithContext(requestContext, () => fast.serve(req, res, context));
    await runWithContext(requestContext, () => yoga(req, res, context));
  };
}
