// A job kind is declared once, with its delivery policy beside its handler;
// the runner (runner.ts) is the same for every kind.
import type { Logger } from "@apgms/common";
import type { JobTransaction } from "../db/client.js";
import type { JobOutcome } from "../generated/prisma/enums.js";

/** A failure no retry can fix (a payload that can never be handled): dead-lettered at once. */
export class PermanentJobError extends Error {
  override name = "PermanentJobError";
}

export interface JobContext {
  tenantId: string;
  /** Stable across redeliveries and replays (Apgms-Job-Id). */
  jobId: string;
  /** 1 on the first delivery. */
  attempt: number;
  logger: Logger;
}

export interface DeliveryPolicy {
  /** Deliveries before the job goes to the dead-letter stream (the last one's error is its reason). */
  maxDeliveries: number;
  /** A job in hand longer than this without a sign of life is given to another worker (the runner signals every ackWaitMs/2 while the handler runs). */
  ackWaitMs: number;
  /** Delay before delivery n+1 after delivery n failed: backoffMs[n-1], the last entry repeating. */
  backoffMs: readonly number[];
  /** Jobs of this kind in hand at once, per process. */
  concurrency: number;
}

export interface JobSpec<P> extends DeliveryPolicy {
  /** Subject token: lowercase letters, digits and '-' (e.g. "noop", "webhook-delivery"). */
  kind: string;
  description: string;
  /** Checks the payload; a throw is a PermanentJobError (a payload never becomes valid). */
  parse(payload: unknown): P;
  /**
   * The work. Its database effect goes through `tx`, the transaction that
   * also records the job as handled, so both commit or neither. A throw is a
   * failed delivery (retried after the backoff, dead-lettered after the last).
   */
  handle(payload: P, tx: JobTransaction, ctx: JobContext): Promise<JobOutcome | void>;
}

/** A declared job kind with its payload type erased: what the runner and the topology take. */
export interface Job extends DeliveryPolicy {
  kind: string;
  description: string;
  run(payload: unknown, tx: JobTransaction, ctx: JobContext): Promise<JobOutcome | void>;
}

const KIND = /^[a-z0-9][a-z0-9-]{0,47}$/;

export function defineJob<P>(spec: JobSpec<P>): Job {
  const { kind, description, parse, handle, maxDeliveries, ackWaitMs, backoffMs, concurrency } = spec;
  if (!KIND.test(kind)) throw new Error(`job kind ${JSON.stringify(kind)}: lowercase letters, digits and '-' only`);
  if (!Number.isInteger(maxDeliveries) || maxDeliveries < 1) throw new Error(`job ${kind}: maxDeliveries must be a positive integer`);
  if (backoffMs.length === 0) throw new Error(`job ${kind}: backoffMs needs at least one delay`);
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new Error(`job ${kind}: concurrency must be a positive integer`);
  return {
    kind,
    description,
    maxDeliveries,
    ackWaitMs,
    backoffMs,
    concurrency,
    async run(payload, tx, ctx) {
      let parsed: P;
      try {
        parsed = parse(payload);
      } catch (err) {
        throw new PermanentJobError(`invalid payload: ${err instanceof Error ? err.message : String(err)}`);
      }
      return handle(parsed, tx, ctx);
    },
  };
}

/** The delay before the next delivery after delivery `attempt` (1-based) failed. */
export function backoffDelay(policy: Pick<DeliveryPolicy, "backoffMs">, attempt: number): number {
  const { backoffMs } = policy;
  return backoffMs[Math.min(attempt, backoffMs.length) - 1]!;
}
