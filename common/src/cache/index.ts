export { jsonCodec, type CacheCodec } from "./codec.js";
export type { CachedEntity, CachedEntitySpec, CacheInvalidation } from "./entity.js";
export { ReadThroughCache, type CacheStats, type ReadThroughCacheOptions } from "./read-through-cache.js";
export { createCacheRedis, type CacheRedisOptions } from "./redis-client.js";
export { Changes, writing } from "./changes.js";
