import { natsToken } from "../audit/stream.js";
import type { DurableStreamOptions } from "../nats/jetstream.js";

/** Consumers of a domain's events may be down this long without losing any. */
export const DOMAIN_EVENTS_MAX_AGE_MS = 7 * 24 * 3_600_000;
/**
 * A republished outbox row (a relay that died between publishing and marking)
 * is dropped by the stream within this window; a relay down longer than this
 * with rows published but not marked would store them twice.
 */
export const DOMAIN_EVENTS_DUPLICATE_WINDOW_MS = 3_600_000;

const DOMAIN = /^[a-z][a-z0-9_-]*$/;
const EVENT_TYPE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkedDomain(domain: string): string {
  if (!DOMAIN.test(domain)) throw new Error(`not a domain name (lowercase letters, digits, _ and -): ${JSON.stringify(domain)}`);
  return domain;
}

/** Event types are subject tokens separated by dots, e.g. "transaction.created": no wildcards, no spaces. */
export function checkEventType(eventType: string): string {
  if (!EVENT_TYPE.test(eventType)) throw new Error(`not an event type (dot-separated letters, digits, _ and -): ${JSON.stringify(eventType)}`);
  return eventType;
}

/** The stream holding one domain's events for every tenant: `<PREFIX>_BILLING` on `<prefix>.*.billing.>`. */
export function domainEventsStream(prefix: string, domain: string): DurableStreamOptions {
  const token = natsToken(prefix);
  checkedDomain(domain);
  return {
    name: `${token}_${domain.toUpperCase()}`,
    subjects: [`${token}.*.${domain}.>`],
    maxAgeMs: DOMAIN_EVENTS_MAX_AGE_MS,
    duplicateWindowMs: DOMAIN_EVENTS_DUPLICATE_WINDOW_MS,
    retention: "limits",
  };
}

/** `<prefix>.<tenant id>.<domain>.<event type>`, e.g. `apgms.3f1c….billing.transaction.created`. */
export function subjectFor(prefix: string, tenantId: string, domain: string, eventType: string): string {
  if (!UUID.test(tenantId)) throw new Error(`not a tenant id: ${JSON.stringify(tenantId)}`);
  return `${natsToken(prefix)}.${tenantId.toLowerCase()}.${checkedDomain(domain)}.${checkEventType(eventType)}`;
}
