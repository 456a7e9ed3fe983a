import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "./logger.js";

export type { Redis, RedisOptions };

/**
 * A Redis client whose every key is prefixed (one prefix per deployment or
 * test run). With a logger, an outage is logged once when it starts and once
 * when Redis is back (ioredis would otherwise report every reconnect attempt
 * as an unhandled error event). `options` override the defaults, e.g. to make
 * a client fail fast (createCacheRedis in ./cache does).
 */
export function createRedis(url: string, keyPrefix: string, logger?: Logger, options: RedisOptions = {}): Redis {
  const redis = new Redis(url, { keyPrefix, maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: false, ...options });
  if (logger) {
    let down = false;
    redis.on("error", (err: Error) => {
      if (down) return;
      down = true;
      logger.warn({ err: err.message }, "Redis unreachable; limits use their in-memory insurance, caches fall back to the services");
    });
    redis.on("ready", () => {
      if (!down) return;
      down = false;
      logger.info("Redis reachable again");
    });
  }
  return redis;
}
