import { randomUUID } from "node:crypto";
import { isSpanContextValid, trace } from "@opentelemetry/api";
import { logs, SeverityNumber, type LogAttributes, type Logger as OtelLogger } from "@opentelemetry/api-logs";
import { AuditEvent, AuditOutcome } from "@apgms/proto/apgms/identity/v1/audit";
import { currentContext, principalToString } from "../context.js";
import type { Logger } from "../logger.js";
import { maskEmail, printable, redactDetails } from "./redact.js";

export type Outcome = "ok" | "refused" | "failed";

/** One audited fact, as an emitter states it; the trail fills in and redacts the rest. */
export interface AuditInput {
  /** A mutation's field name (`createApiKey`) or a dotted security event (`auth.failed`). */
  action: string;
  outcome: Outcome;
  /** Default: the request context's tenant ("" when none). */
  tenantId?: string;
  /** Default: the request context's principal ("user:<id>", "apiKey:<id>", ...). Emails in it are masked. */
  principal?: string;
  targetIds?: readonly string[];
  errorCodes?: readonly string[];
  /** Default: the request context's request id. */
  requestId?: string;
  /** Default: the active span's trace id, else "". */
  traceId?: string;
  /** Extra facts; secret-like keys are dropped to "[redacted]" and emails masked. */
  details?: Record<string, string | number | boolean | undefined>;
}

/** Where records are stored (JetStream → svc-identity in production). */
export interface AuditSink {
  publish(event: AuditEvent): Promise<void>;
}

export interface AuditTrail {
  /** Builds, redacts and emits one record (log line, OTLP log record, stored trail); returns it. Never throws. */
  record(input: AuditInput): AuditEvent;
  /** Waits until every record emitted so far was handed to the sink (or given up on). */
  flush(): Promise<void>;
}

export interface AuditTrailOptions {
  /** The emitting service, e.g. "bff". */
  source: string;
  logger: Logger;
  /** Absent: records are only logged and exported (no stored trail). */
  sink?: AuditSink;
  /** Default: the global logger provider's "apgms.audit" logger (a no-op until telemetry installs one). */
  otel?: OtelLogger;
}

const OUTCOMES: Record<Outcome, AuditOutcome> = {
  ok: AuditOutcome.AUDIT_OUTCOME_OK,
  refused: AuditOutcome.AUDIT_OUTCOME_REFUSED,
  failed: AuditOutcome.AUDIT_OUTCOME_FAILED,
};

export const outcomeName = (o: AuditOutcome): Outcome | "unspecified" =>
  o === AuditOutcome.AUDIT_OUTCOME_OK ? "ok" : o === AuditOutcome.AUDIT_OUTCOME_REFUSED ? "refused" : o === AuditOutcome.AUDIT_OUTCOME_FAILED ? "failed" : "unspecified";

function activeTraceId(): string {
  const span = trace.getActiveSpan()?.spanContext();
  return span && isSpanContextValid(span) ? span.traceId : "";
}

/** The OTLP log record's attributes: `audit.*`, one per field, details as `audit.detail.<key>`. */
function attributesOf(event: AuditEvent): LogAttributes {
  const attributes: LogAttributes = {
    "audit.id": event.id,
    "audit.action": event.action,
    "audit.outcome": outcomeName(event.outcome),
    "audit.principal": event.principal,
    "audit.tenant_id": event.tenantId,
    "audit.target_ids": event.targetIds,
    "audit.error_codes": event.errorCodes,
    "audit.request_id": event.requestId,
    "audit.trace_id": event.traceId,
    "audit.source": event.source,
  };
  for (const [key, value] of Object.entries(event.details)) attributes[`audit.detail.${key}`] = value;
  return attributes;
}

/** The record as a log line's `audit` field (plain names, the outcome as ok/refused/failed). */
export function auditLogFields(event: AuditEvent) {
  const { id, action, principal, tenantId, targetIds, errorCodes, requestId, traceId, source, details } = event;
  return { id, occurredAt: event.occurTime?.toISOString(), action, outcome: outcomeName(event.outcome), principal, tenantId, targetIds, errorCodes, requestId, traceId, source, details };
}

/**
 * The one way a service audits: each call of `record` produces exactly one
 * record, sent three ways: a log line (`audit: true`), an OpenTelemetry log
 * record (exported over OTLP when telemetry is configured), and the stored
 * trail through the sink. Emitting never blocks or fails the request; a
 * record the sink could not take is logged at error level with its content.
 */
export function createAuditTrail(options: AuditTrailOptions): AuditTrail {
  const { source, logger, sink, otel = logs.getLogger("apgms.audit") } = options;
  const pending = new Set<Promise<void>>();
  return {
    record(input) {
      const ctx = currentContext();
      const principal = input.principal ?? (ctx?.principal ? principalToString(ctx.principal) : "anonymous");
      const event = AuditEvent.create({
        id: randomUUID(),
        occurTime: new Date(),
        tenantId: input.tenantId ?? ctx?.tenantId ?? "",
        principal: printable(maskEmail(principal)),
        action: printable(input.action),
        targetIds: [...new Set(input.targetIds ?? [])].map((t) => printable(maskEmail(t))),
        outcome: OUTCOMES[input.outcome],
        errorCodes: [...(input.errorCodes ?? [])],
        requestId: printable(input.requestId ?? ctx?.requestId ?? ""),
        traceId: input.traceId || activeTraceId(),
        source,
        details: redactDetails(input.details ?? {}),
      });
      logger.info({ audit: auditLogFields(event) }, `audit ${event.action} ${input.outcome}`);
      otel.emit({
        eventName: "apgms.audit",
        severityNumber: input.outcome === "failed" ? SeverityNumber.WARN : SeverityNumber.INFO,
        severityText: input.outcome === "failed" ? "WARN" : "INFO",
        body: `${event.action} ${input.outcome}`,
        attributes: attributesOf(event),
        timestamp: event.occurTime,
      });
      if (sink) {
        const p = sink
          .publish(event)
          .catch((err: unknown) => logger.error({ err, audit: auditLogFields(event) }, "audit record not stored: the stored trail misses it"))
          .finally(() => pending.delete(p));
        pending.add(p);
      }
      return event;
    },
    async flush() {
      while (pending.size) await Promise.all([...pending]);
    },
  };
}
