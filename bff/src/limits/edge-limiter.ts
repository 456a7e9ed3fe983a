import { principalToString, type Principal } from "@apgms/common/context";
import type { Logger } from "@apgms/common/logger";
import { createRateLimiter, type RateLimiter } from "@apgms/common/rate-limit";
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

export interface EdgeLimiter {
  /** Charges one request to the client address, before authentication. */
  admit(ip: string, requestId: string): Promise<RequestRateLimits>;
}

export function createEdgeLimiter(options: EdgeLimiterOptions): EdgeLimiter {
  const { redis, settings, logger, onExceeded } = options;
  const { windowSeconds, redisTimeoutMs } = settings;
  const limiter = (policy: PolicyName, points: number) =>
    createRateLimiter({ redis, keyPrefix: `ratelimit:${policy}`, points, windowSeconds, redisTimeoutMs });
  const ipLimiter = limiter("ip", settings.ip);
  const byPlan = new Map<string, { principal: RateLimiter; tenant: RateLimiter }>();
  const planLimiters = (plan: string) => {
    let limiters = byPlan.get(plan);
    if (!limiters) {
      const limits = settings.plans[plan];
      if (!limits) throw new Error(`no rate limits for plan ${plan}`);
      limiters = { principal: limiter("principal", limits.principal), tenant: limiter("tenant", limits.tenant) };
      byPlan.set(plan, limiters);
    }
    return limiters;
  };

  type Facts = Omit<RateLimitExceeded, "policy" | "quota" | "windowSeconds">;
  const consume = async (policy: PolicyName, rl: RateLimiter, key: string, facts: Facts): Promise<PolicyOutcome> => {
    const outcome = { policy, quota: rl.points, windowSeconds: rl.windowSeconds, ...(await rl.consume(key, facts.cost)) };
    if (outcome.exceededNow) {
      const event = { policy, ...facts, quota: rl.points, windowSeconds };
      logger.warn(event, "rate limit exceeded");
      onExceeded?.(event);
    }
    return outcome;
  };

  return {
    async admit(ip, requestId) {
      const outcomes: PolicyOutcome[] = [await consume("ip", ipLimiter, clientKey(ip), { requestId, ip, cost: 1 })];
      return {
        get retryAfter() {
          return retryAfterSeconds(outcomes);
        },
        headers: () => rateLimitHeaders(outcomes),
        async charge(principal, tenantId, cost) {
          const limiters = planLimiters(planOf(tenantId));
          const subject = principalToString(principal);
          const facts = { requestId, ip, principal: subject, tenantId, cost };
          // The principal first: one principal's refused flood must not spend its tenant's budget.
          const own = await consume("principal", limiters.principal, subject, facts);
          outcomes.push(own);
          if (!own.allowed) return false;
          const shared = await consume("tenant", limiters.tenant, tenantId, facts);
          outcomes.push(shared);
          return shared.allowed;
        },
      };
    },
  };
}
