import { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import { prismaSql, writeOutboxEvent } from "@apgms/common/outbox/index";
import { randomUUID } from "node:crypto";
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

/**
 * Records an event in the outbox, in the caller's transaction: it is
 * published (by the relay, once) only if the change it announces commits.
 * `aggregateId` orders events: the campaign's id for everything billing
 * emits, and the caller holds the campaign's row lock (common/src/outbox/README.md).
 * The caller wakes the relay after the commit (HandlerDeps.outbox).
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
  return writeOutboxEvent(prismaSql(db), "billing", { tenantId, aggregateId, eventType: type, payload: event, id });
}
