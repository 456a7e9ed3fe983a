import { randomBytes } from "node:crypto";
import type { Logger } from "../logger.js";
import type { Redis } from "../redis.js";
import { PendingInvalidations } from "./pending.js";
import { cacheScripts, LOCK, VER, type CacheScripts } from "./scripts.js";

export type CacheRedis = Redis & CacheScripts;

export interface CacheCounters {
  hits: number;
  misses: number;
  loads: number;
  coalesced: number;
  lockWaits: number;
  oversize: number;
  staleSetsRefused: number;
  redisErrors: number;
  /** Reads that went straight to the loader (cache off, Redis failing, or invalidations pending). */
  bypassed: number;
  /** Calls this cache made to Redis (a hit costs exactly one). */
  redisCommands: number;
}

export interface CoreSettings {
  redis: Redis | null;
  namespace: string;
  logger: Logger | undefined;
  ttlSeconds: number;
  maxValueBytes: number;
  lockMs: number;
  lockPollMs: number;
  breakMs: number;
  maxPendingInvalidations: number;
  replayIntervalMs: number;
  versionTtlSeconds: number;
}

/** Invalidations sent per script call. */
const CHUNK = 500;

/** Reads asked for in one turn, sent as one MGET; each waiter gets its slice of the reply. */
interface ReadBatch {
  redis: CacheRedis;
  keys: string[];
  waiters: Array<{ from: number; to: number; resolve: (reply: (string | null)[]) => void; reject: (err: unknown) => void }>;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * What every entity of one cache shares: the client and its scripts, counters,
 * in-process loads in flight, and the outage state (breaker, pending
 * invalidations and their replay).
 */
export class CacheCore {
  readonly redis: CacheRedis | null;
  readonly counters: CacheCounters = {
    hits: 0, misses: 0, loads: 0, coalesced: 0, lockWaits: 0, oversize: 0,
    staleSetsRefused: 0, redisErrors: 0, bypassed: 0, redisCommands: 0,
  };
  /** Loads in flight in this process, by value key: concurrent readers share one. */
  readonly flights = new Map<string, Promise<unknown>>();
  /**
   * Bumped when the connection closes (Redis may come back empty, its version
   * counters reset) and when an invalidation fails: a load whose version was
   * read before then does not store.
   */
  epoch = 0;
  degraded = false;
  private skipUntil = 0;
  private readonly pending: PendingInvalidations;
  private replaying = false;
  private replayTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly instance = randomBytes(6).toString("hex");
  private seq = 0;
  private batch: ReadBatch | undefined;

  constructor(readonly settings: CoreSettings) {
    this.redis = settings.redis === null ? null : cacheScripts(settings.redis);
    this.pending = new PendingInvalidations(settings.maxPendingInvalidations);
    if (this.redis) {
      this.redis.on("ready", this.onReady);
      this.redis.on("close", this.onClose);
      if (typeof this.redis.options.commandTimeout !== "number") {
        settings.logger?.warn({ namespace: settings.namespace }, "cache: its Redis client has no commandTimeout, so a hung Redis would hang reads; use createCacheRedis");
      }
    }
  }

  get pendingInvalidations(): number {
    return this.pending.size;
  }

  /** The client if reads and writes may use it now, else null (go to the loader). */
  usableRedis(): CacheRedis | null {
    const redis = this.redis;
    if (redis === null || redis.status !== "ready" || this.pending.size > 0) return null;
    if (this.skipUntil !== 0) {
      if (Date.now() < this.skipUntil) return null;
      this.skipUntil = 0;
    }
    return redis;
  }

  /**
   * MGET of `keys`, sent together with every other read asked for before the
   * next microtask: a call's tenant liveness check and its entity, issued side
   * by side, cost one Redis command, not two. Per command, ioredis' own work
   * (command object, timeout timer, reply parsing) is most of what a hit costs.
   */
  mget(redis: CacheRedis, keys: string[]): Promise<(string | null)[]> {
    let batch = this.batch;
    if (batch === undefined || batch.redis !== redis) {
      const fresh: ReadBatch = { redis, keys: [], waiters: [] };
      batch = this.batch = fresh;
      queueMicrotask(() => this.flush(fresh));
    }
    const { keys: all, waiters } = batch;
    return new Promise((resolve, reject) => {
      waiters.push({ from: all.length, to: all.length + keys.length, resolve, reject });
      for (const key of keys) all.push(key);
    });
  }

  private flush(batch: ReadBatch): void {
    if (this.batch === batch) this.batch = undefined;
    this.counters.redisCommands++;
    const { waiters } = batch;
    const fail = (err: unknown) => {
      for (const w of waiters) w.reject(err);
    };
    let sent: Promise<(string | null)[]>;
    try {
      sent = batch.redis.mget(batch.keys);
    } catch (err) {
      return fail(err); // thrown in a microtask it would crash the process, not fail the reads
    }
    sent.then((reply) => {
      if (waiters.length === 1) waiters[0]!.resolve(reply);
      else for (const w of waiters) w.resolve(reply.slice(w.from, w.to));
    }, fail);
  }

  bypass<R>(load: () => Promise<R>): Promise<R> {
    this.counters.loads++;
    this.counters.bypassed++;
    return load();
  }

  /**
   * A Redis call failed: count it, log once per outage, and unless Redis itself
   * answered with the error (it is reachable), skip Redis for `breakMs`.
   */
  failed(err: unknown, op: string): void {
    this.counters.redisErrors++;
    const answered = err instanceof Error && err.name === "ReplyError";
    if (this.settings.breakMs > 0 && !answered) this.skipUntil = Date.now() + this.settings.breakMs;
    if (this.degraded) return;
    this.degraded = true;
    this.settings.logger?.warn({ err: message(err), op, namespace: this.settings.namespace }, "cache: Redis call failed; reads go to the loaders until it answers");
  }

  recovered(): void {
    this.degraded = false;
    this.settings.logger?.info({ namespace: this.settings.namespace }, "cache: Redis answers again");
  }

  token(): string {
    return `${this.instance}:${++this.seq}`;
  }

  /** TTL with ±10% jitter, so entries filled together do not expire together. */
  ttlMs(ttlSeconds: number): number {
    return Math.round(ttlSeconds * 1000 * (0.9 + 0.2 * Math.random()));
  }

  async unlock(redis: CacheRedis, lock: string, token: string): Promise<void> {
    try {
      this.counters.redisCommands++;
      await redis.apgmsCacheUnlock(lock, token);
    } catch (err) {
      this.failed(err, "unlock");
    }
  }

  /** Never throws: what Redis does not confirm is kept and replayed. */
  async invalidate(keys: readonly string[]): Promise<void> {
    const redis = this.redis;
    if (redis === null || keys.length === 0) return;
    try {
      if (redis.status !== "ready") throw new Error(`Redis connection is ${redis.status}`);
      await this.send(redis, keys);
      if (this.pending.size > 0) void this.replay();
    } catch (err) {
      this.failed(err, "invalidate");
      this.epoch++;
      this.pending.add(keys);
      this.scheduleReplay();
    } finally {
      // Readers arriving from now on must not join a load that may predate the write.
      for (const key of keys) this.flights.delete(key);
    }
  }

  /** Replays pending invalidations (one replay at a time); on failure retries every replayIntervalMs. */
  async replay(): Promise<void> {
    const redis = this.redis;
    if (redis === null || this.replaying || redis.status !== "ready") return;
    const work = this.pending.take();
    if (!work) return;
    this.replaying = true;
    let ok = false;
    try {
      if (work.everything) await this.invalidateNamespace(redis);
      await this.send(redis, work.keys);
      ok = true;
    } catch (err) {
      this.failed(err, "replay");
    } finally {
      work.settle(ok);
      this.replaying = false;
    }
    if (ok) {
      this.settings.logger?.info({ namespace: this.settings.namespace, keys: work.keys.length, everything: work.everything }, "cache: pending invalidations replayed");
    }
    if (this.pending.size > 0) this.scheduleReplay();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.replay();
    this.closed = true;
    clearTimeout(this.replayTimer);
    this.redis?.off("ready", this.onReady);
    this.redis?.off("close", this.onClose);
  }

  private async send(redis: CacheRedis, keys: readonly string[]): Promise<void> {
    const versionTtl = this.settings.versionTtlSeconds;
    for (let i = 0; i < keys.length; i += CHUNK) {
      const args: string[] = [];
      for (const key of keys.slice(i, i + CHUNK)) args.push(key, key + VER, key + LOCK);
      this.counters.redisCommands++;
      await redis.apgmsCacheInvalidate(args.length, ...args, versionTtl);
    }
  }

  /** After too many pending invalidations: every entry of the namespace, all tenants. */
  private async invalidateNamespace(redis: CacheRedis): Promise<void> {
    const prefix = redis.options.keyPrefix ?? "";
    const match = `${(prefix + this.settings.namespace).replace(/[*?[\]\\]/g, "\\$&")}:*`;
    let cursor = "0";
    do {
      this.counters.redisCommands++;
      const [next, found] = await redis.scan(cursor, "MATCH", match, "COUNT", 1000);
      cursor = next;
      const keys = new Set<string>();
      for (const full of found) {
        const key = full.slice(prefix.length);
        const suffix = key.endsWith(VER) ? VER : key.endsWith(LOCK) ? LOCK : "";
        keys.add(key.slice(0, key.length - suffix.length));
      }
      await this.send(redis, [...keys]);
    } while (cursor !== "0");
  }

  private scheduleReplay(): void {
    if (this.replayTimer !== undefined || this.closed) return;
    this.replayTimer = setTimeout(() => {
      this.replayTimer = undefined;
      void this.replay();
    }, this.settings.replayIntervalMs);
    this.replayTimer.unref();
  }

  private readonly onReady = (): void => {
    this.skipUntil = 0;
    void this.replay();
  };

  private readonly onClose = (): void => {
    this.epoch++;
  };
}
