import { InvalidArgumentError, type ServiceRegistration } from "@apgms/common";
import {
  AuditOutcome,
  AuditServiceService,
  type AuditEvent,
  type AuditServiceServer,
  type ListAuditEventsRequest,
  type ListAuditEventsResponse,
} from "@apgms/proto/apgms/identity/v1/audit";
import { listAuditEvents, type StoredAuditEvent } from "../db/audit-events.js";
import { scoped, type HandlerDeps } from "./scope.js";

const FILTER_MAX = 255;

const OUTCOMES: Record<string, AuditOutcome> = {
  ok: AuditOutcome.AUDIT_OUTCOME_OK,
  refused: AuditOutcome.AUDIT_OUTCOME_REFUSED,
  failed: AuditOutcome.AUDIT_OUTCOME_FAILED,
};

function filterText(field: string, value: string): string | undefined {
  if (value.length > FILTER_MAX) throw new InvalidArgumentError(field, `must be at most ${FILTER_MAX} characters`);
  return value || undefined;
}

export function auditEventToProto(e: StoredAuditEvent): AuditEvent {
  return {
    id: e.id,
    occurTime: e.occurredAt,
    tenantId: e.tenantId ?? "",
    principal: e.principal,
    action: e.action,
    targetIds: e.targetIds,
    outcome: OUTCOMES[e.outcome] ?? AuditOutcome.AUDIT_OUTCOME_UNSPECIFIED,
    errorCodes: e.errorCodes,
    requestId: e.requestId,
    traceId: e.traceId,
    source: e.source,
    details: (e.details ?? {}) as Record<string, string>,
  };
}

export function auditService(deps: HandlerDeps): ServiceRegistration {
  const implementation: AuditServiceServer = {
    listAuditEvents: scoped<ListAuditEventsRequest, ListAuditEventsResponse>(deps, "ListAuditEvents", async (req, { tenantId, pages, db }) => {
      if (req.fromTime && req.toTime && req.fromTime >= req.toTime) throw new InvalidArgumentError("to_time", "must be after from_time");
      const filter = {
        action: filterText("action", req.action),
        principal: filterText("principal", req.principal),
        from: req.fromTime,
        to: req.toTime,
      };
      const { events, nextPageToken } = await listAuditEvents(db, tenantId, pages.read(req.page), filter);
      return { events: events.map(auditEventToProto), page: pages.next(nextPageToken) };
    }),
  };
  return { name: "apgms.identity.v1.AuditService", definition: AuditServiceService, implementation };
}
