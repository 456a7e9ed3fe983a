import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, RLWrapperTimeouts, type RateLimiterAbstract } from "rate-limiter-flexible";

export interface RateLimiterOptions {
  redis: Redis;
  /** Names the counters in Redis (after the client's own key prefix); one per limit. */
  keyPrefix: string;
  /** Points a key may consume per window. */
  points: number;
  windowSeconds: number;
  /** A Redis call slower than this is answered by the in-memory insurance limiter instead (default 100 ms). */
  redisTimeoutMs?: number;
}

/** What a consumption left: whether it was allowed, what remains, and when the window ends. */
export interface RateLimitOutcome {
  allowed: boolean;
  /** Points left in the window (0 when refused). */
  remaining: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
  /** True only for the refusal that crossed the limit: report it once per key and window. */
  exceededNow: boolean;
}

export interface RateLimiter {
  readonly points: number;
  readonly windowSeconds: number;
  /** Consumes `points` (at least 1, at most the limit) for `key`; never rejects. */
  consume(key: string, points?: number): Promise<RateLimitOutcome>;
}

/**
 * A fixed-window limiter shared by every instance through Redis
 * (rate-limiter-flexible). When Redis is down (not `ready`) or slower than
 * `redisTimeoutMs`, an in-memory limiter with the same limits answers, so the
 * process keeps limiting (per instance) and never waits on a hung Redis. A key
 * over its limit is also refused from memory until its window ends, so a flood
 * does not reach Redis.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { redis, keyPrefix, points, windowSeconds, redisTimeoutMs = 100 } = options;
  const insurance = new RateLimiterMemory({ keyPrefix, points, duration: windowSeconds });
  const store = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix,
    points,
    duration: windowSeconds,
    rejectIfRedisNotReady: true,
    inMemoryBlockOnConsumed: points + 1,
    insuranceLimiter: insurance,
  });
  const limiter: RateLimiterAbstract = new RLWrapperTimeouts({ limiter: store, timeoutMs: redisTimeoutMs, insuranceLimiter: insurance });

  const outcome = (res: RateLimiterRes, allowed: boolean, weight: number): RateLimitOutcome => ({
    allowed,
    remaining: allowed ? res.remainingPoints : 0,
    resetMs: Math.max(0, res.msBeforeNext),
    // Refusals answered from the in-memory block carry no consumed count.
    exceededNow: !allowed && res.consumedPoints > points && res.consumedPoints - weight <= points,
  });

  return {
    points,
    windowSeconds,
    async consume(key, cost = 1) {
      const weight = Math.min(Math.max(1, Math.ceil(cost)), points);
      try {
        return outcome(await limiter.consume(key, weight), true, weight);
      } catch (err) {
        if (err instanceof RateLimiterRes) return outcome(err, false, weight);
        // Both stores failed (cannot happen with memory insurance): serve rather than refuse.
        return { allowed: true, remaining: points, resetMs: windowSeconds * 1000, exceededNow: false };
      }
    },
  };
}
