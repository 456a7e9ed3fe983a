// A job that does nothing but be handled once: the runner's own cost (make
// bench: jobs/s through a no-op handler with acks) and a smoke test of a
// deployment (enqueue one, see its handled_messages row).
import { defineJob } from "./define.js";

export const noopJob = defineJob<Record<string, unknown>>({
  kind: "noop",
  description: "does nothing; recorded once in handled_messages",
  maxDeliveries: 5,
  ackWaitMs: 30_000,
  backoffMs: [1_000, 5_000, 30_000, 120_000],
  concurrency: 16,
  parse(payload) {
    if (typeof payload !== "object" || payload === null || Array.isArray(payload)) throw new Error("expected a JSON object");
    return payload as Record<string, unknown>;
  },
  async handle() {},
});
