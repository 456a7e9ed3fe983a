// The generic runner: one pull loop per declared job kind, each holding at
// most `concurrency` jobs. A job's effect and its handled_messages row commit
// together (db/handled-messages.ts), then the message is acknowledged; a
// failure is retried after the kind's backoff; the delivery that reaches
// maxDeliveries and still fails goes to the dead-letter stream, with the
// reason, and is terminated.
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "@apgms/common";
import { jetstream, type JsMsg } from "@apgms/common/nats/jetstream";
import type { NatsConnection } from "@apgms/common/nats/connect";
import type { PrismaClient } from "../db/client.js";
import { handleOnce } from "../db/handled-messages.js";
import { publishDeadLetter } from "./dead-letters.js";
import { backoffDelay, PermanentJobError, type JobContext } from "./define.js";
import { JOB_ID, TENANT_ID } from "./headers.js";
import type { JobConsumer, WorkerTopology } from "./topology.js";

export interface JobRunnerOptions {
  nc: NatsConnection;
  /** As the worker's row-level-security role. */
  prisma: PrismaClient;
  topology: WorkerTopology;
  logger: Logger;
  /** On stop, how long jobs in hand may run to completion before they are handed back (nak). Default 20 s. */
  drainTimeoutMs?: number;
  /** How long one pull waits for jobs (the client's minimum is 1 s). */
  pullExpiresMs?: number;
}

export interface JobRunnerStats {
  completed: number;
  skipped: number;
  /** Deliveries of jobs an earlier delivery had already completed: acknowledged, nothing ran. */
  duplicates: number;
  /** Failed deliveries handed back for a later one. */
  retried: number;
  deadLettered: number;
}

export interface JobRunner {
  /** Stops pulling, lets the jobs in hand finish (up to drainTimeoutMs), hands back the rest. Resolves when nothing is in hand. */
  stop(): Promise<void>;
  stats(): JobRunnerStats;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One job in hand; `abandoned` once stop() has handed it back, after which its outcome is not sent. */
interface InHand {
  msg: JsMsg;
  done: Promise<void>;
  abandoned: boolean;
}

function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
}

export async function startJobRunner(options: JobRunnerOptions): Promise<JobRunner> {
  const { nc, prisma, topology, logger, drainTimeoutMs = 20_000, pullExpiresMs = 1_000 } = options;
  const js = jetstream(nc);
  const stats: JobRunnerStats = { completed: 0, skipped: 0, duplicates: 0, retried: 0, deadLettered: 0 };
  const inHand = new Set<InHand>();
  let stopping = false;
  let stopped!: () => void;
  const stopSignal = new Promise<void>((resolve) => (stopped = resolve));

  async function deadLetter(c: JobConsumer, entry: InHand, reason: string): Promise<void> {
    const { msg } = entry;
    try {
      await publishDeadLetter(js, topology, msg, reason);
    } catch (err) {
      // Not stored: hand it back; a later delivery (past the limit) dead-letters it again.
      logger.error({ err, kind: c.job.kind, seq: msg.seq }, "could not publish a dead letter; the job will be delivered again");
      if (!entry.abandoned) msg.nak(backoffDelay(c.job, msg.info.deliveryCount));
      return;
    }
    // No reason on the term: NATS 2.9 ignores "+TERM <reason>" (the reason form is 2.10's), and the job would come back after ack_wait.
    if (!entry.abandoned) msg.term();
    stats.deadLettered++;
    logger.error({ kind: c.job.kind, seq: msg.seq, jobId: msg.headers?.get(JOB_ID), deliveries: msg.info.deliveryCount, reason }, "job dead-lettered");
  }

  async function handle(c: JobConsumer, entry: InHand): Promise<void> {
    const { job } = c;
    const { msg } = entry;
    const attempt = msg.info.deliveryCount;
    const jobId = msg.headers?.get(JOB_ID) ?? "";
    const tenantId = msg.headers?.get(TENANT_ID) ?? "";
    if (!jobId || !UUID.test(tenantId)) return deadLetter(c, entry, `missing or malformed ${JOB_ID} or ${TENANT_ID} header`);
    let payload: unknown;
    try {
      payload = JSON.parse(new TextDecoder().decode(msg.data));
    } catch {
      return deadLetter(c, entry, "payload is not JSON");
    }
    const ctx: JobContext = { tenantId, jobId, attempt, logger: logger.child({ kind: job.kind, jobId, tenantId, attempt }) };
    // Past the limit (the last delivery's process ended mid-job, or its dead letter could not be stored):
    // not run again, but a job that did complete (its ack was lost) is acknowledged, not dead-lettered.
    const exhausted = attempt > job.maxDeliveries;
    const keepAlive = setInterval(() => msg.working(), Math.max(50, Math.floor(job.ackWaitMs / 2)));
    try {
      const result = await handleOnce(prisma, { tenantId, handler: job.kind, messageId: jobId }, (tx) => {
        if (exhausted) throw new PermanentJobError(`delivered ${attempt} times (limit ${job.maxDeliveries}); an earlier delivery ended without an outcome`);
        return job.run(payload, tx, ctx);
      });
      if (!entry.abandoned) msg.ack();
      if (result === "duplicate") stats.duplicates++;
      else stats[result]++;
      ctx.logger.debug({ result, seq: msg.seq }, "job handled");
    } catch (err) {
      const reason = errorText(err);
      if (err instanceof PermanentJobError || attempt >= job.maxDeliveries) return deadLetter(c, entry, reason);
      const delay = backoffDelay(job, attempt);
      ctx.logger.warn({ err, retryInMs: delay }, "job failed; it will be delivered again");
      if (!entry.abandoned) msg.nak(delay);
      stats.retried++;
    } finally {
      clearInterval(keepAlive);
    }
  }

  async function pullLoop(c: JobConsumer): Promise<void> {
    const consumer = await js.consumers.get(c.stream, c.durable);
    const mine = new Set<Promise<void>>();
    while (!stopping) {
      const free = c.job.concurrency - mine.size;
      if (free <= 0) {
        await Promise.race([...mine, stopSignal]);
        continue;
      }
      try {
        const batch = await consumer.fetch({ max_messages: free, expires: pullExpiresMs });
        for await (const msg of batch) {
          // Pulled after stop() began: handed back at once for another worker.
          if (stopping) {
            msg.nak();
            continue;
          }
          const entry: InHand = { msg, done: Promise.resolve(), abandoned: false };
          const done: Promise<void> = handle(c, entry)
            .catch((err: unknown) => logger.error({ err, kind: c.job.kind, seq: msg.seq }, "job runner failed on a message"))
            .finally(() => {
              inHand.delete(entry);
              mine.delete(done);
            });
          entry.done = done;
          inHand.add(entry);
          mine.add(done);
        }
      } catch (err) {
        logger.warn({ err, kind: c.job.kind }, "pulling jobs failed; trying again");
        await Promise.race([sleep(500), stopSignal]);
      }
    }
  }

  for (const c of topology.consumers) logger.info({ kind: c.job.kind, durable: c.durable, concurrency: c.job.concurrency }, "consuming jobs");
  const loops = topology.consumers.map((c) =>
    pullLoop(c).catch((err: unknown) => logger.error({ err, kind: c.job.kind }, "job pull loop ended")),
  );

  return {
    stats: () => ({ ...stats }),
    async stop() {
      stopping = true;
      stopped();
      await Promise.all(loops);
      const timeout = new AbortController();
      const drained = await Promise.race([
        Promise.all([...inHand].map((e) => e.done)).then(() => true),
        sleep(drainTimeoutMs, false, { signal: timeout.signal }).catch(() => false),
      ]);
      timeout.abort();
      if (!drained) {
        for (const entry of inHand) {
          entry.abandoned = true;
          entry.msg.nak();
        }
        logger.warn({ handedBack: inHand.size }, "drain timeout: jobs in hand handed back for another worker");
      }
    },
  };
}
