// The dead-letter stream: written by the runner when a job exhausts its
// deliveries, read and replayed by the CLI (src/dead-letters-cli.ts).
import { publishOnce, jetstreamManager, type JetStreamClient, type JsMsg } from "@apgms/common/nats/jetstream";
import type { NatsConnection } from "@apgms/common/nats/connect";
import { headers, type MsgHdrs } from "@nats-io/transport-node";
import { DEAD_AT, DEAD_DELIVERIES, DEAD_REASON, DEAD_SEQ, DEAD_SUBJECT, headerValue, JOB_ID, TENANT_ID } from "./headers.js";
import type { WorkerTopology } from "./topology.js";

export interface DeadLetter {
  /** Its sequence in the dead-letter stream: what `replay` takes. */
  seq: number;
  kind: string;
  jobId: string;
  tenantId: string;
  reason: string;
  deliveries: number;
  /** Where the job was in the jobs stream. */
  subject: string;
  jobSeq: number;
  deadAt: string;
  /** The job's payload as enqueued (JSON). */
  payload: string;
  data: Uint8Array;
}

/**
 * Copies a job that will not be delivered again into the dead-letter stream,
 * with the reason. Deduplicated by the job's stream sequence: a second copy
 * (the process ended before the original was terminated) is stored once.
 */
export async function publishDeadLetter(js: JetStreamClient, topology: WorkerTopology, msg: JsMsg, reason: string): Promise<void> {
  const h = headers();
  for (const key of [JOB_ID, TENANT_ID]) {
    const value = msg.headers?.get(key);
    if (value) h.set(key, value);
  }
  h.set(DEAD_REASON, headerValue(reason) || "unknown");
  h.set(DEAD_DELIVERIES, String(msg.info.deliveryCount));
  h.set(DEAD_SUBJECT, msg.subject);
  h.set(DEAD_SEQ, String(msg.seq));
  h.set(DEAD_AT, new Date().toISOString());
  await publishOnce(js, topology.deadLetterSubject(topology.kindOf(msg.subject)), msg.data, { msgId: `dead-${msg.seq}`, headers: h, attempts: 3 });
}

function toDeadLetter(topology: WorkerTopology, seq: number, subject: string, h: MsgHdrs | undefined, data: Uint8Array): DeadLetter {
  const get = (key: string) => h?.get(key) ?? "";
  return {
    seq,
    kind: topology.kindOf(subject),
    jobId: get(JOB_ID),
    tenantId: get(TENANT_ID),
    reason: get(DEAD_REASON),
    deliveries: Number(get(DEAD_DELIVERIES)) || 0,
    subject: get(DEAD_SUBJECT),
    jobSeq: Number(get(DEAD_SEQ)) || 0,
    deadAt: get(DEAD_AT),
    payload: new TextDecoder().decode(data),
    data,
  };
}

/** One dead letter by its sequence, or undefined when there is none (never was, or replayed). */
export async function getDeadLetter(nc: NatsConnection, topology: WorkerTopology, seq: number): Promise<DeadLetter | undefined> {
  const jsm = await jetstreamManager(nc);
  try {
    const m = await jsm.streams.getMessage(topology.deadLetters.name, { seq });
    return m ? toDeadLetter(topology, m.seq, m.subject, m.header, m.data) : undefined;
  } catch (err) {
    if (isNoMessage(err)) return undefined;
    throw err;
  }
}

/** Dead letters in stream order, oldest first, at most `limit`. */
export async function listDeadLetters(nc: NatsConnection, topology: WorkerTopology, limit = 100): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(topology.deadLetters.name);
  const out: DeadLetter[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq && state.messages > 0 && out.length < limit; seq++) {
    const letter = await getDeadLetter(nc, topology, seq); // replayed ones leave gaps
    if (letter) out.push(letter);
  }
  return out;
}

/**
 * Puts a dead letter's job back on the jobs stream (same job id and tenant,
 * payload as stored) and removes it from the dead-letter stream. A job that
 * had in fact completed meanwhile is not run again: its id is in
 * handled_messages. Returns the replayed letter, or undefined when there is none.
 */
export async function replayDeadLetter(nc: NatsConnection, js: JetStreamClient, topology: WorkerTopology, seq: number): Promise<DeadLetter | undefined> {
  const letter = await getDeadLetter(nc, topology, seq);
  if (!letter) return undefined;
  const h = headers();
  h.set(JOB_ID, letter.jobId);
  h.set(TENANT_ID, letter.tenantId);
  // A new message id: the original's may still be inside the duplicate window. Replaying this letter twice stores it once.
  await publishOnce(js, topology.jobSubject(letter.kind), letter.data, { msgId: `replay-${letter.jobId}-${seq}`, headers: h });
  const jsm = await jetstreamManager(nc);
  await jsm.streams.deleteMessage(topology.deadLetters.name, seq);
  return letter;
}

/** JetStream's "no message found" (10037). */
function isNoMessage(err: unknown): boolean {
  return typeof err === "object" && err !== null && (err as { code?: unknown }).code === 10037;
}
