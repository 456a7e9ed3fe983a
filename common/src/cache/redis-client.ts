import type { Logger } from "../logger.js";
import { createRedis, type Redis } from "../redis.js";

export interface CacheRedisOptions {
  /** A command without a reply after this long fails, and the read goes to the loader (default 100). */
  commandTimeoutMs?: number;
}

/**
 * A Redis client for ReadThroughCache that fails fast instead of waiting for
 * Redis: no offline queue (commands fail at once while disconnected), no
 * resend after a reconnect, a timeout on every command (a stopped server keeps
 * the connection open, so only a timeout notices), and reconnect attempts at
 * most a second apart. No auto-pipelining: the cache sends the reads of one
 * turn as one MGET itself (CacheCore.mget), and ioredis' pipeline per turn
 * cost more CPU than the separate writes it saves.
 */
export function createCacheRedis(url: string, keyPrefix: string, logger?: Logger, { commandTimeoutMs = 100 }: CacheRedisOptions = {}): Redis {
  const redis = createRedis(url, keyPrefix, logger, {
    enableAutoPipelining: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    retryStrategy: (times) => Math.min(50 * times, 1000),
  });
  // Without a logger, errors still need a listener; the cache counts them (stats().redisErrors).
  if (!logger) redis.on("error", () => {});
  return redis;
}
