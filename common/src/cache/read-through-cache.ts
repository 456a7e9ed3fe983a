import type { Logger } from "../logger.js";
import type { Redis } from "../redis.js";
import { CacheCore, type CacheCounters } from "./core.js";
import { CacheEntity, type CachedEntity, type CachedEntitySpec } from "./entity.js";

export interface ReadThroughCacheOptions {
  /** null = cache off: every read goes to the loader. Make it with createCacheRedis (fail-fast). */
  redis: Redis | null;
  /** The owning service, e.g. "identity": first part of every key. */
  namespace: string;
  logger?: Logger;
  /** Default 300; each SET uses ttl * (0.9 + 0.2 * random). */
  ttlSeconds?: number;
  /** Default 64 KiB: larger encoded values are not stored (counted as oversize). */
  maxValueBytes?: number;
  /** Default 250: lifetime of the cross-instance load lock, and how long others wait for it. */
  lockMs?: number;
  /** Default 5: how often a reader waiting for another instance's load looks for its value. */
  lockPollMs?: number;
  /** Default 500: after a failed Redis call, reads skip Redis this long. */
  breakMs?: number;
  /** Default 10,000: past this many unconfirmed invalidations, the whole namespace is invalidated on replay. */
  maxPendingInvalidations?: number;
  /** Default 250: how often pending invalidations are retried (also on every reconnect). */
  replayIntervalMs?: number;
  /** Default 1 day: lifetime of an entry's version counter, refreshed by each invalidation. */
  versionTtlSeconds?: number;
}

export interface CacheStats extends CacheCounters {
  /** Invalidations Redis has not confirmed yet; while > 0 this instance reads around the cache. */
  pendingInvalidations: number;
}

/**
 * The read-through cache every service uses for hot reads (one per service,
 * one entity per cached table). Protocol: docs/architecture.md, "Read-through
 * cache". Hand-written because the version-guarded store, which keeps a load
 * that raced a write from storing, is not what general caching libraries do.
 */
export class ReadThroughCache {
  private readonly core: CacheCore;

  constructor(options: ReadThroughCacheOptions) {
    const {
      redis, namespace, logger, ttlSeconds = 300, maxValueBytes = 64 * 1024, lockMs = 250, lockPollMs = 5,
      breakMs = 500, maxPendingInvalidations = 10_000, replayIntervalMs = 250, versionTtlSeconds = 86_400,
    } = options;
    if (!/^[A-Za-z0-9_-]+$/.test(namespace)) throw new Error(`cache namespace ${JSON.stringify(namespace)}: letters, digits, _ and - only`);
    this.core = new CacheCore({
      redis, namespace, logger, ttlSeconds, maxValueBytes, lockMs, lockPollMs, breakMs, maxPendingInvalidations, replayIntervalMs,
      versionTtlSeconds: Math.max(versionTtlSeconds, ttlSeconds * 2),
    });
  }

  entity<T>(spec: CachedEntitySpec<T>): CachedEntity<T> {
    return new CacheEntity(this.core, spec);
  }

  stats(): CacheStats {
    return { ...this.core.counters, pendingInvalidations: this.core.pendingInvalidations };
  }

  /** Tries once more to replay pending invalidations, then detaches from the client (which it does not close). */
  close(): Promise<void> {
    return this.core.close();
  }
}
