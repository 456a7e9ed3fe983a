import { AuditEvent } from "@apgms/proto/apgms/identity/v1/audit";
import type { NatsConnection } from "@nats-io/transport-node";
import { ensureStream, jetstream, publishOnce } from "../nats/jetstream.js";
import type { AuditStream } from "./stream.js";
import type { AuditSink } from "./trail.js";

/**
 * Hands records to the audit stream, the record id as Nats-Msg-Id: a retried
 * publish is stored once, and svc-identity's consumer inserts by that id, so a
 * redelivery is stored once too. Ensures the stream exists first.
 */
export async function createJetStreamAuditSink(nc: NatsConnection, names: AuditStream): Promise<AuditSink> {
  await ensureStream(nc, names.stream);
  const js = jetstream(nc);
  return {
    publish: (event) => publishOnce(js, names.subject, AuditEvent.encode(event).finish(), { msgId: event.id }),
  };
}
