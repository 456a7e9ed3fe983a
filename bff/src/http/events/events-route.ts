import type { IncomingMessage, ServerResponse } from "node:http";
import { principalToString, runWithContext, type RequestContext } from "@apgms/common/context";
import { isServiceError } from "@apgms/common/errors";
import type { Logger } from "@apgms/common/logger";
import { IngestEventsRequest } from "@apgms/proto/apgms/insights/v1/event";
import { status } from "@grpc/grpc-js";
import type { EdgeAudit } from "../../audit/edge-audit.js";
import type { Authenticator } from "../../auth/authenticator.js";
import { AuthError } from "../../auth/errors.js";
import type { AuthPrincipal } from "../../auth/principal.js";
import { outcomeOf } from "../../graphql/audit.js";
import { BULK_MAX_EVENTS, EVENTS_PER_POINT } from "../../graphql/insights/limits.js";
import { ingestReport, type IngestReport } from "../../graphql/insights/to-graphql.js";
import { can } from "../../graphql/permissions.js";
import type { InsightsClients } from "../../insights-clients.js";
import type { EdgeLimiter } from "../../limits/edge-limiter.js";
import { rateLimitedMessage } from "../../limits/use-rate-limit.js";
import { clientIp, principalRef, requestIdOf } from "../request-meta.js";
import { checkItems } from "./event-items.js";
import { formatOf, parseEvents } from "./parse-events.js";
import { readEventsBody, type BodyLimits } from "./read-body.js";
import { EventsRequestError, sendError, sendJson } from "./reply.js";

export const EVENTS_PATH = "/v1/events";

/** The defaults of POST /v1/events' limits (docs/api.md#insights). */
export const EVENTS_BODY_LIMITS: BodyLimits = { maxBodyBytes: 5 * 1024 * 1024, maxDecodedBytes: 20 * 1024 * 1024 };

/** The largest IngestEvents request svc-insights receives (its gRPC server's limit, 8 MiB, less room for the envelope). */
const MAX_GRPC_MESSAGE_BYTES = 8 * 1024 * 1024 - 64 * 1024;
/**
 * Protobuf never takes more than this many times the JSON an event came in
 * (the worst case, a number attribute with a one-letter key, is 16 bytes for
 * JSON's 6): below MAX_GRPC_MESSAGE_BYTES / this, the request is not encoded
 * twice just to measure it.
 */
const PROTO_PER_JSON_BYTE = 3;

export interface EventsRouteOptions {
  insights: InsightsClients;
  auth: Authenticator;
  audit: EdgeAudit;
  logger: Logger;
  trustProxy: boolean;
  /** The edge's rate limits: per address before authentication, then 1 point + 1 per 10 events per principal and tenant. */
  limiter?: EdgeLimiter;
  /** Deadline of a request from its arrival (REQUEST_TIMEOUT_MS); the IngestEvents call inherits it. */
  requestTimeoutMs: number;
  limits?: BodyLimits;
  /** Events per call: svc-insights' batch limit. */
  maxEvents?: number;
}

/** What the audit record of a call says about it (never its events). */
type CallFacts = Record<string, string | number | boolean | undefined>;

/** What the client is told of a failure: a refusal as it is; svc-insights down as 503; anything else logged and masked. */
function refusalOf(err: unknown, logger: Logger, requestId: string): EventsRequestError {
  if (err instanceof EventsRequestError) return err;
  const code = isServiceError(err) ? err.code : undefined;
  if (code === status.UNAVAILABLE || code === status.DEADLINE_EXCEEDED) {
    return new EventsRequestError(503, "SERVICE_UNAVAILABLE", "svc-insights is unavailable; retry the same events shortly (stored ones count as duplicates)", {}, { "retry-after": "1" });
  }
  if (code === status.INVALID_ARGUMENT && isServiceError(err)) return new EventsRequestError(400, "BAD_REQUEST", err.details);
  logger.error({ err, requestId }, "POST /v1/events failed");
  return new EventsRequestError(500, "INTERNAL_SERVER_ERROR", "unexpected error");
}

/**
 * POST /v1/events: bulk ingestion for partners. The body is a JSON array of
 * events, `{"events": [...]}`, or NDJSON (application/x-ndjson), optionally
 * gzipped; up to 5,000 events. Credentials as on /graphql (an API key with
 * `events:write`, or a token of an owner or admin). The answer is the
 * ingestion report, as GraphQL's ingestEvents gives it; every authenticated
 * call its rate limit lets through is one audit record, with its counts or
 * its refusal's code.
 */
export function createEventsHandler(options: EventsRouteOptions) {
  const { insights, auth, audit, logger, trustProxy, limiter, requestTimeoutMs, limits = EVENTS_BODY_LIMITS, maxEvents = BULK_MAX_EVENTS } = options;

  async function ingest(principal: AuthPrincipal, req: IncomingMessage, facts: CallFacts, charge: (cost: number) => Promise<void>): Promise<IngestReport> {
    if (!can(principal, "events:write")) throw new EventsRequestError(403, "FORBIDDEN", "not allowed: events:write (an API key with the events:write scope, or an owner or admin)");
    const format = formatOf(req.headers["content-type"]);
    facts.format = format;
    let body: Awaited<ReturnType<typeof readEventsBody>>;
    let items: unknown[];
    try {
      body = await readEventsBody(req, limits);
      Object.assign(facts, { bytes: body.bytes, decodedBytes: body.decodedBytes, gzip: body.gzip });
      items = parseEvents(body.text, format, maxEvents);
    } catch (err) {
      // A refused body (too large, not gzip, not JSON) costs a call's point too.
      await charge(1);
      throw err;
    }
    facts.events = items.length;
    await charge(1 + Math.ceil(items.length / EVENTS_PER_POINT));
    const checked = checkItems(items);
    let report: IngestReport = { accepted: 0, duplicates: 0, rejected: [] };
    if (checked.events.length > 0) {
      const request = { events: checked.events };
      const encoded = body.decodedBytes * PROTO_PER_JSON_BYTE > MAX_GRPC_MESSAGE_BYTES ? IngestEventsRequest.encode(request).finish().length : 0;
      if (encoded > MAX_GRPC_MESSAGE_BYTES) {
        throw new EventsRequestError(413, "REQUEST_ENTITY_TOO_LARGE", `these events encode to ${encoded} bytes, over the ${MAX_GRPC_MESSAGE_BYTES} one ingestion call carries; split them into several calls`, { limit: MAX_GRPC_MESSAGE_BYTES });
      }
      report = ingestReport(await insights.events.ingestEvents(request));
      // svc-insights indexes what it was sent; the client indexes its body.
      for (const r of report.rejected) r.index = checked.positions[r.index] ?? r.index;
    }
    report.rejected = [...checked.rejected, ...report.rejected].sort((a, b) => a.index - b.index);
    return report;
  }

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestId = requestIdOf(req);
    res.setHeader("x-request-id", requestId);
    // A body refused before it was read to its end leaves its rest on the connection: close it, never reuse it.
    const socket = req.socket;
    res.once("finish", () => void (req.complete || socket.destroySoon()));
    if (req.method !== "POST") return sendError(res, new EventsRequestError(405, "METHOD_NOT_ALLOWED", `${EVENTS_PATH} takes POST`, {}, { allow: "POST" }));
    const deadline = Date.now() + requestTimeoutMs;
    const ip = clientIp(req, trustProxy);

    const limits = await limiter?.admit(ip, requestId);
    const rateLimitHeaders = () => limits?.headers() ?? {};
    const rateLimited = (retryAfter: number) =>
      new EventsRequestError(429, "RATE_LIMITED", rateLimitedMessage(retryAfter), {}, { "retry-after": String(retryAfter) });
    if (limits?.retryAfter !== undefined) return sendError(res, rateLimited(limits.retryAfter), rateLimitHeaders());

    let principal: AuthPrincipal;
    try {
      principal = await auth.authenticate({ headers: req.headers, ip, requestId });
    } catch (err) {
      if (err instanceof AuthError) {
        if (req.headers.authorization || req.headers["x-api-key"]) audit.securityEvent("auth.failed", { requestId, ip, reason: err.message });
        return sendError(res, new EventsRequestError(401, "UNAUTHENTICATED", err.message, {}, { "www-authenticate": err.challenge }), rateLimitHeaders());
      }
      logger.error({ err, requestId }, "authentication failed on a dependency");
      return sendError(res, new EventsRequestError(503, "SERVICE_UNAVAILABLE", "authentication is unavailable, retry shortly", {}, { "retry-after": "1" }), rateLimitHeaders());
    }
    res.setHeader("x-apgms-tenant", principal.tenant.id);
    const ref = principalRef(principal);
    if (principal.kind === "user" && principal.signedIn) {
      audit.securityEvent("auth.signIn", { requestId, ip, tenantId: principal.tenant.id, principal: `user:${principal.user.id}`, targetIds: [principal.sessionId] });
    }

    const requestContext: RequestContext = { requestId, tenantId: principal.tenant.id, principal: ref, deadline };
    const facts: CallFacts = { via: `POST ${EVENTS_PATH}` };
    const charge = async (cost: number) => {
      if (!limits || (await limits.charge(ref, principal.tenant.id, cost))) return;
      throw rateLimited(limits.retryAfter ?? 1);
    };
    const record = { action: "ingestEvents", tenantId: principal.tenant.id, principal: principalToString(ref), requestId, details: facts };
    try {
      const report = await runWithContext(requestContext, () => ingest(principal, req, facts, charge));
      audit.record({ ...record, outcome: "ok", details: { ...facts, accepted: report.accepted, duplicates: report.duplicates, rejected: report.rejected.length } });
      sendJson(res, 200, report, rateLimitHeaders());
    } catch (err) {
      const refusal = refusalOf(err, logger, requestId);
      // A call its principal or tenant had no budget for never ran: the limiter recorded rateLimit.hit (as for GraphQL).
      if (refusal.code !== "RATE_LIMITED") audit.record({ ...record, outcome: outcomeOf(refusal.code), errorCodes: [refusal.code] });
      sendError(res, refusal, rateLimitHeaders());
    }
  };
}
