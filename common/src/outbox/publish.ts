import type { JetStreamClient } from "@nats-io/jetstream";
import type { OutboxRow } from "./sql.js";

export interface BatchResult {
  /** Rows acknowledged by the stream, from the first: only these are marked published. */
  acked: number;
  /** Why the row after them was not. */
  error?: unknown;
}

/**
 * Publishes a batch pipelined, in seq order, on the one connection (so the
 * stream receives them in that order), and waits for every ack. Only the
 * acknowledged prefix counts: rows after a failure are published again with
 * the same ids on the next attempt (an ack that came back for one of them is
 * a stored message, which the duplicate window then absorbs).
 */
export async function publishBatch(js: JetStreamClient, rows: readonly OutboxRow[], subjectOf: (row: OutboxRow) => string, timeoutMs: number): Promise<BatchResult> {
  // A row whose subject cannot be built (written by hand, bypassing the writer's checks) ends the batch before it.
  const subjects: string[] = [];
  let invalid: unknown;
  for (const row of rows) {
    try {
      subjects.push(subjectOf(row));
    } catch (err) {
      invalid = err;
      break;
    }
  }
  // retries: 1 is a single attempt; a retry inside the pipeline could overtake the rows after it.
  const acks = subjects.map((subject, i) => js.publish(subject, rows[i]!.payload, { msgID: rows[i]!.id, timeout: timeoutMs, retries: 1 }));
  const results = await Promise.allSettled(acks);
  const failed = results.findIndex((r) => r.status === "rejected");
  if (failed >= 0) return { acked: failed, error: (results[failed] as PromiseRejectedResult).reason };
  return invalid === undefined ? { acked: rows.length } : { acked: subjects.length, error: invalid };
}
