import type { Redis } from "ioredis";
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import type { RateLimitOutcome } from "./rate-limit.js";

/**
 * rate-limiter-flexible's RateLimiterRedis consume script, looped over the keys
 * in order and stopping after the first key over its limit (the keys after it
 * are not touched). Same keys and values as RateLimiterRedis, so counters
 * written by either stay meaningful to the other. Returns consumed, ttl (ms)
 * for each key it counted. ARGV: weight, limit, window seconds for each key.
 * All keys go to one Redis node: under Redis Cluster they would need one hash slot.
 */
const CHAIN_SCRIPT = `
local out = {}
for i = 1, #KEYS do
  local weight, limit, duration = ARGV[3 * i - 2], tonumber(ARGV[3 * i - 1]), ARGV[3 * i]
  redis.call('set', KEYS[i], 0, 'EX', duration, 'NX')
  local consumed = redis.call('incrby', KEYS[i], weight)
  local ttl = redis.call('pttl', KEYS[i])
  if ttl == -1 then
    redis.call('expire', KEYS[i], duration)
    ttl = 1000 * duration
  end
  out[2 * i - 1] = consumed
  out[2 * i] = ttl
  if consumed > limit then break end
end
return out
`;
const COMMAND = "apgmsRateLimitChain";
type ChainCommand = (numberOfKeys: number, ...args: string[]) => Promise<number[]>;

/** A fixed window: `points` per `windowSeconds` for each key under `keyPrefix` (after the client's own key prefix). */
export interface WindowLimitOptions {
  keyPrefix: string;
  points: number;
  windowSeconds: number;
}

/** A limit made by a chain limiter: its in-memory insurance and the keys it refuses from memory live here. */
export interface WindowLimit extends Readonly<WindowLimitOptions> {
  readonly insurance: RateLimiterMemory;
  /** Keys over the limit → when their window ends (epoch ms). */
  readonly blocked: Map<string, number>;
}

/** One consumption in a chain: `cost` points (at least 1, at most the limit) for `key`. */
export interface LimitCharge {
  limit: WindowLimit;
  key: string;
  cost: number;
}

export interface RateLimitChain {
  limit(options: WindowLimitOptions): WindowLimit;
  /**
   * Consumes each charge in order, in one Redis round trip, and stops at the
   * first refusal: the charges after it are not counted and get no outcome.
   * Never rejects.
   */
  consume(charges: readonly LimitCharge[]): Promise<RateLimitOutcome[]>;
}

export interface RateLimitChainOptions {
  redis: Redis;
  /** A Redis call slower than this is answered by the in-memory insurance limiters instead (default 100 ms). */
  redisTimeoutMs?: number;
}

const weightOf = (charge: LimitCharge) => Math.min(Math.max(1, Math.ceil(charge.cost) || 1), charge.limit.points);
const rlKey = (charge: LimitCharge) => `${charge.limit.keyPrefix}:${charge.key}`;

function counted(points: number, weight: number, consumed: number, ttlMs: number): RateLimitOutcome {
  const allowed = consumed <= points;
  return {
    allowed,
    remaining: allowed ? points - consumed : 0,
    resetMs: Math.max(0, ttlMs),
    exceededNow: !allowed && consumed - weight <= points,
  };
}

/** Still refused from memory (the window's count is not known here): never reported again. */
const blockedOutcome = (msLeft: number): RateLimitOutcome => ({ allowed: false, remaining: 0, resetMs: msLeft, exceededNow: false });

function blockedFor(limit: WindowLimit, key: string, now: number): number {
  const until = limit.blocked.get(key);
  if (until === undefined) return 0;
  if (until > now) return until - now;
  limit.blocked.delete(key);
  return 0;
}

function block(limit: WindowLimit, key: string, ms: number): void {
  const now = Date.now();
  limit.blocked.set(key, now + ms);
  if (limit.blocked.size > 999) for (const [k, until] of limit.blocked) if (until <= now) limit.blocked.delete(k);
}

/**
 * Fixed-window limits shared by every instance through Redis, several keys
 * charged in one round trip (rate-limiter-flexible has no multi-key consume;
 * its in-memory limiter is the insurance here). When Redis is not `ready`,
 * fails, or is slower than `redisTimeoutMs`, each limit's in-memory limiter
 * answers, so the process keeps limiting (per instance) and never waits on a
 * hung Redis. A key over its limit is refused from memory until its window
 * ends, so a flood does not reach Redis.
 */
export function createRateLimitChain(options: RateLimitChainOptions): RateLimitChain {
  const { redis, redisTimeoutMs = 100 } = options;
  const commands = redis as unknown as Record<string, ChainCommand | undefined>;
  if (!commands[COMMAND]) redis.defineCommand(COMMAND, { lua: CHAIN_SCRIPT });
  const command = commands[COMMAND]!.bind(redis);

  const fromRedis = (charges: readonly LimitCharge[]): Promise<RateLimitOutcome[]> => {
    const keys = charges.map(rlKey);
    const args = charges.flatMap((c) => [String(weightOf(c)), String(c.limit.points), String(c.limit.windowSeconds)]);
    return command(charges.length, ...keys, ...args).then((reply) =>
      charges.slice(0, reply.length / 2).map((charge, i) => {
        const outcome = counted(charge.limit.points, weightOf(charge), Number(reply[2 * i]), Number(reply[2 * i + 1]));
        // A reply that comes after the timeout still blocks the key it found over its limit.
        if (!outcome.allowed) block(charge.limit, keys[i]!, outcome.resetMs);
        return outcome;
      }),
    );
  };

  const fromMemory = async (charges: readonly LimitCharge[]): Promise<RateLimitOutcome[]> => {
    const outcomes: RateLimitOutcome[] = [];
    for (const charge of charges) {
      const weight = weightOf(charge);
      const res = await charge.limit.insurance.consume(charge.key, weight).catch((err: unknown) => {
        if (err instanceof RateLimiterRes) return err;
        // Cannot happen with a memory store; were it to, serve rather than refuse.
        return new RateLimiterRes(charge.limit.points, charge.limit.windowSeconds * 1000, 0);
      });
      const outcome = counted(charge.limit.points, weight, res.consumedPoints, res.msBeforeNext);
      outcomes.push(outcome);
      if (!outcome.allowed) break;
    }
    return outcomes;
  };

  const withTimeout = (charges: readonly LimitCharge[]): Promise<RateLimitOutcome[]> =>
    new Promise((resolve) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        resolve(fromMemory(charges));
      }, redisTimeoutMs);
      fromRedis(charges).then(
        (outcomes) => {
          clearTimeout(timer);
          resolve(outcomes);
        },
        () => {
          clearTimeout(timer);
          // After a timeout the insurance has already counted these charges.
          if (!timedOut) resolve(fromMemory(charges));
        },
      );
    });

  return {
    limit: (opts) => ({ ...opts, insurance: new RateLimiterMemory({ keyPrefix: opts.keyPrefix, points: opts.points, duration: opts.windowSeconds }), blocked: new Map() }),

    async consume(charges) {
      // Only the charges before the first key refused from memory go to Redis.
      const now = Date.now();
      let sent = charges.length;
      let msLeft = 0;
      for (let i = 0; i < charges.length; i++) {
        msLeft = blockedFor(charges[i]!.limit, rlKey(charges[i]!), now);
        if (msLeft > 0) {
          sent = i;
          break;
        }
      }
      const head = charges.slice(0, sent);
      const outcomes = head.length === 0 ? [] : redis.status === "ready" ? await withTimeout(head) : await fromMemory(head);
      if (sent < charges.length && outcomes.every((o) => o.allowed)) outcomes.push(blockedOutcome(msLeft));
      return outcomes;
    },
  };
}
