// Billing's domain events (its outbox, on JetStream) become insights events:
// one durable consumer shared by every replica, batches of messages stored in
// one transaction through the ingestion statement IngestEvents uses, explicit
// acks only after the commit. The outbox id is the event id, so a redelivery
// (a lost ack, a replay, a relay that published twice) is a duplicate, never a
// second count. While Postgres fails, batches are redelivered, never dropped;
// a message that can never become an event is terminated and logged.
import type { Logger } from "@apgms/common";
import { ensureStream, startDurableConsumer, type Disposition, type DurableConsumer, type JsMsg } from "@apgms/common/nats/jetstream";
import type { NatsConnection } from "@apgms/common/nats/connect";
import { domainEventsStream } from "@apgms/common/outbox/index";
import { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import type { Event } from "@apgms/proto/apgms/insights/v1/event";
import type { Pool } from "pg";
import type { AnswerCache } from "./cache.js";
import { ingestTenantBatches, type TenantBatch } from "./db/ingest-tenants.js";
import { insightsEventOf, type MappedBillingEvent } from "./domain/billing-events.js";
import { validateBatch } from "./domain/event-batch.js";
import { DEFAULT_DIMENSIONS } from "./domain/limits.js";

/** The durable consumer's name: one per consuming service, shared by its replicas. */
export const BILLING_DURABLE = "svc-insights-billing";

export interface BillingConsumerOptions {
  nc: NatsConnection;
  /** As the service's role: one transaction per batch. */
  pool: Pool;
  cache: AnswerCache;
  logger: Logger;
  /** NATS_PREFIX: the stream is domainEventsStream(prefix, "billing"). */
  prefix: string;
  durable?: string;
  /** Messages per transaction (default 500). */
  batchSize?: number;
  /** How long a failed batch waits before it is delivered again (default 2 s). */
  retryDelayMs?: number;
  /** An unacknowledged message is delivered again after this long (default 30 s). */
  ackWaitMs?: number;
}

export interface BillingConsumerStats {
  /** Events stored for the first time. */
  stored: number;
  /** Events whose id was already stored (redeliveries). */
  duplicates: number;
  /** Messages of types insights does not record, acknowledged. */
  ignored: number;
  /** Messages terminated: undecodable, or refused by validation or by the database. */
  rejected: number;
  /** Batches that failed (Postgres unreachable...) and were redelivered. */
  failedBatches: number;
}

export interface BillingConsumer {
  stop(): Promise<void>;
  stats(): BillingConsumerStats;
}

function decode(msg: JsMsg): MappedBillingEvent {
  let event: BillingEvent;
  try {
    event = BillingEvent.decode(msg.data);
  } catch (err) {
    return { kind: "invalid", reason: `not an apgms.billing.v1.BillingEvent (${(err as Error).message})` };
  }
  const subjectTenant = msg.subject.split(".")[1] ?? "";
  return insightsEventOf(event, subjectTenant, msg.time);
}

function push<T>(groups: Map<string, T[]>, key: string, value: T): void {
  const group = groups.get(key);
  if (group) group.push(value);
  else groups.set(key, [value]);
}

/** Postgres refused the data itself (data exception, class 22): storing it again would fail again. */
function isDataError(err: unknown): boolean {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === "string" && code.startsWith("22");
}

export async function startBillingConsumer(options: BillingConsumerOptions): Promise<BillingConsumer> {
  const { nc, pool, cache, logger, prefix, durable = BILLING_DURABLE, batchSize = 500, retryDelayMs = 2_000, ackWaitMs = 30_000 } = options;
  const stream = domainEventsStream(prefix, "billing");
  // Billing may not have published yet: the same options as its relay's, so neither side changes the other's stream.
  await ensureStream(nc, stream);
  const stats: BillingConsumerStats = { stored: 0, duplicates: 0, ignored: 0, rejected: 0, failedBatches: 0 };

  const drop = (msg: JsMsg, reason: string) => {
    logger.error(
      { subject: msg.subject, seq: msg.seq, msgId: msg.headers?.get("Nats-Msg-Id") ?? "", bytes: msg.data.length, reason },
      "billing event dropped: it can never become an insights event",
    );
  };

  type Accepted = { position: number; tenantId: string; event: Event };

  /** What becomes of each message if its batch commits; drops (logged once) what can never be stored. */
  function prepare(msgs: JsMsg[]): { out: Disposition[]; accepted: Accepted[]; ignored: number } {
    const out: Disposition[] = [];
    let ignored = 0;
    const groups = new Map<string, Accepted[]>();
    msgs.forEach((msg, position) => {
      const item = decode(msg);
      if (item.kind === "invalid") drop(msg, item.reason);
      else if (item.kind === "ignored") ignored++;
      else push(groups, item.tenantId, { position, tenantId: item.tenantId, event: item.event });
      out.push(item.kind === "invalid" ? "reject" : "ack");
    });
    const accepted: Accepted[] = [];
    const now = Date.now();
    for (const group of groups.values()) {
      const rejected = new Map(validateBatch(group.map((a) => a.event), now).rejected.map((r) => [r.index, r]));
      group.forEach((a, i) => {
        const r = rejected.get(i);
        if (!r) return accepted.push(a);
        out[a.position] = "reject";
        drop(msgs[a.position]!, `${r.field} ${r.reason}`);
      });
    }
    return { out, accepted, ignored };
  }

  /** Stores the events in one transaction, then marks their tenants' cached answers stale. */
  async function ingest(accepted: Accepted[]): Promise<void> {
    const byTenant = new Map<string, Event[]>();
    for (const a of accepted) push(byTenant, a.tenantId, a.event);
    const batches: TenantBatch[] = [];
    for (const [tenantId, events] of byTenant) batches.push({ tenantId, columns: validateBatch(events, Date.now()).columns });
    const stored = await ingestTenantBatches(pool, batches, DEFAULT_DIMENSIONS);
    let total = 0;
    for (const [tenantId, n] of stored) {
      total += n;
      if (n > 0) await cache.invalidate(tenantId);
    }
    stats.stored += total;
    stats.duplicates += accepted.length - total;
  }

  const consumer: DurableConsumer = await startDurableConsumer(nc, {
    stream: stream.name,
    durable,
    logger,
    batchSize,
    maxAckPending: Math.max(batchSize * 2, 256),
    ackWaitMs,
    retryDelayMs,
    async handleBatch(msgs) {
      const { out, accepted, ignored } = prepare(msgs);
      const done = () => {
        stats.ignored += ignored;
        stats.rejected += out.filter((d) => d === "reject").length;
        return out;
      };
      try {
        await ingest(accepted);
        return done();
      } catch (err) {
        stats.failedBatches++;
        if (!isDataError(err)) throw err; // every message of the batch is delivered again after retryDelayMs
      }
      // The database refused some event's data: one event at a time, to drop only that one.
      for (const a of accepted) {
        try {
          await ingest([a]);
        } catch (err) {
          if (!isDataError(err)) throw err;
          out[a.position] = "reject";
          drop(msgs[a.position]!, `the database refused it: ${(err as Error).message}`);
        }
      }
      return done();
    },
  });
  return { stop: () => consumer.stop(), stats: () => ({ ...stats }) };
}
