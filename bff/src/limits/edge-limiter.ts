import { principalToString, type Principal } from "@apgms/common/context";
import type { Logger } from "@apgms/common/logger";
import { createRateLimiter, type RateLimiter } from "@apgms/common/rate-limit";
import type { Redis } from "ioredis";
import { rateLimitHeaders, retryAfterSeconds, type PolicyName, type PolicyOutcome } from "./headers.js";
import { planOf, type RateLimitSettings } from "./plans.js";

export interface EdgeLimiterOptions {
  redis: Redis;
  settings: RateLimitSettings;
  logger: Logger;
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
  admit(ip: string): Promise<RequestRateLimits>;
}

export function createEdgeLimiter(options: EdgeLimiterOptions): EdgeLimiter {
  const { redis, settings, logger } = options;
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

  const consume = async (policy: PolicyName, rl: RateLimiter, key: string, cost: number, log: Record<string, unknown>): Promise<PolicyOutcome> => {
    const outcome = { policy, quota: rl.points, windowSeconds: rl.windowSeconds, ...(await rl.consume(key, cost)) };
    if (outcome.exceededNow) logger.warn({ policy, ...log, quota: rl.points, windowSeconds }, "rate limit exceeded");
    return outcome;
  };

  return {
    async admit(ip) {
      const outcomes: PolicyOutcome[] = [await consume("ip", ipLimiter, ip || "unknown", 1, { ip })];
      return {
        get retryAfter() {
          return retryAfterSeconds(outcomes);
        },
        headers: () => rateLimitHeaders(outcomes),
        async charge(principal, tenantId, cost) {
          const limiters = planLimiters(planOf(tenantId));
          const subject = principalToString(principal);
          const log = { principal: subject, tenantId, cost };
          // The principal first: one principal's refused flood must not spend its tenant's budget.
          const own = await consume("principal", limiters.principal, subject, cost, log);
          outcomes.push(own);
          if (own.allowed) outcomes.push(await consume("tenant", limiters.tenant, tenantId, cost, log));
          return outcomes.every((o) => o.allowed);
        },
      };
    },
  };
}
