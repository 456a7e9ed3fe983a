import type { RateLimitOutcome } from "@apgms/common/rate-limit";

export type PolicyName = "ip" | "principal" | "tenant";

export interface PolicyOutcome extends RateLimitOutcome {
  policy: PolicyName;
  quota: number;
  windowSeconds: number;
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * The IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-11): each
 * policy that applied to the request, `"ip";q=6000;w=60`, and what is left of
 * it, `"ip";r=5999;t=60` (Structured Field lists; names are quoted strings).
 */
export function rateLimitHeaders(outcomes: readonly PolicyOutcome[]): Record<string, string> {
  // The operations of a batch are charged one by one: report each policy's latest state once.
  const latest = [...new Map(outcomes.map((o) => [o.policy, o])).values()];
  return {
    "ratelimit-policy": latest.map((o) => `"${o.policy}";q=${o.quota};w=${o.windowSeconds}`).join(", "),
    ratelimit: latest.map((o) => `"${o.policy}";r=${o.remaining};t=${seconds(o.resetMs)}`).join(", "),
  };
}

/** Seconds until every refusing policy has a new window (Retry-After), or undefined when none refused. */
export function retryAfterSeconds(outcomes: readonly PolicyOutcome[]): number | undefined {
  const refused = outcomes.filter((o) => !o.allowed);
  return refused.length ? Math.max(...refused.map((o) => seconds(o.resetMs))) : undefined;
}
