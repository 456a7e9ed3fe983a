import type { AuditEvent as AuditEventRow, Prisma } from "../generated/prisma/client.js";
import { slicePage, type Page } from "@apgms/common";
import type { Db } from "./client.js";

/** A record as the consumer stores it (already validated). */
export interface AuditEventInput {
  id: string;
  tenantId: string | null;
  occurredAt: Date;
  principal: string;
  action: string;
  targetIds: string[];
  outcome: string;
  errorCodes: string[];
  requestId: string;
  traceId: string;
  source: string;
  details: Record<string, string>;
}

/**
 * Appends records; ones already stored (same id: a redelivery, a retried
 * publish) are skipped, never updated: the table is append-only.
 * Returns how many were new.
 */
export async function appendAuditEvents(db: Db, events: AuditEventInput[]): Promise<number> {
  if (events.length === 0) return 0;
  const { count } = await db.auditEvent.createMany({ data: events, skipDuplicates: true });
  return count;
}

export interface AuditFilter {
  action?: string;
  principal?: string;
  from?: Date;
  to?: Date;
}

export type StoredAuditEvent = AuditEventRow & { createdAt: Date };

/** A tenant's trail, newest first, in (occurredAt, id) descending order. */
export async function listAuditEvents(db: Db, tenantId: string, page: Page, filter: AuditFilter) {
  const { after } = page;
  const occurredAt: Prisma.DateTimeFilter = {};
  if (filter.from) occurredAt.gte = filter.from;
  if (filter.to) occurredAt.lt = filter.to;
  const rows = await db.auditEvent.findMany({
    where: {
      tenantId,
      ...(filter.action ? { action: filter.action } : {}),
      ...(filter.principal ? { principal: filter.principal } : {}),
      ...(filter.from || filter.to ? { occurredAt } : {}),
      ...(after
        ? { OR: [{ occurredAt: { lt: after.createdAt } }, { occurredAt: after.createdAt, id: { lt: after.id } }] }
        : {}),
    },
    orderBy: [{ occurredAt: "desc" }, { id: "desc" }],
    take: page.size + 1,
  });
  // The page cursor is (createdAt, id): here createdAt is when the event occurred.
  const { items, nextPageToken } = slicePage(
    rows.map((r): StoredAuditEvent => ({ ...r, createdAt: r.occurredAt })),
    page.size,
  );
  return { events: items, nextPageToken };
}
