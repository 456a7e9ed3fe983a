import { NotFoundError } from "@apgms/common";
import { Prisma, type Session } from "../generated/prisma/client.js";
import { afterCursor, pageOrder, slicePage, type Page } from "@apgms/common";
import type { Db } from "./client.js";
import { requireLiveTenant } from "./tenants.js";
import { requireUser } from "./users.js";

export interface SessionSighting {
  userId: string;
  sessionKey: string;
  userAgent: string;
  ip: string;
  /** Kept as stored when undefined. */
  expiresAt?: Date;
}

const SESSION_COLUMNS = Prisma.sql`id, tenant_id AS "tenantId", user_id AS "userId", session_key AS "sessionKey",
  user_agent AS "userAgent", ip, created_at AS "createdAt", last_seen_at AS "lastSeenAt",
  expires_at AS "expiresAt", revoked_at AS "revokedAt"`;

/**
 * Records a sign-in seen by the edge: created on first sight, else last-seen,
 * user agent, IP (and expiry when given) are refreshed. A revoked session is
 * returned as stored: it stays revoked. The edge calls this for every session
 * whose state it has not cached, so the usual case is one statement that also
 * checks the user belongs to the live tenant (the handler skips the separate
 * tenant check); only a revoked or unknown session costs a second query.
 */
export async function touchSession(db: Db, tenantId: string, s: SessionSighting): Promise<Session> {
  const rows = await db.$queryRaw<Session[]>`
    INSERT INTO identity.sessions AS s (tenant_id, user_id, session_key, user_agent, ip, last_seen_at, expires_at)
    SELECT u.tenant_id, u.id, ${s.sessionKey}, ${s.userAgent}, ${s.ip}, now(), ${s.expiresAt ?? null}::timestamptz
      FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id
     WHERE u.id = ${s.userId}::uuid AND u.tenant_id = ${tenantId}::uuid AND t.deleted_at IS NULL
    ON CONFLICT (user_id, session_key) DO UPDATE
       SET user_agent = EXCLUDED.user_agent, ip = EXCLUDED.ip, last_seen_at = EXCLUDED.last_seen_at,
           expires_at = COALESCE(EXCLUDED.expires_at, s.expires_at)
     WHERE s.revoked_at IS NULL
    RETURNING ${SESSION_COLUMNS}`;
  if (rows[0]) return rows[0];
  // Nothing written: the session is revoked (returned as it is), or the user is not the live tenant's.
  await requireLiveTenant(db, tenantId);
  await requireUser(db, tenantId, s.userId);
  const revoked = await db.session.findUnique({ where: { userId_sessionKey: { userId: s.userId, sessionKey: s.sessionKey } } });
  if (!revoked || revoked.tenantId !== tenantId) throw new NotFoundError("user", s.userId);
  return revoked;
}

export interface SessionFilter {
  userId?: string;
  includeRevoked: boolean;
}

export async function listSessions(db: Db, tenantId: string, page: Page, filter: SessionFilter) {
  if (filter.userId) await requireUser(db, tenantId, filter.userId);
  const rows = await db.session.findMany({
    where: {
      tenantId,
      ...(filter.userId ? { userId: filter.userId } : {}),
      ...(filter.includeRevoked ? {} : { revokedAt: null }),
      ...afterCursor(page.after),
    },
    orderBy: pageOrder,
    take: page.size + 1,
  });
  const { items, nextPageToken } = slicePage(rows, page.size);
  return { sessions: items, nextPageToken };
}

/** Revokes at once; revoking again keeps the first revoke time. */
export async function revokeSession(db: Db, tenantId: string, id: string): Promise<Session> {
  await db.session.updateMany({ where: { id, tenantId, revokedAt: null }, data: { revokedAt: new Date() } });
  const session = await db.session.findFirst({ where: { id, tenantId } });
  if (!session) throw new NotFoundError("session", id);
  return session;
}
