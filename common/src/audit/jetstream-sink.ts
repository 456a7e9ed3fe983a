import { AuditEvent } from "@apgms/proto/apgms/identity/v1/audit";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureStream, jetstream, publishOnce } from "../nats/jetstream.js";
import type { AuditStream } from "./stream.js";
import type { AuditSink } from "./trail.js";

/**
 * How long records wait to be published together. The NATS client writes
 * what is published in one tick with one socket write, and on this kind of
 * machine each write costs more CPU than the record's encoding: a busy edge
 * (a mutation per request) spent an eighth of its CPU writing one record per
 * write (docs/benchmarks.md, issue 8). Records never wait for the request.
 */
export const AUDIT_COALESCE_MS = 5;

/**
 * Hands records to the audit stream, the record id as Nats-Msg-Id: a retried
 * publish is stored once, and svc-identity's consumer inserts by that id, so a
 * redelivery is stored once too. Ensures the stream exists first.
 */
export async function createJetStreamAuditSink(nc: NatsConnection, names: AuditStream, coalesceMs = AUDIT_COALESCE_MS): Promise<AuditSink> {
  await ensureStream(nc, names.stream);
  const js = jetstream(nc);
  let waiting: Array<{ event: AuditEvent; done: (p: Promise<void>) => void }> = [];
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    const batch = waiting;
    waiting = [];
    timer = undefined;
    // Published in one tick: one socket write for the lot.
    for (const { event, done } of batch) done(publishOnce(js, names.subject, AuditEvent.encode(event).finish(), { msgId: event.id }));
  };
  return {
    publish: (event) =>
      new Promise<void>((resolve, reject) => {
        waiting.push({ event, done: (p) => p.then(resolve, reject) });
        timer ??= setTimeout(flush, coalesceMs);
      }),
  };
}
