import { setTimeout as sleep } from "node:timers/promises";
import type { CacheCodec } from "./codec.js";
import type { CacheCore, CacheRedis } from "./core.js";
import { LOCK, VER } from "./scripts.js";

export interface CachedEntitySpec<T> {
  /** The cached table or aggregate, e.g. "user". */
  name: string;
  /** Bump when the cached shape changes: old-shape values are then never read. */
  version: number;
  codec: CacheCodec<T>;
  /** Overrides the cache's default TTL. */
  ttlSeconds?: number;
  /**
   * For values that never change once they exist (an offer's terms): this many
   * are also kept in process, read before Redis, and never invalidated (they
   * expire with the entity's TTL). A value that can change must not set it.
   */
  immutableLocalEntries?: number;
}

/** What Changes needs to batch invalidations: who sends them, and the keys of ids. */
export interface CacheInvalidation {
  invalidator: { invalidate(keys: readonly string[]): Promise<void> };
  keys(tenantId: string, ids: readonly string[]): string[];
}

export interface CachedEntity<T> {
  /** The cached value, else load()'s (stored unless a write invalidated the key meanwhile). null is not cached. */
  get(tenantId: string, id: string, load: () => Promise<T | null>): Promise<T | null>;
  /** Many ids of one tenant in ONE Redis round trip; the missing ones loaded by ONE load(missing) call. */
  getMany(tenantId: string, ids: readonly string[], load: (missing: string[]) => Promise<Map<string, T>>): Promise<Map<string, T>>;
  /** Call AFTER the write committed: the next read of these ids, on any instance, loads afresh. */
  invalidate(tenantId: string, ids: readonly string[]): Promise<void>;
  /** invalidate() in parts, so that Changes sends the keys of several entities of one cache in one Redis call. */
  readonly invalidation: CacheInvalidation;
}

const MISSING: unique symbol = Symbol("missing");
type Decoded<T> = T | typeof MISSING;

/**
 * One entity's keys: `${namespace}:${tenantId}:${name}:v${version}:${id}`,
 * with `:ver` (its version counter) and `:lock` (its load lock) beside it.
 */
export class CacheEntity<T> implements CachedEntity<T> {
  private readonly head: string;
  private readonly tail: string;
  private readonly codec: CacheCodec<T>;
  private readonly ttlSeconds: number;
  private decodeFailureLogged = false;
  private readonly local: LocalMemo<T> | null;
  readonly invalidation: CacheInvalidation;

  constructor(private readonly core: CacheCore, spec: CachedEntitySpec<T>) {
    if (!/^[A-Za-z0-9_-]+$/.test(spec.name)) throw new Error(`cache entity name ${JSON.stringify(spec.name)}: letters, digits, _ and - only`);
    if (!Number.isInteger(spec.version) || spec.version < 1) throw new Error(`cache entity ${spec.name}: version must be a positive integer`);
    this.head = `${core.settings.namespace}:`;
    this.tail = `:${spec.name}:v${spec.version}:`;
    this.codec = spec.codec;
    this.ttlSeconds = spec.ttlSeconds ?? core.settings.ttlSeconds;
    this.local = spec.immutableLocalEntries ? new LocalMemo(spec.immutableLocalEntries, this.ttlSeconds * 1_000) : null;
    this.invalidation = { invalidator: core, keys: (tenantId, ids) => ids.map((id) => this.head + tenantId + this.tail + id) };
  }

  /** The value key (without the client's own prefix). */
  key(tenantId: string, id: string): string {
    return this.head + tenantId + this.tail + id;
  }

  async get(tenantId: string, id: string, load: () => Promise<T | null>): Promise<T | null> {
    const key = this.head + tenantId + this.tail + id;
    const local = this.local;
    if (local === null) return this.getShared(key, load);
    const memo = local.get(key);
    if (memo !== undefined) {
      this.core.counters.hits++;
      return memo;
    }
    const value = await this.getShared(key, load);
    if (value !== null) local.set(key, value);
    return value;
  }

  private async getShared(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const core = this.core;
    const flight = core.flights.get(key) as Promise<T | null> | undefined;
    if (flight !== undefined) {
      core.counters.coalesced++;
      return flight;
    }
    const redis = core.usableRedis();
    if (redis === null) return core.bypass(load);
    const epoch = core.epoch;
    let reply: (string | null)[];
    try {
      reply = await core.mget(redis, [key, key + VER]);
    } catch (err) {
      core.failed(err, "read");
      return core.bypass(load);
    }
    if (core.degraded) core.recovered();
    const text = reply[0];
    if (text != null) {
      const value = this.decode(text);
      if (value !== MISSING) {
        core.counters.hits++;
        return value;
      }
    }
    core.counters.misses++;
    // Another reader of this process may have missed just before us.
    const joined = core.flights.get(key) as Promise<T | null> | undefined;
    if (joined !== undefined) {
      core.counters.coalesced++;
      return joined;
    }
    const filling = this.fill(redis, key, reply[1] ?? "", epoch, load);
    core.flights.set(key, filling);
    const forget = () => {
      if (core.flights.get(key) === filling) core.flights.delete(key);
    };
    filling.then(forget, forget);
    return filling;
  }

  async getMany(tenantId: string, ids: readonly string[], load: (missing: string[]) => Promise<Map<string, T>>): Promise<Map<string, T>> {
    const core = this.core;
    const unique = ids.length > 1 ? [...new Set(ids)] : [...ids];
    if (unique.length === 0) return new Map();
    const redis = core.usableRedis();
    if (redis === null) return core.bypass(() => load(unique));
    const base = this.head + tenantId + this.tail;
    const keys = new Array<string>(unique.length * 2);
    for (let i = 0; i < unique.length; i++) {
      const key = base + unique[i];
      keys[2 * i] = key;
      keys[2 * i + 1] = key + VER;
    }
    const epoch = core.epoch;
    let reply: (string | null)[];
    try {
      reply = await core.mget(redis, keys);
    } catch (err) {
      core.failed(err, "read");
      return core.bypass(() => load(unique));
    }
    if (core.degraded) core.recovered();

    const found = new Map<string, T>();
    const missing: string[] = [];
    const missingAt: number[] = [];
    for (let i = 0; i < unique.length; i++) {
      const text = reply[2 * i];
      const value = text == null ? MISSING : this.decode(text);
      if (value !== MISSING) {
        found.set(unique[i]!, value);
        continue;
      }
      missing.push(unique[i]!);
      missingAt.push(i);
    }
    core.counters.hits += found.size;
    core.counters.misses += missing.length;
    if (missing.length === 0) return found;

    core.counters.loads++;
    const loaded = await load(missing);
    const storeKeys: string[] = [];
    const storeArgs: Array<string | number> = [];
    for (let j = 0; j < missing.length; j++) {
      const value = loaded.get(missing[j]!);
      if (value === undefined || value === null) continue;
      found.set(missing[j]!, value);
      const text = this.storable(value);
      if (text === null) continue;
      const i = missingAt[j]!;
      storeKeys.push(keys[2 * i]!, keys[2 * i + 1]!);
      storeArgs.push(reply[2 * i + 1] ?? "", text, core.ttlMs(this.ttlSeconds));
    }
    if (storeKeys.length > 0 && epoch === core.epoch && core.usableRedis() !== null) {
      try {
        core.counters.redisCommands++;
        const stored = await redis.apgmsCacheStoreMany(storeKeys.length, ...storeKeys, ...storeArgs);
        core.counters.staleSetsRefused += storeKeys.length / 2 - stored;
      } catch (err) {
        core.failed(err, "store");
      }
    }
    return found;
  }

  invalidate(tenantId: string, ids: readonly string[]): Promise<void> {
    return this.core.invalidate(this.invalidation.keys(tenantId, ids));
  }

  /** A miss: load under the cross-instance lock, or wait for the instance holding it. */
  private async fill(redis: CacheRedis, key: string, ver: string, epoch: number, load: () => Promise<T | null>): Promise<T | null> {
    const core = this.core;
    const token = core.token();
    let locked: boolean;
    try {
      core.counters.redisCommands++;
      locked = (await redis.set(key + LOCK, token, "PX", core.settings.lockMs, "NX")) === "OK";
    } catch (err) {
      core.failed(err, "lock");
      return core.bypass(load);
    }
    if (locked) return this.loadAndStore(redis, key, ver, epoch, token, load);
    core.counters.lockWaits++;
    const theirs = await this.awaitOtherLoad(redis, key);
    if (theirs !== MISSING) return theirs;
    return this.loadAndStore(redis, key, ver, epoch, "", load);
  }

  /** Polls until the lock holder stores the value; MISSING if it gives up (lock gone or expired). */
  private async awaitOtherLoad(redis: CacheRedis, key: string): Promise<Decoded<T>> {
    const core = this.core;
    const { lockMs, lockPollMs } = core.settings;
    const deadline = Date.now() + lockMs;
    while (Date.now() < deadline) {
      await sleep(lockPollMs);
      let reply: (string | null)[];
      try {
        core.counters.redisCommands++;
        reply = await redis.mget(key, key + LOCK);
      } catch (err) {
        core.failed(err, "wait");
        return MISSING;
      }
      if (reply[0] != null) return this.decode(reply[0]);
      if (reply[1] == null) return MISSING;
    }
    return MISSING;
  }

  private async loadAndStore(redis: CacheRedis, key: string, ver: string, epoch: number, token: string, load: () => Promise<T | null>): Promise<T | null> {
    const core = this.core;
    core.counters.loads++;
    let value: T | null;
    let text: string | null;
    try {
      value = await load();
      text = value === null ? null : this.storable(value);
    } catch (err) {
      if (token) await core.unlock(redis, key + LOCK, token);
      throw err;
    }
    if (text === null || epoch !== core.epoch || core.usableRedis() === null) {
      if (token) await core.unlock(redis, key + LOCK, token);
      return value;
    }
    try {
      core.counters.redisCommands++;
      const stored = await redis.apgmsCacheStore(key, key + VER, key + LOCK, ver, text, core.ttlMs(this.ttlSeconds), token);
      if (stored === 0) core.counters.staleSetsRefused++;
    } catch (err) {
      core.failed(err, "store");
    }
    return value;
  }

  /** The encoded value, or null (counted) when it is larger than maxValueBytes. */
  private storable(value: T): string | null {
    const text = this.codec.encode(value);
    const max = this.core.settings.maxValueBytes;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: measure only when it could matter.
    if (text.length > max || (text.length * 3 > max && Buffer.byteLength(text) > max)) {
      this.core.counters.oversize++;
      return null;
    }
    return text;
  }

  /** A value that does not decode (a shape change without a version bump) is treated as a miss. */
  private decode(text: string): Decoded<T> {
    try {
      return this.codec.decode(text);
    } catch (err) {
      if (!this.decodeFailureLogged) {
        this.decodeFailureLogged = true;
        this.core.settings.logger?.warn({ err: err instanceof Error ? err.message : String(err), entity: this.tail }, "cache: a cached value did not decode; bump the entity's version when its shape changes");
      }
      return MISSING;
    }
  }
}

/** The in-process copy of an immutable entity: bounded, oldest-inserted out first, each entry for at most `ttlMs`. */
class LocalMemo<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
  ) {}

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.until > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: T): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until: Date.now() + this.ttlMs });
    if (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value!);
  }
}
