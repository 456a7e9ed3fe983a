import type { DurableStreamOptions } from "../nats/jetstream.js";

/**
 * Where audit records travel: one JetStream stream per deployment (or per
 * test run), named from NATS_PREFIX so runs and environments never collide.
 * Declared here, once, because every service emits audit records; svc-identity
 * owns the stored trail and is the stream's one consumer.
 */
export interface AuditStream {
  stream: DurableStreamOptions;
  /** The subject records are published on. */
  subject: string;
  /** svc-identity's durable consumer. */
  durable: string;
}

/** A prefix usable in both a stream name and a subject token: letters, digits, `_` and `-` only. */
export function natsToken(prefix: string): string {
  const token = prefix.replace(/[^A-Za-z0-9_-]/g, "_");
  if (!token) throw new Error("NATS_PREFIX must not be empty");
  return token;
}

/** Unconsumed records are kept a week: svc-identity may be down that long without losing any. */
export const AUDIT_STREAM_MAX_AGE_MS = 7 * 24 * 3_600_000;

export function auditStream(prefix: string): AuditStream {
  const token = natsToken(prefix);
  const subject = `${token}.audit.events`;
  return {
    stream: { name: `${token}_AUDIT`, subjects: [subject], maxAgeMs: AUDIT_STREAM_MAX_AGE_MS, retention: "workqueue" },
    subject,
    durable: "svc-identity-audit",
  };
}
