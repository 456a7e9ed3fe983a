// Every stream and consumer the worker uses, declared here and nowhere else:
// names and subjects from NATS_PREFIX, retention, and each job kind's durable
// consumer built from the delivery policy declared beside its handler.
// ensureTopology creates or updates all of it at start (idempotent: every
// worker process calls it).
import { natsToken } from "@apgms/common/audit/stream";
import { ensureConsumer, ensureStream, type DurableConsumerConfig, type DurableStreamOptions } from "@apgms/common/nats/jetstream";
import type { NatsConnection } from "@apgms/common/nats/connect";
import { AckPolicy, DeliverPolicy } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import type { Job } from "./define.js";

/** A job waits at most this long for a worker (the workers may be down that long without losing it). */
export const JOBS_MAX_AGE_MS = 7 * 24 * 3_600_000;
/** Dead letters are kept this long for listing and replay. */
export const DEAD_LETTERS_MAX_AGE_MS = 30 * 24 * 3_600_000;
/** Enqueues with the same job id inside this window are stored once. */
export const DUPLICATE_WINDOW_MS = 120_000;
/** max_ack_pending of a kind's consumer: its concurrency times this many processes. */
export const MAX_PROCESSES_PER_KIND = 64;

export interface JobConsumer {
  job: Job;
  stream: string;
  durable: string;
  subject: string;
  config: DurableConsumerConfig;
}

export interface WorkerTopology {
  /** Work queue: a job is removed once acknowledged (or terminated after being dead-lettered). */
  jobs: DurableStreamOptions;
  /** Jobs that exhausted their deliveries, with the reason in headers; kept for listing and replay. */
  deadLetters: DurableStreamOptions;
  jobSubject(kind: string): string;
  deadLetterSubject(kind: string): string;
  /** Kind of a job or dead-letter subject (its last token). */
  kindOf(subject: string): string;
  consumers: JobConsumer[];
}

/**
 * Subjects are `<prefix>.jobs.<kind>` and `<prefix>.jobs-dead.<kind>`: exactly
 * three tokens, so they never overlap the services' `<prefix>.<tenant>.<domain>.>`
 * streams in the same account.
 */
export function workerTopology(prefix: string, jobs: readonly Job[]): WorkerTopology {
  const token = natsToken(prefix);
  const jobSubject = (kind: string) => `${token}.jobs.${kind}`;
  const deadLetterSubject = (kind: string) => `${token}.jobs-dead.${kind}`;
  const jobsStream: DurableStreamOptions = {
    name: `${token}_JOBS`,
    subjects: [`${token}.jobs.*`],
    maxAgeMs: JOBS_MAX_AGE_MS,
    duplicateWindowMs: DUPLICATE_WINDOW_MS,
    retention: "workqueue",
  };
  const kinds = new Set<string>();
  const consumers = jobs.map((job): JobConsumer => {
    if (kinds.has(job.kind)) throw new Error(`job kind ${job.kind} declared twice`);
    kinds.add(job.kind);
    const durable = `worker-${job.kind}`;
    return {
      job,
      stream: jobsStream.name,
      durable,
      subject: jobSubject(job.kind),
      config: {
        durable_name: durable,
        description: job.description,
        filter_subject: jobSubject(job.kind),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        ack_wait: nanos(job.ackWaitMs),
        // Unlimited on the server: the runner bounds deliveries (job.maxDeliveries) and dead-letters
        // the last one. A server-side limit would strand a job whose last delivery died with its
        // process: no longer delivered, never dead-lettered, never removed from the work queue.
        max_deliver: -1,
        max_ack_pending: job.concurrency * MAX_PROCESSES_PER_KIND,
      },
    };
  });
  return {
    jobs: jobsStream,
    deadLetters: {
      name: `${token}_JOBS_DEAD`,
      subjects: [`${token}.jobs-dead.*`],
      maxAgeMs: DEAD_LETTERS_MAX_AGE_MS,
      duplicateWindowMs: DUPLICATE_WINDOW_MS,
      retention: "limits",
    },
    jobSubject,
    deadLetterSubject,
    kindOf: (subject) => subject.slice(subject.lastIndexOf(".") + 1),
    consumers,
  };
}

/** Creates or updates both streams and every kind's consumer. */
export async function ensureTopology(nc: NatsConnection, topology: WorkerTopology): Promise<void> {
  await ensureStream(nc, topology.jobs);
  await ensureStream(nc, topology.deadLetters);
  for (const c of topology.consumers) await ensureConsumer(nc, c.stream, c.config);
}
