import type { Redis } from "ioredis";
import { createRateLimitChain } from "./rate-limit-chain.js";

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
 * A fixed-window limiter shared by every instance through Redis: one key per
 * call of a rate-limit chain (./rate-limit-chain.ts, which has the in-memory
 * insurance and blocking). Charge several keys at once with the chain itself.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { redis, keyPrefix, points, windowSeconds, redisTimeoutMs } = options;
  const chain = createRateLimitChain({ redis, ...(redisTimeoutMs !== undefined && { redisTimeoutMs }) });
  const limit = chain.limit({ keyPrefix, points, windowSeconds });
  return {
    points,
    windowSeconds,
    async consume(key, cost = 1) {
      const [outcome] = await chain.consume([{ limit, key, cost }]);
      return outcome!;
    },
  };
}
