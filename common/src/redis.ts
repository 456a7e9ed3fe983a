import { Redis } from "ioredis";

export type { Redis };

/** A Redis client whose every key is prefixed (one prefix per deployment or test run). */
export function createRedis(url: string, keyPrefix: string): Redis {
  return new Redis(url, { keyPrefix, maxRetriesPerRequest: 2, enableAutoPipelining: true, lazyConnect: false });
}
