import { randomUUID } from "node:crypto";
import { outboxInsertSql } from "./sql.js";
import { checkEventType } from "./stream.js";

/**
 * Runs one parameterized statement in the caller's transaction. With pg:
 * `(text, values) => client.query(text, values)`; with Prisma: prismaSql(tx).
 */
export type SqlRun = (text: string, values: unknown[]) => PromiseLike<unknown>;

/** What Prisma's clients and transaction clients offer for raw statements. */
export interface PrismaRawClient {
  $executeRawUnsafe(query: string, ...values: unknown[]): PromiseLike<number>;
}

export function prismaSql(tx: PrismaRawClient): SqlRun {
  return (text, values) => tx.$executeRawUnsafe(text, ...values);
}

/**
 * NATS refuses a message over the server's max_payload (1 MiB by default,
 * headers included); a row that can never be published would stop its
 * relay for good (rows are never skipped), so it is refused here instead.
 */
export const MAX_OUTBOX_PAYLOAD_BYTES = 1_000_000;

export interface OutboxEvent {
  tenantId: string;
  /** Events of one aggregate are published in the order they were written. */
  aggregateId: string;
  /** e.g. "transaction.created": the end of the subject. */
  eventType: string;
  /** The encoded message (a protobuf). */
  payload: Uint8Array;
  /** The Nats-Msg-Id; default a new random UUID. */
  id?: string;
}

/**
 * Adds one event to the service's outbox, in the caller's transaction (the
 * state change and its event commit together or not at all). Returns the
 * event's id. After the commit, call OutboxWake.wake() so the relay looks now
 * rather than at its next poll.
 *
 * Order per aggregate is the order of `seq`, taken at insert: two
 * transactions writing events of the same aggregate must be serialized
 * (hold the aggregate's row lock, e.g. the UPDATE of the campaign, before
 * calling this), or the one committing last could carry the smaller seq.
 */
export async function writeOutboxEvent(run: SqlRun, schema: string, event: OutboxEvent): Promise<string> {
  const { tenantId, aggregateId, eventType, payload, id = randomUUID() } = event;
  checkEventType(eventType);
  if (payload.byteLength > MAX_OUTBOX_PAYLOAD_BYTES) {
    throw new Error(`outbox event ${eventType} is ${payload.byteLength} bytes; at most ${MAX_OUTBOX_PAYLOAD_BYTES}`);
  }
  // A Buffer view of the same bytes: what both pg and Prisma send as bytea.
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  await run(outboxInsertSql(schema), [tenantId, id, aggregateId, eventType, bytes]);
  return id;
}
