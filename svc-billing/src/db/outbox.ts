import { randomUUID } from "node:crypto";
import { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import type { Tx } from "./client.js";

/** The event types svc-billing publishes (subject `<prefix>.<tenant>.billing.<type>`). */
export type BillingEventType =
  | "campaign.scheduled"
  | "campaign.activated"
  | "campaign.paused"
  | "campaign.ended"
  | "transaction.created"
  | "transaction.refunded"
  | "budget.threshold_reached";

/** The channel the outbox relay LISTENs on; a write NOTIFYs it so the relay wakes at once. */
export const OUTBOX_CHANNEL = "billing_outbox";

/**
 * Records an event in the outbox, in the caller's transaction: it is
 * published (by the relay, once) only if the change it announces commits.
 * `aggregateId` orders events: the campaign's id for everything billing emits.
 */
export async function recordEvent(
  db: Tx,
  tenantId: string,
  aggregateId: string,
  type: BillingEventType,
  payload: Pick<BillingEvent, "campaign" | "transaction" | "budgetThreshold">,
): Promise<string> {
  const id = randomUUID();
  const event = BillingEvent.encode({ id, tenantId, type, occurTime: new Date(), ...payload }).finish();
  await db.outbox.create({ data: { tenantId, id, aggregateId, eventType: type, payload: Buffer.from(event) } });
  await db.$executeRaw`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`;
  return id;
}
