import type { Redis } from "../redis.js";

/** Suffixes of an entry's companion keys (the value key is the entry's key itself). */
export const VER = ":ver";
export const LOCK = ":lock";

/**
 * KEYS: value, version, lock. ARGV: version read before loading ('' = none),
 * encoded value, PX, lock token ('' = no lock held). Stores only if the version
 * is unchanged (no invalidation since the read); releases the lock if still held.
 */
const STORE = `
local stored = 0
if (redis.call('GET', KEYS[2]) or '') == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  stored = 1
end
if ARGV[4] ~= '' and redis.call('GET', KEYS[3]) == ARGV[4] then
  redis.call('DEL', KEYS[3])
end
return stored`;

/** KEYS: value/version pairs. ARGV: (version read, encoded value, PX) per pair. Returns how many were stored. */
const STORE_MANY = `
local stored = 0
for i = 1, #KEYS, 2 do
  local a = (i - 1) / 2 * 3
  if (redis.call('GET', KEYS[i + 1]) or '') == ARGV[a + 1] then
    redis.call('SET', KEYS[i], ARGV[a + 2], 'PX', ARGV[a + 3])
    stored = stored + 1
  end
end
return stored`;

/** KEYS: lock. ARGV: token. Compare-and-delete. */
const UNLOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * KEYS: (value, version, lock) per entry. ARGV: the version key's lifetime in
 * seconds. Per entry: bump the version (so a load that read the old one cannot
 * store), drop the value and any load lock (the next reader loads afresh
 * instead of waiting for a load whose result would be refused).
 */
const INVALIDATE = `
for i = 1, #KEYS, 3 do
  redis.call('INCR', KEYS[i + 1])
  redis.call('EXPIRE', KEYS[i + 1], ARGV[1])
  redis.call('DEL', KEYS[i], KEYS[i + 2])
end
return #KEYS / 3`;

type Arg = string | number;

/** The cache's Lua scripts on one client (EVALSHA, falling back to EVAL after a Redis restart). */
export interface CacheScripts {
  apgmsCacheStore(value: string, ver: string, lock: string, expected: string, text: string, px: number, token: string): Promise<number>;
  apgmsCacheStoreMany(numKeys: number, ...args: Arg[]): Promise<number>;
  apgmsCacheUnlock(lock: string, token: string): Promise<number>;
  apgmsCacheInvalidate(numKeys: number, ...args: Arg[]): Promise<number>;
}

const installed = new WeakSet<Redis>();

/** Defines the scripts on the client once. */
export function cacheScripts(redis: Redis): Redis & CacheScripts {
  if (!installed.has(redis)) {
    redis.defineCommand("apgmsCacheStore", { lua: STORE, numberOfKeys: 3 });
    redis.defineCommand("apgmsCacheStoreMany", { lua: STORE_MANY });
    redis.defineCommand("apgmsCacheUnlock", { lua: UNLOCK, numberOfKeys: 1 });
    redis.defineCommand("apgmsCacheInvalidate", { lua: INVALIDATE });
    installed.add(redis);
  }
  return redis as Redis & CacheScripts;
}
