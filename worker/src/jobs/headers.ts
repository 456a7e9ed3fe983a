// The job envelope: payload as JSON in the body, identity in headers.
/** The job's id: set once at enqueue, kept by redeliveries and replays; the once-only key. */
export const JOB_ID = "Apgms-Job-Id";
export const TENANT_ID = "Apgms-Tenant-Id";

// Added to a dead letter (beside the job's own headers).
/** Why the job was dead-lettered: the last delivery's error (one line, at most 1,000 characters). */
export const DEAD_REASON = "Apgms-Dead-Reason";
/** Deliveries made before it was dead-lettered. */
export const DEAD_DELIVERIES = "Apgms-Dead-Deliveries";
/** The job's subject and sequence in the jobs stream. */
export const DEAD_SUBJECT = "Apgms-Dead-Subject";
export const DEAD_SEQ = "Apgms-Dead-Seq";
/** When it was dead-lettered (ISO 8601). */
export const DEAD_AT = "Apgms-Dead-At";

/** A header value: one line, bounded. */
export function headerValue(text: string, max = 1_000): string {
  const line = text.replace(/[\r\n]+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
