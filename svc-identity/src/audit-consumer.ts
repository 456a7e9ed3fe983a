import { asPlatform, type Logger } from "@apgms/common";
import type { AuditStream } from "@apgms/common/audit/stream";
import { decodeAuditMessage } from "@apgms/common/audit/jetstream-sink";
import { ensureStream, startDurableConsumer, type Disposition, type DurableConsumer, type JsMsg } from "@apgms/common/nats/jetstream";
import type { NatsConnection } from "@apgms/common/nats/connect";
import { AuditEvent, AuditOutcome } from "@apgms/proto/apgms/identity/v1/audit";
import { appendAuditEvents, type AuditEventInput } from "./db/audit-events.js";
import type { PrismaClient } from "./generated/prisma/client.js";
import { isUuid } from "./domain/validate.js";

const OUTCOMES: Partial<Record<AuditOutcome, string>> = {
  [AuditOutcome.AUDIT_OUTCOME_OK]: "ok",
  [AuditOutcome.AUDIT_OUTCOME_REFUSED]: "refused",
  [AuditOutcome.AUDIT_OUTCOME_FAILED]: "failed",
};

// Postgres text cannot hold NUL; a record from any emitter is stored without it.
const text = (value: string, max: number) => value.replace(/\u0000/g, "\uFFFD").slice(0, max);

/** A data exception (SQLSTATE class 22): the row can never be stored, retrying would loop forever. */
function isDataError(err: unknown): boolean {
  const meta = (err as { meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } } } | null)?.meta;
  return String(meta?.driverAdapterError?.cause?.originalCode ?? "").startsWith("22");
}

/** The row for a record, or why it can never be stored. */
export function auditRow(e: AuditEvent): AuditEventInput | string {
  if (!isUuid(e.id)) return "id is not a UUID";
  if (e.tenantId !== "" && !isUuid(e.tenantId)) return "tenant_id is not a UUID";
  if (!e.occurTime) return "occur_time is missing";
  if (!e.action || e.action.length > 255) return "action is empty or too long";
  const outcome = OUTCOMES[e.outcome];
  if (!outcome) return "outcome is unspecified";
  return {
    id: e.id.toLowerCase(),
    tenantId: e.tenantId ? e.tenantId.toLowerCase() : null,
    occurredAt: e.occurTime,
    principal: text(e.principal, 512),
    action: text(e.action, 255),
    targetIds: e.targetIds.slice(0, 64).map((t) => text(t, 255)),
    outcome,
    errorCodes: e.errorCodes.slice(0, 32).map((c) => text(c, 64)),
    requestId: text(e.requestId, 128),
    traceId: text(e.traceId, 32),
    source: text(e.source, 64),
    details: Object.fromEntries(Object.entries(e.details).slice(0, 32).map(([k, v]) => [text(k, 64), text(v, 256)])),
  };
}

export interface AuditConsumerOptions {
  nc: NatsConnection;
  db: PrismaClient;
  logger: Logger;
  names: AuditStream;
}

/**
 * Stores the audit stream into identity.audit_events: one durable consumer
 * (shared by every replica), explicit acks after the insert, so a record is
 * acknowledged only once stored. Inserting by the record's id makes a
 * redelivery harmless. While Postgres fails, records are retried, never
 * dropped; a record that can never be stored is terminated and logged whole.
 */
export async function startAuditConsumer(options: AuditConsumerOptions): Promise<DurableConsumer> {
  const { nc, db, logger, names } = options;
  await ensureStream(nc, names.stream);
  // Records of every tenant (and of none) arrive here: a platform path under row-level security.
  const store = (rows: AuditEventInput[]) => asPlatform(db, (tx) => appendAuditEvents(tx, rows));

  /**
   * The message's rows (a batch or one record); records that can never be
   * stored are logged and left out; "reject" when none is left.
   */
  function decode(msg: JsMsg): Array<{ row: AuditEventInput; event: AuditEvent }> | "reject" {
    let events: AuditEvent[];
    try {
      events = decodeAuditMessage(msg.data, msg.headers);
    } catch (err) {
      logger.error({ err, seq: msg.seq, bytes: Buffer.from(msg.data).toString("base64") }, "audit record dropped: not an AuditEvent or AuditEventBatch");
      return "reject";
    }
    const rows: Array<{ row: AuditEventInput; event: AuditEvent }> = [];
    for (const event of events) {
      const row = auditRow(event);
      if (typeof row === "string") logger.error({ audit: AuditEvent.toJSON(event), reason: row }, "audit record dropped: invalid");
      else rows.push({ row, event });
    }
    return rows.length > 0 ? rows : "reject";
  }

  return startDurableConsumer(nc, {
    stream: names.stream.name,
    durable: names.durable,
    logger,
    retryDelayMs: 2_000,
    // One transaction per batch of messages (each message itself a batch of records, see common's
    // jetstream-sink): a burst is stored at hundreds of rows per insert, not one by one.
    batchSize: 50,
    async handleBatch(msgs) {
      const decoded = msgs.map(decode);
      const valid = decoded.flatMap((d) => (d === "reject" ? [] : d));
      try {
        await store(valid.map((d) => d.row));
        return decoded.map((d) => (d === "reject" ? "reject" : "ack"));
      } catch (err) {
        if (!isDataError(err)) throw err;
      }
      // The database refused some row's data: store them one by one to drop only that one.
      const out: Disposition[] = [];
      for (const d of decoded) {
        if (d === "reject") {
          out.push("reject");
          continue;
        }
        for (const { row, event } of d) {
          try {
            await store([row]);
          } catch (err) {
            if (!isDataError(err)) throw err;
            logger.error({ err, audit: AuditEvent.toJSON(event) }, "audit record dropped: the database refuses its data");
          }
        }
        out.push("ack");
      }
      return out;
    },
  });
}
