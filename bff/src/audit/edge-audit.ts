import type { AuditInput, AuditTrail } from "@apgms/common/audit/trail";
import { maskIp } from "@apgms/common/audit/redact";
import type { AuditEvent } from "@apgms/proto/apgms/identity/v1/audit";

/** The edge's security events (mutations are recorded by their field name). */
export type SecurityAction =
  /** A session seen for the first time: a sign-in. */
  | "auth.signIn"
  /** Credentials were presented and refused (bad or expired token, unknown API key, revoked session). */
  | "auth.failed"
  /** A request refused by a rate limit. */
  | "rateLimit.hit";

export interface SecurityFacts {
  requestId: string;
  /** The client address; recorded masked (IPv4 /24, IPv6 /48). */
  ip?: string;
  tenantId?: string;
  /** "user:<id>", "apiKey:<id>", ...; default "client:<masked ip>". */
  principal?: string;
  targetIds?: readonly string[];
  /** Why, in words that carry no secret (e.g. the AuthError message). */
  reason?: string;
  details?: Record<string, string | number | boolean | undefined>;
}

const OUTCOME: Record<SecurityAction, AuditInput["outcome"]> = {
  "auth.signIn": "ok",
  "auth.failed": "refused",
  "rateLimit.hit": "refused",
};

export interface EdgeAudit {
  /** One record of a mutation or any other audited fact. */
  record(input: AuditInput): AuditEvent;
  /** One record of a security event; never throws, never blocks the request. */
  securityEvent(action: SecurityAction, facts: SecurityFacts): AuditEvent;
  /** Waits until the records emitted so far were handed to the stored trail. */
  flush(): Promise<void>;
}

export function createEdgeAudit(trail: AuditTrail): EdgeAudit {
  return {
    record: (input) => trail.record(input),
    securityEvent(action, facts) {
      const ip = facts.ip ? maskIp(facts.ip) : "";
      return trail.record({
        action,
        outcome: OUTCOME[action],
        requestId: facts.requestId,
        tenantId: facts.tenantId ?? "",
        principal: facts.principal ?? (ip ? `client:${ip}` : "anonymous"),
        targetIds: facts.targetIds,
        details: { ...facts.details, ...(ip ? { clientNetwork: ip } : {}), ...(facts.reason ? { reason: facts.reason } : {}) },
      });
    },
    flush: () => trail.flush(),
  };
}
