import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { Client } from "pg";
import { platformDatabaseUrl } from "../db/tenant-scope.js";
import type { Logger } from "../logger.js";
import { ensureStream, type DurableStreamOptions } from "../nats/jetstream.js";
import { publishBatch, type BatchResult } from "./publish.js";
import { backoffMs, Sleeper } from "./sleeper.js";
import { outboxLockName, relaySql, type OutboxRow } from "./sql.js";
import { domainEventsStream, subjectFor } from "./stream.js";
import { outboxWakeSubject, type OutboxWake } from "./wake.js";

export interface OutboxRelayOptions {
  /** The service's own database URL; the relay reads every tenant's rows, so it connects in the platform scope. */
  databaseUrl: string;
  /** The service's schema, holding its `outbox` table. */
  schema: string;
  nats: NatsConnection;
  /** NATS_PREFIX. */
  prefix: string;
  /** The subject's domain, e.g. "billing". */
  domain: string;
  logger: Logger;
  /** Default domainEventsStream(prefix, domain); ensured before the first publish and after any failure. */
  stream?: DurableStreamOptions;
  /** Rows per batch (default 500). */
  batchSize?: number;
  /**
   * After a batch smaller than batchSize, wait this long before the next (default 10 ms), so a
   * steady trickle of writes is published in batches rather than one row per query, publish and mark.
   */
  gatherMs?: number;
  /**
   * Wake-ups of this instance's writers (they call wake() after each commit that wrote rows).
   * Whatever is given, the relay also listens on outboxWakeSubject(prefix, domain) for other instances'.
   */
  wake?: OutboxWake;
  /** Poll for rows this often when no wake-up came (default 1 s): the fallback for a lost one. */
  pollIntervalMs?: number;
  /** A follower tries to take the lock this often (default 1 s). */
  lockRetryMs?: number;
  /** Waits after a failure (NATS or Postgres): from minBackoffMs doubling to maxBackoffMs (default 250 ms, 5 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long a publish waits for the stream's ack (default 5 s). */
  publishTimeoutMs?: number;
  /** Published rows are deleted this long after publication (default 7 days)... */
  retentionMs?: number;
  /** ...by the leader at start and then this often (default 10 min). */
  cleanupIntervalMs?: number;
}

export type OutboxRelayState = "connecting" | "follower" | "leader" | "stopped";

const DELETE_CHUNK = 5_000;

/**
 * Publishes a service's outbox to JetStream; see README.md for the design.
 * Started by startOutboxRelay; never throws: failures are logged and retried.
 */
export class OutboxRelay {
  private status: OutboxRelayState = "connecting";
  private stopping = false;
  private notified = false;
  private checks = 0;
  private drainWaiters: { after: number; resolve(): void; reject(err: Error): void }[] = [];
  private streamReady = false;
  private readonly sleeper = new Sleeper();
  private readonly js: JetStreamClient;
  private readonly sql: ReturnType<typeof relaySql>;
  private readonly stream: DurableStreamOptions;
  private readonly running: Promise<void>;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: OutboxRelayOptions) {
    this.sql = relaySql(options.schema);
    this.stream = options.stream ?? domainEventsStream(options.prefix, options.domain);
    this.js = jetstream(options.nats);
    const subscription = options.nats.subscribe(options.wake?.subject ?? outboxWakeSubject(options.prefix, options.domain), { callback: () => this.nudge() });
    const offLocal = options.wake?.onWake(() => this.nudge());
    this.unsubscribe = () => {
      offLocal?.();
      subscription.unsubscribe();
    };
    this.running = this.run();
  }

  /** Rows were committed: an idle leader looks at once (a busy one looks again right after its batch). */
  nudge(): void {
    this.notified = true;
    this.sleeper.notify();
  }

  get state(): OutboxRelayState {
    return this.status;
  }

  /**
   * Resolves once this relay, as the leader, finds no unpublished row in a
   * look started after the call (rows committed before the call are all
   * published). Pending while it is not the leader; rejected by stop().
   */
  drained(): Promise<void> {
    if (this.stopping) return Promise.reject(new Error("outbox relay stopped"));
    return new Promise((resolve, reject) => {
      this.drainWaiters.push({ after: this.checks, resolve, reject });
      this.nudge();
    });
  }

  /** Finishes the batch in flight, closes the connection (which releases the lock) and returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.unsubscribe();
    this.sleeper.close();
    await this.running;
    const waiters = this.drainWaiters.splice(0);
    waiters.forEach((w) => w.reject(new Error("outbox relay stopped")));
  }

  private async run(): Promise<void> {
    const { databaseUrl, schema, logger, minBackoffMs = 250, maxBackoffMs = 5_000 } = this.options;
    for (let failures = 0; !this.stopping; ) {
      let broken: Error | undefined;
      const client = new Client({
        connectionString: platformDatabaseUrl(databaseUrl),
        application_name: `outbox-relay:${schema}`,
        keepAlive: true,
        query_timeout: 30_000,
      });
      // A connection that dies while idle reports here, not through a query: end the session.
      client.on("error", (err) => {
        broken = err;
        this.sleeper.interrupt();
      });
      let waitMs = 0;
      try {
        await client.connect();
        failures = 0;
        await this.session(client, () => broken);
      } catch (err) {
        if (!this.stopping) {
          waitMs = backoffMs(failures++, minBackoffMs, maxBackoffMs);
          logger.warn({ err, schema, waitMs }, "outbox relay: Postgres failed; reconnecting");
        }
      } finally {
        // Ending the session releases the advisory lock: another instance takes over within its lockRetryMs.
        await client.end().catch(() => undefined);
      }
      if (this.status === "leader") logger.info({ schema }, "outbox relay: no longer leading");
      this.status = this.stopping ? "stopped" : "connecting";
      if (waitMs > 0) await this.sleeper.sleep(waitMs);
    }
    this.status = "stopped";
  }

  private async session(client: Client, broken: () => Error | undefined): Promise<void> {
    const { schema, logger, lockRetryMs = 1_000 } = this.options;
    const alive = () => {
      const err = broken();
      if (err) throw err;
    };
    this.status = "follower";
    while (!this.stopping) {
      const { rows } = await client.query<{ locked: boolean }>(this.sql.tryLock, [outboxLockName(schema)]);
      if (rows[0]?.locked) break;
      await this.sleeper.sleep(lockRetryMs);
      alive();
    }
    if (this.stopping) return;
    this.status = "leader";
    logger.info({ schema }, "outbox relay: leading");
    await this.lead(client, alive);
  }

  private async lead(client: Client, alive: () => void): Promise<void> {
    const { schema, logger, batchSize = 500, pollIntervalMs = 1_000, minBackoffMs = 250, maxBackoffMs = 5_000, gatherMs = 10 } = this.options;
    const { cleanupIntervalMs = 600_000 } = this.options;
    let lastCleanup = -Infinity;
    let failures = 0;
    while (!this.stopping) {
      alive();
      if (performance.now() - lastCleanup >= cleanupIntervalMs) {
        await this.deleteExpired(client);
        lastCleanup = performance.now();
      }
      this.notified = false;
      const check = ++this.checks;
      const { rows } = await client.query<OutboxRow>(this.sql.unpublished, [batchSize]);
      if (rows.length === 0) {
        this.resolveDrained(check);
        if (!this.notified) await this.sleeper.sleep(pollIntervalMs, { wakeOnNotify: true });
        continue;
      }
      const { acked, error } = await this.publish(rows);
      if (acked > 0) await client.query(this.sql.markPublished, [rows.slice(0, acked).map((r) => r.seq)]);
      if (acked === rows.length) {
        failures = 0;
        if (rows.length < batchSize && gatherMs > 0) await this.sleeper.sleep(gatherMs);
        continue;
      }
      this.streamReady = false;
      const waitMs = backoffMs(failures++, minBackoffMs, maxBackoffMs);
      logger.warn({ err: error, schema, seq: rows[acked]!.seq, id: rows[acked]!.id, failures, waitMs }, "outbox relay: publish failed; retrying in order");
      await this.sleeper.sleep(waitMs);
    }
  }

  private async publish(rows: OutboxRow[]): Promise<BatchResult> {
    const { nats, prefix, domain, publishTimeoutMs = 5_000 } = this.options;
    if (!this.streamReady) {
      try {
        await ensureStream(nats, this.stream);
        this.streamReady = true;
      } catch (error) {
        return { acked: 0, error };
      }
    }
    return publishBatch(this.js, rows, (row) => subjectFor(prefix, row.tenant_id, domain, row.event_type), publishTimeoutMs);
  }

  private async deleteExpired(client: Client): Promise<void> {
    const { retentionMs = 7 * 24 * 3_600_000 } = this.options;
    let deleted = DELETE_CHUNK;
    // In chunks, so one cleanup never holds a long transaction over the table.
    while (deleted === DELETE_CHUNK && !this.stopping) {
      deleted = (await client.query(this.sql.deleteExpired, [retentionMs, DELETE_CHUNK])).rowCount ?? 0;
    }
  }

  private resolveDrained(check: number): void {
    const ready = this.drainWaiters.filter((w) => w.after < check);
    this.drainWaiters = this.drainWaiters.filter((w) => w.after >= check);
    ready.forEach((w) => w.resolve());
  }
}

/** Starts relaying at once (in the background); call stop() at shutdown. */
export function startOutboxRelay(options: OutboxRelayOptions): OutboxRelay {
  return new OutboxRelay(options);
}
