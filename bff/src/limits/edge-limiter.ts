import { principalToString, type Principal } from "@apgms/common/context";
import type { Logger } from "@apgms/common/logger";
import { createRateLimitChain, type WindowLimit } from "@apgms/common/rate-limit-chain";
import type { Redis } from "ioredis";
import { clientKey } from "./client-key.js";
import { rateLimitHeaders, retryAfterSeconds, type PolicyName, type PolicyOutcome } from "./headers.js";
import { planOf, type RateLimitSettings } from "./plans.js";

/** A key's first refusal in a window (later ones in that window are not reported, so a flood is one event). */
export interface RateLimitExceeded {
  policy: PolicyName;
  requestId: string;
  ip: string;
  /** "user:<id>" or "apiKey:<id>"; absent for the address policy. */
  principal?: string;
  tenantId?: string;
  cost: number;
  quota: number;
  windowSeconds: number;
}

export interface EdgeLimiterOptions {
  redis: Redis;
  settings: RateLimitSettings;
  logger: Logger;
  /** Called on each key's first refusal in a window (the audit trail's `rateLimit.hit`); it is also logged at warn. */
  onExceeded?: (event: RateLimitExceeded) => void;
}

/** One request's rate limits: charged per client address first, then by cost per principal and tenant. */
export interface RequestRateLimits {
  /** Seconds to wait when a policy refused the request; undefined while it is allowed. */
  readonly retryAfter: number | undefined;
  /** RateLimit-Policy and RateLimit for the policies charged so far. */
  headers(): Record<string, string>;
  /** Charges `cost` points to the principal and to its tenant; false if either refuses. */
  charge(principal: Principal, tenantId: string, cost: number): Promise<boolean>;
}

interface PolicyLimit {
  policy: PolicyName;
  limit: WindowLimit;
}

export interface EdgeLimiter {
  /** Charges one request to the client address, before authentication. */
  admit(ip: string, requestId: string): Promise<RequestRateLimits>;
}

export function createEdgeLimiter(options: EdgeLimiterOptions): EdgeLimiter {
  const { redis, settings, logger, onExceeded } = options;
  const { windowSeconds, redisTimeoutMs } = settings;
  const chain = createRateLimitChain({ redis, redisTimeoutMs });
  const limit = (policy: PolicyName, points: number) => ({ policy, limit: chain.limit({ keyPrefix: `ratelimit:${policy}`, points, windowSeconds }) });
  const ipLimit = limit("ip", settings.ip);
  const byPlan = new Map<string, { principal: PolicyLimit; tenant: PolicyLimit }>();
  const planLimits = (plan: string) => {
    let limits = byPlan.get(plan);
    if (!limits) {
      const points = settings.plans[plan];
      if (!points) throw new Error(`no rate limits for plan ${plan}`);
      limits = { principal: limit("principal", points.principal), tenant: limit("tenant", points.tenant) };
      byPlan.set(plan, limits);
    }
    return limits;
  };

  type Facts = Omit<RateLimitExceeded, "policy" | "quota" | "windowSeconds">;
  /** Charges the policies in order in one Redis round trip; stops at the first refusal. */
  const consume = async (steps: ReadonlyArray<{ policy: PolicyLimit; key: string }>, facts: Facts): Promise<PolicyOutcome[]> => {
    const results = await chain.consume(steps.map(({ policy, key }) => ({ limit: policy.limit, key, cost: facts.cost })));
    return results.map((result, i) => {
      const { policy, limit: l } = steps[i]!.policy;
      const outcome = { policy, quota: l.points, windowSeconds, ...result };
      if (outcome.exceededNow) {
        const event = { policy, ...facts, quota: l.points, windowSeconds };
        logger.warn(event, "rate limit exceeded");
        onExceeded?.(event);
      }
      return outcome;
    });
  };

  return {
    async admit(ip, requestId) {
      const outcomes = await consume([{ policy: ipLimit, key: clientKey(ip) }], { requestId, ip, cost: 1 });
      return {
        get retryAfter() {
          return retryAfterSeconds(outcomes);
        },
        headers: () => rateLimitHeaders(outcomes),
        async charge(principal, tenantId, cost) {
          const limits = planLimits(planOf(tenantId));
          const subject = principalToString(principal);
          // The principal first: one principal's refused flood must not spend its tenant's budget
          // (the chain does not touch the tenant's counter once the principal is refused).
          const charged = await consume(
            [
              { policy: limits.principal, key: subject },
              { policy: limits.tenant, key: tenantId },
            ],
            { requestId, ip, principal: subject, tenantId, cost },
          );
          outcomes.push(...charged);
          return charged.length === 2 && charged.every((o) => o.allowed);
        },
      };
    },
  };
}
