import { Changes, createCacheRedis, jsonCodec, ReadThroughCache, writing as writingChanges, type CacheCodec, type CachedEntity, type CacheStats, type Logger } from "@apgms/common";
import type { IdentityConfig } from "./config.js";
import type { Tenant, User } from "./generated/prisma/client.js";
import type { AccountWithCount } from "./db/accounts.js";
import type { ApiKeyView } from "./db/api-keys.js";

/**
 * The rows svc-identity reads through Redis (common's ReadThroughCache), one
 * entity per table. Bump an entity's version when the cached shape changes:
 * the old entries are then never read.
 */
export interface IdentityCache {
  /** Live tenants only (a deleted one is not found and not cached), keyed by their own id. */
  tenants: CachedEntity<Tenant>;
  users: CachedEntity<User>;
  accounts: CachedEntity<AccountWithCount>;
  apiKeys: CachedEntity<ApiKeyView>;
}

const TIMES = ["createdAt", "updatedAt"] as const;

export function identityCache(cache: ReadThroughCache): IdentityCache {
  return {
    tenants: cache.entity<Tenant>({ name: "tenant", version: 1, codec: jsonCodec([...TIMES, "deletedAt", "purgeAfter"]) }),
    users: cache.entity<User>({ name: "user", version: 1, codec: jsonCodec(TIMES) }),
    accounts: cache.entity<AccountWithCount>({ name: "account", version: 1, codec: jsonCodec(TIMES) }),
    apiKeys: cache.entity<ApiKeyView>({ name: "api-key", version: 1, codec: apiKeyCodec() }),
  };
}

/** An API key's own times, and its rotations' (nested rows the key codec does not see). */
function apiKeyCodec(): CacheCodec<ApiKeyView> {
  const key = jsonCodec<ApiKeyView>(["createdAt", "expiresAt", "revokedAt", "lastUsedAt"]);
  return {
    encode: (value) => key.encode(value),
    decode: (text) => {
      const value = key.decode(text);
      for (const r of value.rotations) {
        r.rotatedAt = new Date(r.rotatedAt);
        r.graceUntil = new Date(r.graceUntil);
      }
      return value;
    },
  };
}

export interface IdentityCacheHandle {
  cache: IdentityCache;
  stats(): CacheStats;
  /** Closes the cache's Redis connection. */
  close(): Promise<void>;
}

export type CacheConfig = Pick<IdentityConfig, "REDIS_URL" | "REDIS_KEY_PREFIX" | "READ_CACHE_ENABLED" | "READ_CACHE_TTL_SECONDS">;

/** The service's cache on its own fail-fast Redis connection (none when READ_CACHE_ENABLED is false). */
export function connectIdentityCache(config: CacheConfig, logger?: Logger): IdentityCacheHandle {
  const redis = config.READ_CACHE_ENABLED ? createCacheRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX, logger) : null;
  const cache = new ReadThroughCache({ redis, namespace: "identity", logger, ttlSeconds: config.READ_CACHE_TTL_SECONDS });
  return {
    cache: identityCache(cache),
    stats: () => cache.stats(),
    close: async () => {
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Changes with one method per cached table of svc-identity (see common's Changes). */
export class IdentityChanges extends Changes {
  constructor(private readonly cache: IdentityCache) {
    super();
  }

  tenant(id: string): this {
    return this.add(this.cache.tenants, id, id);
  }

  user(tenantId: string, ...ids: string[]): this {
    return this.add(this.cache.users, tenantId, ...ids);
  }

  account(tenantId: string, ...ids: string[]): this {
    return this.add(this.cache.accounts, tenantId, ...ids);
  }

  apiKey(tenantId: string, ...ids: string[]): this {
    return this.add(this.cache.apiKeys, tenantId, ...ids);
  }
}

/** Runs a write with fresh IdentityChanges and invalidates what it recorded, whether it succeeded or not. */
export function writing<R>(cache: IdentityCache, write: (changes: IdentityChanges) => Promise<R>): Promise<R> {
  return writingChanges(new IdentityChanges(cache), write);
}
