import { z } from "zod";

/** Cost points a principal (user or API key) and a whole tenant may spend per window. */
export interface PlanLimits {
  principal: number;
  tenant: number;
}

/**
 * The edge's limits by plan, in cost points per window (see
 * operation-cost.ts: a `me` query costs 10, a page of 50 users about 400).
 * RATE_LIMIT_PLANS overrides or adds plans.
 */
export const DEFAULT_PLANS: Readonly<Record<string, PlanLimits>> = {
  free: { principal: 12_000, tenant: 24_000 },
  standard: { principal: 60_000, tenant: 240_000 },
  enterprise: { principal: 300_000, tenant: 1_200_000 },
};

/** Billing does not exist yet: every tenant is on this plan. */
export const DEFAULT_PLAN = "standard";

/** The plan whose limits apply to a tenant. */
export function planOf(_tenantId: string): string {
  return DEFAULT_PLAN;
}

export interface RateLimitSettings {
  /** Requests per window per client address, before authentication. */
  ip: number;
  windowSeconds: number;
  plans: Readonly<Record<string, PlanLimits>>;
  redisTimeoutMs: number;
}

export const DEFAULT_RATE_LIMITS: RateLimitSettings = { ip: 6_000, windowSeconds: 60, plans: DEFAULT_PLANS, redisTimeoutMs: 100 };

export interface RateLimitConfig {
  RATE_LIMITS_ENABLED?: boolean;
  RATE_LIMIT_IP?: number;
  RATE_LIMIT_WINDOW_SECONDS?: number;
  RATE_LIMIT_PLANS?: Record<string, PlanLimits>;
  RATE_LIMIT_REDIS_TIMEOUT_MS?: number;
}

/** The settings a configuration asks for (defaults for what it leaves out), or undefined when limits are off. */
export function rateLimitSettings(config: RateLimitConfig): RateLimitSettings | undefined {
  if (config.RATE_LIMITS_ENABLED === false) return undefined;
  const d = DEFAULT_RATE_LIMITS;
  return {
    ip: config.RATE_LIMIT_IP ?? d.ip,
    windowSeconds: config.RATE_LIMIT_WINDOW_SECONDS ?? d.windowSeconds,
    plans: config.RATE_LIMIT_PLANS ?? d.plans,
    redisTimeoutMs: config.RATE_LIMIT_REDIS_TIMEOUT_MS ?? d.redisTimeoutMs,
  };
}

const points = z.number().int().positive();

/** RATE_LIMIT_PLANS: JSON `{"<plan>": {"principal": n, "tenant": n}}`, each field optional over the defaults. */
export const plansFromEnv = z
  .string()
  .default("{}")
  .transform((text, ctx) => {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      ctx.addIssue({ code: "custom", message: "must be JSON" });
      return z.NEVER;
    }
  })
  .pipe(z.record(z.string(), z.object({ principal: points.optional(), tenant: points.optional() }).strict()))
  .transform((overrides): Record<string, PlanLimits> => {
    const plans: Record<string, PlanLimits> = { ...DEFAULT_PLANS };
    for (const [name, limits] of Object.entries(overrides)) {
      const base = plans[name] ?? DEFAULT_PLANS[DEFAULT_PLAN]!;
      plans[name] = { principal: limits.principal ?? base.principal, tenant: limits.tenant ?? base.tenant };
    }
    return plans;
  });
