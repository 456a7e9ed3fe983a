export { startOutboxRelay, OutboxRelay, type OutboxRelayOptions, type OutboxRelayState } from "./relay.js";
export { writeOutboxEvent, prismaSql, MAX_OUTBOX_PAYLOAD_BYTES, type OutboxEvent, type SqlRun, type PrismaRawClient } from "./writer.js";
export { domainEventsStream, subjectFor, DOMAIN_EVENTS_MAX_AGE_MS, DOMAIN_EVENTS_DUPLICATE_WINDOW_MS } from "./stream.js";
export { outboxTableSql } from "./sql.js";
export { OutboxWake, outboxWakeSubject, WAKE_COALESCE_MS } from "./wake.js";
