// Analytics answers in Redis, valid until the tenant's next ingested batch.
//
// Each tenant has a generation counter (`insights:{tenant}:gen`), bumped once
// after every batch that stored new events has committed. An answer is stored
// with the generation read BEFORE its query ran, and only if the counter
// still holds it (a Lua compare-and-set), so an answer computed while a batch
// committed is never served after that batch's bump. A hit costs one MGET, and
// its bytes go to the client as they are (protobuf, never decoded here).
// common's ReadThroughCache versions one key at a time; here one counter
// covers every question a tenant may ask, which is why this is its own class.
//
// Outage: a failed read goes to Postgres (and skips Redis for a moment); a
// failed bump is kept and retried, and until it lands this instance answers
// that tenant from Postgres. Another instance may serve the tenant's older
// answers meanwhile, for at most READ_CACHE_TTL_SECONDS.
import { createHash } from "node:crypto";
import { createCacheRedis, EncodedMessage, type Logger, type Reply } from "@apgms/common";
import type { Redis } from "@apgms/common/redis";
import type { InsightsConfig } from "./config.js";

export interface AnswerCodec<T> {
  encode(value: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
}

/** The message of a reply `get` resolved (for callers that read the answer instead of sending it). */
export function answerOf<T>(codec: AnswerCodec<T>, reply: Reply<T>): T {
  return reply instanceof EncodedMessage ? codec.decode(reply.bytes) : reply;
}

export interface AnswerCacheStats {
  hits: number;
  misses: number;
  stored: number;
  /** Loads whose answer was not stored: the tenant ingested while they ran. */
  staleRefused: number;
  bypassed: number;
  redisErrors: number;
  pendingInvalidations: number;
}

const STORE = `
if (redis.call('GET', KEYS[1]) or '0') == ARGV[1] then
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0`;

const BUMP = `
local g = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return g`;

const COLON = 0x3a;

interface Scripts {
  insightsAnswerStore(gen: string, answer: string, expected: string, entry: Buffer, px: number): Promise<number>;
  insightsGenerationBump(gen: string, ttlSeconds: number): Promise<number>;
}

export interface AnswerCacheOptions {
  ttlSeconds: number;
  logger?: Logger;
  /** After a failed Redis call, reads skip Redis this long (default 500). */
  breakMs?: number;
  /** How often failed bumps are retried (default 250). */
  replayIntervalMs?: number;
}

export class AnswerCache {
  private readonly redis: (Redis & Scripts) | null;
  private readonly counters = { hits: 0, misses: 0, stored: 0, staleRefused: 0, bypassed: 0, redisErrors: 0 };
  /** Tenants whose bump Redis has not confirmed. */
  private readonly pending = new Set<string>();
  private skipUntil = 0;
  private warned = false;
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly generationTtlSeconds: number;

  constructor(
    redis: Redis | null,
    private readonly options: AnswerCacheOptions,
  ) {
    this.generationTtlSeconds = Math.max(86_400, options.ttlSeconds * 2);
    if (redis) {
      redis.defineCommand("insightsAnswerStore", { lua: STORE, numberOfKeys: 2 });
      redis.defineCommand("insightsGenerationBump", { lua: BUMP, numberOfKeys: 1 });
      this.redis = redis as Redis & Scripts;
      this.timer = setInterval(() => void this.replay(), options.replayIntervalMs ?? 250);
      this.timer.unref();
    } else {
      this.redis = null;
    }
  }

  /**
   * `question`: a canonical text of everything the answer depends on (method and validated request).
   * A hit resolves the answer's protobuf bytes (an EncodedMessage the gRPC server sends as they are);
   * a miss resolves what `load` did, or its bytes once they were encoded to be stored.
   */
  async get<T>(tenantId: string, question: string, codec: AnswerCodec<T>, load: () => Promise<T>): Promise<Reply<T>> {
    const redis = this.usable(tenantId);
    if (!redis) {
      this.counters.bypassed++;
      return load();
    }
    const genKey = generationKey(tenantId);
    const answerKey = `insights:{${tenantId}}:b:${createHash("sha256").update(question).digest("base64url")}`;
    let gen: string;
    try {
      // An entry is `<generation>:<protobuf bytes>`.
      const [g, stored] = await redis.mgetBuffer(genKey, answerKey);
      gen = g ? g.toString("latin1") : "0";
      if (stored) {
        const colon = stored.indexOf(COLON);
        if (colon === gen.length && stored.toString("latin1", 0, colon) === gen) {
          this.counters.hits++;
          return new EncodedMessage<T>(stored.subarray(colon + 1));
        }
      }
    } catch (err) {
      this.failed(err);
      this.counters.bypassed++;
      return load();
    }
    this.counters.misses++;
    const answer = await load();
    let bytes: Buffer;
    try {
      const encoded = codec.encode(answer).finish();
      bytes = Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
    } catch {
      return answer;
    }
    try {
      const px = Math.round(this.options.ttlSeconds * 1000 * (0.9 + 0.2 * Math.random()));
      if (await redis.insightsAnswerStore(genKey, answerKey, gen, Buffer.concat([Buffer.from(`${gen}:`, "latin1"), bytes]), px)) this.counters.stored++;
      else this.counters.staleRefused++;
    } catch (err) {
      this.failed(err);
    }
    return new EncodedMessage<T>(bytes);
  }

  /** Call after a batch that stored events has committed: every cached answer of the tenant is stale. Never throws. */
  async invalidate(tenantId: string): Promise<void> {
    if (!this.redis) return;
    this.pending.add(tenantId);
    await this.bump(tenantId);
  }

  stats(): AnswerCacheStats {
    return { ...this.counters, pendingInvalidations: this.pending.size };
  }

  /** Retries pending bumps once more and stops retrying; the Redis client is the caller's to close. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.replay();
  }

  private async bump(tenantId: string): Promise<void> {
    try {
      if (this.redis!.status !== "ready") throw new Error(`Redis connection is ${this.redis!.status}`);
      await this.redis!.insightsGenerationBump(generationKey(tenantId), this.generationTtlSeconds);
      this.pending.delete(tenantId);
    } catch (err) {
      this.failed(err);
    }
  }

  private async replay(): Promise<void> {
    if (this.pending.size === 0 || this.redis?.status !== "ready") return;
    for (const tenantId of [...this.pending]) await this.bump(tenantId);
    if (this.pending.size === 0 && this.warned) {
      this.warned = false;
      this.options.logger?.info("answer cache: Redis answers again; pending invalidations replayed");
    }
  }

  private usable(tenantId: string): (Redis & Scripts) | null {
    const redis = this.redis;
    if (!redis || redis.status !== "ready" || this.pending.has(tenantId)) return null;
    if (this.skipUntil > Date.now()) return null;
    return redis;
  }

  private failed(err: unknown): void {
    this.counters.redisErrors++;
    this.skipUntil = Date.now() + (this.options.breakMs ?? 500);
    if (this.warned) return;
    this.warned = true;
    this.options.logger?.warn({ err: err instanceof Error ? err.message : String(err) }, "answer cache: Redis call failed; answering from Postgres until it is back");
  }
}

/** `{tenant}` is a hash tag: a tenant's keys share a cluster slot, as the store script needs. */
function generationKey(tenantId: string): string {
  return `insights:{${tenantId}}:gen`;
}

export interface AnswerCacheHandle {
  cache: AnswerCache;
  close(): Promise<void>;
}

export type CacheConfig = Pick<InsightsConfig, "REDIS_URL" | "REDIS_KEY_PREFIX" | "READ_CACHE_ENABLED" | "READ_CACHE_TTL_SECONDS">;

/** The answer cache on its own fail-fast Redis connection (none when READ_CACHE_ENABLED is false). */
export function connectAnswerCache(config: CacheConfig, logger?: Logger): AnswerCacheHandle {
  const redis = config.READ_CACHE_ENABLED ? createCacheRedis(config.REDIS_URL, config.REDIS_KEY_PREFIX, logger) : null;
  const cache = new AnswerCache(redis, { ttlSeconds: config.READ_CACHE_TTL_SECONDS, logger });
  return {
    cache,
    close: async () => {
      await cache.close();
      if (redis) await redis.quit().catch(() => redis.disconnect());
    },
  };
}
