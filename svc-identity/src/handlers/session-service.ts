import { isIP } from "node:net";
import { InvalidArgumentError, unary, withTenant, type ServiceRegistration } from "@apgms/common";
import {
  SessionServiceService,
  type ListSessionsRequest,
  type ListSessionsResponse,
  type RevokeSessionRequest,
  type RevokeSessionResponse,
  type SessionServiceServer,
  type TouchSessionRequest,
  type TouchSessionResponse,
} from "@apgms/proto/apgms/identity/v1/session";
import { listSessions, revokeSession, touchSession } from "../db/sessions.js";
import * as v from "../domain/validate.js";
import { scoped, tenantIdOf, type HandlerDeps } from "./scope.js";
import type { Tx } from "../db/client.js";
import type { Session } from "../generated/prisma/client.js";
import { sessionToProto } from "./to-proto.js";

const USER_AGENT_MAX = 512;

function ip(value: string): string {
  if (value !== "" && isIP(value) === 0) throw new InvalidArgumentError("ip", "must be an IPv4 or IPv6 address");
  return value;
}

export function sessionService(deps: HandlerDeps): ServiceRegistration {
  const { prisma } = deps;
  const implementation: SessionServiceServer = {
    // Not scoped(): its one statement checks the tenant is live itself (this is the edge's hot path);
    // it knows its tenant, so it runs in that tenant's transaction like scoped() would.
    touchSession: unary<TouchSessionRequest, TouchSessionResponse>(deps.logger, "TouchSession", async (req, ctx) => {
      const tenantId = tenantIdOf(ctx);
      const sighting = {
        userId: v.uuid("user_id", req.userId),
        sessionKey: v.text("session_key", req.sessionKey, 255),
        // Informational only: an odd user agent must not fail a sign-in.
        userAgent: req.userAgent.slice(0, USER_AGENT_MAX),
        ip: ip(req.ip),
        expiresAt: req.expireTime,
      };
      const session = await withTenant<Tx, Session>(prisma, tenantId, (tx) => touchSession(tx, tenantId, sighting));
      return { session: sessionToProto(session) };
    }),

    listSessions: scoped<ListSessionsRequest, ListSessionsResponse>(deps, "ListSessions", async (req, { tenantId, pages, db }) => {
      const filter = { userId: v.optionalUuid("user_id", req.userId), includeRevoked: req.includeRevoked };
      const { sessions, nextPageToken } = await listSessions(db, tenantId, pages.read(req.page), filter);
      return { sessions: sessions.map(sessionToProto), page: pages.next(nextPageToken) };
    }),

    revokeSession: scoped<RevokeSessionRequest, RevokeSessionResponse>(deps, "RevokeSession", async (req, { tenantId, db }) => {
      const session = await revokeSession(db, tenantId, v.uuid("session_id", req.sessionId));
      return { session: sessionToProto(session) };
    }),
  };
  return { name: "apgms.identity.v1.SessionService", definition: SessionServiceService, implementation };
}
