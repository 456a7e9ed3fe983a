// What each of billing's domain events (apgms.billing.v1.BillingEvent, from its
// outbox) becomes in insights: one event, named for the activation funnel, in
// the tenant that owns it, with the outbox id as its id. Pure: the consumer
// (src/billing-consumer.ts) decodes, this maps, ingestion validates.
// svc-insights/README.md, "Billing's events", lists the names and attributes.
import type { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import { TransactionKind, type Transaction } from "@apgms/proto/apgms/billing/v1/transaction";
import type { Campaign } from "@apgms/proto/apgms/billing/v1/campaign";
import type { Money } from "@apgms/proto/apgms/common/v1/money";
import type { AttributeValue, Event } from "@apgms/proto/apgms/insights/v1/event";

/** Billing's event type → the insights event name. */
export const BILLING_EVENT_NAMES: Readonly<Record<string, string>> = {
  "transaction.created": "offer.redeemed",
  "transaction.refunded": "offer.refunded",
  "campaign.scheduled": "campaign.scheduled",
  "campaign.activated": "campaign.activated",
  "campaign.paused": "campaign.paused",
  "campaign.ended": "campaign.ended",
  "budget.threshold_reached": "campaign.budget_threshold_reached",
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A message that can never become an event (terminated and logged), or one of a type insights does not record (acknowledged). */
export type MappedBillingEvent =
  | { kind: "event"; tenantId: string; event: Event }
  | { kind: "invalid"; reason: string }
  | { kind: "ignored"; reason: string };

type Attributes = { [key: string]: AttributeValue };

const str = (v: string): AttributeValue => ({ stringValue: v });
const num = (v: number): AttributeValue => ({ numberValue: v });

/** Adds the string attributes that are set (billing leaves unset strings empty). */
function withStrings(into: Attributes, values: Record<string, string>): Attributes {
  for (const [key, value] of Object.entries(values)) if (value !== "") into[key] = str(value);
  return into;
}

function withMoney(into: Attributes, key: string, money: Money | undefined): Attributes {
  if (money) {
    into[key] = num(money.amountMinor);
    if (money.currency !== "" && !into.currency) into.currency = str(money.currency);
  }
  return into;
}

interface Mapped {
  subject: string;
  attributes: Attributes;
  time?: Date | undefined;
}

function transactionEvent(type: string, t: Transaction | undefined): Mapped | string {
  if (!t) return `${type} without a transaction`;
  const expected = type === "transaction.created" ? TransactionKind.TRANSACTION_KIND_REDEMPTION : TransactionKind.TRANSACTION_KIND_REFUND;
  if (t.kind !== expected) return `${type} carries a transaction of kind ${t.kind}`;
  const attributes = withStrings({}, { campaign: t.campaignId, offer: t.offerId, transaction: t.id, redemption: t.redemptionId });
  withMoney(attributes, "discount_minor", t.discount);
  if (type === "transaction.created") {
    withMoney(attributes, "order_amount_minor", t.orderAmount);
    attributes.with_code = { boolValue: t.code !== "" };
  }
  return { subject: t.customerRef, attributes, time: t.createTime };
}

function campaignEvent(type: string, c: Campaign | undefined): Mapped | string {
  if (!c) return `${type} without a campaign`;
  const attributes = withStrings({}, { campaign: c.id, campaign_name: c.name, currency: c.currency });
  const budget = c.budget?.spendMinor !== undefined ? "spend" : c.budget?.redemptions !== undefined ? "redemptions" : "none";
  attributes.budget_kind = str(budget);
  return { subject: c.id, attributes };
}

function thresholdEvent(e: BillingEvent): Mapped | string {
  const b = e.budgetThreshold;
  if (!b) return "budget.threshold_reached without a budget_threshold";
  const attributes = withStrings({}, { campaign: b.campaignId });
  attributes.percent = num(b.percent);
  if (b.totals) {
    attributes.redemptions = num(b.totals.redemptions);
    attributes.budget_used_ratio = num(b.totals.budgetUsedRatio);
    withMoney(attributes, "discount_given_minor", b.totals.discountGiven);
  }
  return { subject: b.campaignId, attributes };
}

/**
 * The insights event for one billing event received on `subjectTenant`'s
 * subject. `fallbackTime` (the stream's timestamp) stands in for an event
 * without occur_time. The tenant in the payload must be the subject's: a
 * message that disagrees is refused rather than filed under either.
 */
export function insightsEventOf(e: BillingEvent, subjectTenant: string, fallbackTime: Date): MappedBillingEvent {
  if (!UUID.test(e.id)) return { kind: "invalid", reason: "id is not an outbox id (UUID)" };
  if (!UUID.test(e.tenantId)) return { kind: "invalid", reason: "tenant_id is not a UUID" };
  if (e.tenantId.toLowerCase() !== subjectTenant.toLowerCase()) return { kind: "invalid", reason: "tenant_id is not the subject's tenant" };
  const name = BILLING_EVENT_NAMES[e.type];
  if (!name) return { kind: "ignored", reason: `event type ${JSON.stringify(e.type)} is not recorded by insights` };
  const mapped: Mapped | string =
    e.type === "transaction.created" || e.type === "transaction.refunded"
      ? transactionEvent(e.type, e.transaction)
      : e.type === "budget.threshold_reached"
        ? thresholdEvent(e)
        : campaignEvent(e.type, e.campaign);
  if (typeof mapped === "string") return { kind: "invalid", reason: mapped };
  const time = e.occurTime ?? mapped.time ?? fallbackTime;
  return {
    kind: "event",
    tenantId: e.tenantId.toLowerCase(),
    event: { id: e.id.toLowerCase(), name, occurTime: time, subjectId: mapped.subject, attributes: mapped.attributes, receiveTime: undefined },
  };
}
