// Billing's stream as the tests drive it: BillingEvent messages published the
// way svc-billing's outbox relay publishes them (subject
// `<prefix>.<tenant>.billing.<type>`, Nats-Msg-Id = the outbox id), the
// consumer's view of them, and a logger whose lines the test can read.
import { randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { createLogger, type Logger } from "@apgms/common";
import { jetstream, jetstreamManager } from "@apgms/common/nats/jetstream";
import type { NatsConnection } from "@apgms/common/nats/connect";
import { domainEventsStream, subjectFor } from "@apgms/common/outbox/index";
import { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import { TransactionKind, TransactionStatus, type Transaction } from "@apgms/proto/apgms/billing/v1/transaction";
import { BILLING_DURABLE } from "../src/billing-consumer.js";

export interface Redemption {
  tenantId: string;
  customer: string;
  campaignId?: string;
  offerId?: string;
  orderMinor?: number;
  discountMinor?: number;
  code?: string;
  at?: Date;
}

function transaction(kind: TransactionKind, r: Redemption): Transaction {
  return {
    id: randomUUID(),
    tenantId: r.tenantId,
    kind,
    status: TransactionStatus.TRANSACTION_STATUS_COMPLETED,
    campaignId: r.campaignId ?? randomUUID(),
    offerId: r.offerId ?? randomUUID(),
    code: r.code ?? "",
    customerRef: r.customer,
    orderAmount: kind === TransactionKind.TRANSACTION_KIND_REDEMPTION ? { amountMinor: r.orderMinor ?? 10_000, currency: "EUR" } : undefined,
    discount: { amountMinor: r.discountMinor ?? 1_500, currency: "EUR" },
    refunded: undefined,
    redemptionId: kind === TransactionKind.TRANSACTION_KIND_REFUND ? randomUUID() : "",
    reason: "",
    createTime: r.at ?? new Date(),
  };
}

/** A transaction.created event as billing writes it into its outbox. */
export function redeemed(r: Redemption): BillingEvent {
  const t = transaction(TransactionKind.TRANSACTION_KIND_REDEMPTION, r);
  return { id: randomUUID(), tenantId: r.tenantId, type: "transaction.created", occurTime: t.createTime, transaction: t };
}

export function refunded(r: Redemption): BillingEvent {
  const t = transaction(TransactionKind.TRANSACTION_KIND_REFUND, r);
  return { id: randomUUID(), tenantId: r.tenantId, type: "transaction.refunded", occurTime: t.createTime, transaction: t };
}

export class BillingStream {
  readonly stream: string;
  constructor(
    readonly nc: NatsConnection,
    readonly prefix: string,
  ) {
    this.stream = domainEventsStream(prefix, "billing").name;
  }

  /** As the relay publishes a row: its subject, its id as Nats-Msg-Id (unless `msgId` says otherwise: a republish outside the duplicate window). */
  async publish(event: BillingEvent, msgId = event.id): Promise<void> {
    await jetstream(this.nc).publish(subjectFor(this.prefix, event.tenantId, "billing", event.type), BillingEvent.encode(event).finish(), { msgID: msgId });
  }

  /** Raw bytes on a tenant's subject (what no relay would send). */
  async publishRaw(tenantId: string, type: string, data: Uint8Array, msgId = randomUUID()): Promise<void> {
    await jetstream(this.nc).publish(subjectFor(this.prefix, tenantId, "billing", type), data, { msgID: msgId });
  }

  async messages(): Promise<number> {
    const jsm = await jetstreamManager(this.nc);
    return (await jsm.streams.info(this.stream)).state.messages;
  }

  /** The durable consumer's state: every message delivered and settled (acknowledged or terminated), none waiting. */
  async settled(durable = BILLING_DURABLE): Promise<boolean> {
    const jsm = await jetstreamManager(this.nc);
    const info = await jsm.consumers.info(this.stream, durable);
    return info.num_pending === 0 && info.num_ack_pending === 0 && info.delivered.stream_seq >= (await jsm.streams.info(this.stream)).state.last_seq;
  }

  async deleteConsumer(durable = BILLING_DURABLE): Promise<void> {
    const jsm = await jetstreamManager(this.nc);
    await jsm.consumers.delete(this.stream, durable);
  }
}

export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    // A probe that throws (a server not listening yet) is a "not yet".
    if (await Promise.resolve().then(check).catch((err: unknown) => ((last = err), false))) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A logger whose JSON lines the test reads (and prints with TEST_LOG_LEVEL). */
export function capturingLogger(): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      if (process.env.TEST_LOG_LEVEL) process.stderr.write(chunk);
      done();
    },
  });
  return { logger: createLogger("svc-insights-test", { level: "info" }, sink), lines: () => lines };
}
