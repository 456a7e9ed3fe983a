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

// One statement for the whole batch, its rows as one jsonb parameter: Prisma's createMany
// spent about 500 µs of CPU per record here (its query compiler), this a few (docs/benchmarks.md, "Issue 8").
const APPEND = `INSERT INTO identity.audit_events (id, tenant_id, occurred_at, principal, action, target_ids, outcome, error_codes, request_id, trace_id, source, details)
SELECT r.id, r.tenant_id, r.occurred_at, r.principal, r.action, r.target_ids, r.outcome, r.error_codes, r.request_id, r.trace_id, r.source, r.details
  FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, tenant_id uuid, occurred_at timestamptz, principal text, action text, target_ids text[],
                                          outcome text, error_codes text[], request_id text, trace_id text, source text, details jsonb)
ON CONFLICT (id) DO NOTHING`;

/**
 * Appends records; ones already stored (same id: a redelivery, a retried
 * publish) are skipped, never updated: the table is append-only.
 * Returns how many were new.
 */
export async function appendAuditEvents(db: Db, events: AuditEventInput[]): Promise<number> {
  if (events.length === 0) return 0;
  const rows = events.map((e) => ({
    id: e.id,
    tenant_id: e.tenantId,
    occurred_at: e.occurredAt.toISOString(),
    principal: e.principal,
    action: e.action,
    target_ids: e.targetIds,
    outcome: e.outcome,
    error_codes: e.errorCodes,
    request_id: e.requestId,
    trace_id: e.traceId,
    source: e.source,
    details: e.details,
  }));
  return db.$executeRawUnsafe(APPEND, JSON.stringify(rows));
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
