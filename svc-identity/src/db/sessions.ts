import { NotFoundError } from "@apgms/common";
import type { Session } from "../generated/prisma/client.js";
import { afterCursor, pageOrder, slicePage, type Page } from "../domain/pagination.js";
import type { Db } from "./client.js";
import { isUniqueViolation } from "./errors.js";
import { requireUser } from "./users.js";

export interface SessionSighting {
  userId: string;
  sessionKey: string;
  userAgent: string;
  ip: string;
  /** Kept as stored when undefined. */
  expiresAt?: Date;
}

/**
 * Records a sign-in seen by the edge: created on first sight, else last-seen,
 * user agent, IP (and expiry when given) are refreshed. A revoked session is
 * returned as stored: it stays revoked.
 */
export async function touchSession(db: Db, tenantId: string, s: SessionSighting): Promise<Session> {
  await requireUser(db, tenantId, s.userId);
  const key = { userId_sessionKey: { userId: s.userId, sessionKey: s.sessionKey } };
  const existing = await db.session.findUnique({ where: key });
  if (existing?.revokedAt) return existing;
  const seen = { userAgent: s.userAgent, ip: s.ip, lastSeenAt: new Date(), ...(s.expiresAt ? { expiresAt: s.expiresAt } : {}) };
  const upsert = () =>
    db.session.upsert({
      where: key,
      create: { tenantId, userId: s.userId, sessionKey: s.sessionKey, ...seen },
      update: seen,
    });
  try {
    return await upsert();
  } catch (err) {
    // Two first sightings raced on the insert: the loser becomes an update.
    if (isUniqueViolation(err)) return upsert();
    throw err;
  }
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
