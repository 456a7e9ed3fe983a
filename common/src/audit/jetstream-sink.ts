import { randomUUID } from "node:crypto";
import { AuditEvent, AuditEventBatch } from "@apgms/proto/apgms/identity/v1/audit";
import { headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { ensureStream, jetstream, publishOnce } from "../nats/jetstream.js";
import type { AuditStream } from "./stream.js";
import type { AuditSink } from "./trail.js";

/**
 * How long records wait to be published together, as one message. On this
 * kind of machine a publish (its socket write, its ack, the stream's store)
 * costs far more CPU than encoding a record: a busy edge (a mutation per
 * request) spent an eighth of its CPU publishing one record per message
 * (docs/benchmarks.md, issue 8). Records never wait for the request.
 */
export const AUDIT_COALESCE_MS = 5;
/** At most this many records per message (a record is well under 2 KiB; NATS takes 1 MiB). */
export const AUDIT_BATCH_MAX = 200;

/** The header that marks a message as an AuditEventBatch (a message without it is one AuditEvent). */
export const AUDIT_BATCH_HEADER = "Apgms-Audit-Batch";

/** The headers of a batch message: a new object each time (the client adds the Nats-Msg-Id to the one it is given). */
export function auditBatchHeaders(): MsgHdrs {
  const hdrs = headers();
  hdrs.set(AUDIT_BATCH_HEADER, "1");
  return hdrs;
}

/** The records a message of the audit stream carries: a batch (by its header) or one record. */
export function decodeAuditMessage(data: Uint8Array, hdrs: MsgHdrs | undefined): AuditEvent[] {
  return hdrs?.get(AUDIT_BATCH_HEADER) === "1" ? AuditEventBatch.decode(data).events : [AuditEvent.decode(data)];
}

/**
 * Hands records to the audit stream, batched: one message per AUDIT_COALESCE_MS,
 * with a fresh id as its Nats-Msg-Id, so a retried publish is stored once; each
 * record keeps its own id, by which svc-identity's consumer stores it once
 * (a redelivery too). Ensures the stream exists first.
 */
export async function createJetStreamAuditSink(nc: NatsConnection, names: AuditStream, coalesceMs = AUDIT_COALESCE_MS): Promise<AuditSink> {
  await ensureStream(nc, names.stream);
  const js = jetstream(nc);
  let waiting: Array<{ event: AuditEvent; resolve(): void; reject(err: unknown): void }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    const all = waiting;
    waiting = [];
    timer = undefined;
    for (let i = 0; i < all.length; i += AUDIT_BATCH_MAX) {
      const part = all.slice(i, i + AUDIT_BATCH_MAX);
      const data = AuditEventBatch.encode({ events: part.map((w) => w.event) }).finish();
      publishOnce(js, names.subject, data, { msgId: randomUUID(), headers: auditBatchHeaders() }).then(
        () => part.forEach((w) => w.resolve()),
        (err: unknown) => part.forEach((w) => w.reject(err)),
      );
    }
  };
  return {
    publish: (event) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ event, resolve, reject });
        timer ??= setTimeout(flush, coalesceMs);
      }),
  };
}
