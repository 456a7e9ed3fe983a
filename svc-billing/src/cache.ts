import { Changes, createCacheRedis, jsonCodec, ReadThroughCache, writing as writingChanges, type CachedEntity, type CacheStats, type Logger } from "@apgms/common";
import type { BillingConfig } from "./config.js";
import { CAMPAIGN_TIMES, OFFER_TIMES, type CampaignRow, type OfferRow } from "./domain/model.js";
import type { OfferTerms } from "./db/redemption.js";

/**
 * The rows svc-billing reads through Redis (common's ReadThroughCache).
 * A campaign row carries its counters, so campaign totals are a campaign
 * read; every redemption and refund invalidates its campaign and offer.
 * Bump an entity's version when the cached shape changes.
 */
export interface BillingCache {
  campaigns: CachedEntity<CampaignRow>;
  offers: CachedEntity<OfferRow>;
  /** What a redemption needs of an offer before it runs; immutable, so never invalidated (only expired). */
  offerTerms: CachedEntity<OfferTerms>;
  /** The terms of a code's offer, keyed by the upper-case code (one read resolves a redemption's target); immutable too. */
  codeTerms: CachedEntity<OfferTerms>;
}

/**
 * Terms kept in process besides Redis: a redemption then reads no cache at all
 * (one Redis round trip less each). Immutable, so never stale; a deleted offer's
 * terms still resolve, and billing.redeem() then answers not found.
 */
const IMMUTABLE_LOCAL_ENTRIES = 10_000;

export function billingCache(cache: ReadThroughCache): BillingCache {
  return {
    campaigns: cache.entity<CampaignRow>({ name: "campaign", version: 1, codec: jsonCodec(CAMPAIGN_TIMES) }),
    offers: cache.entity<OfferRow>({ name: "offer", version: 1, codec: jsonCodec(OFFER_TIMES) }),
    offerTerms: cache.entity<OfferTerms>({ name: "offer-terms", version: 1, codec: jsonCodec([]), immutableLocalEntries: IMMUTABLE_LOCAL_ENTRIES }),
    codeTerms: cache.entity<OfferTerms>({ name: "code-terms", version: 1, codec: jsonCodec([]), immutableLocalEntries: IMMUTABLE_LOCAL_ENTRIES }),
  };
}

export interface BillingCacheHandle {
  cache: BillingCache;
  stats(): CacheStats;
  close(): Promise<void>;
}

export type CacheConfig = Pick<BillingConfig, "REDIS_URL" | "REDIS_KEY_PREFIX" | "READ_CACHE_ENABLED" | "READ_CACHE_TTL_SECONDS">;

/** The service's cache on its own fail-fast Redis connection (none when READ_CACHE_ENABLED is false). */
export function connectBillingCache(config: CacheConfig, logger?: Logger): BillingCacheHandle {
  const redis = config.READ_CACHE_ENABLED ? createCacheRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX, logger) : null;
  const cache = new ReadThroughCache({ redis, namespace: "billing", logger, ttlSeconds: config.READ_CACHE_TTL_SECONDS });
  return {
    cache: billingCache(cache),
    stats: () => cache.stats(),
    close: async () => {
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}

/** Changes with one method per cached table of svc-billing (see common's Changes). */
export class BillingChanges extends Changes {
  constructor(private readonly cache: BillingCache) {
    super();
  }

  campaign(tenantId: string, ...ids: string[]): this {
    return this.add(this.cache.campaigns, tenantId, ...ids);
  }

  offer(tenantId: string, ...ids: string[]): this {
    return this.add(this.cache.offers, tenantId, ...ids);
  }
}

/** Runs a write with fresh BillingChanges and invalidates what it recorded, whether it succeeded or not. */
export function writing<R>(cache: BillingCache, write: (changes: BillingChanges) => Promise<R>): Promise<R> {
  return writingChanges(new BillingChanges(cache), write);
}
