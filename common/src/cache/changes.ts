import type { CachedEntity, CacheInvalidation } from "./entity.js";

/** What Changes needs of an entity: its invalidation. */
type Invalidates = Pick<CachedEntity<unknown>, "invalidation">;

/**
 * What a write changed, entry by entry: data access that writes a cached row
 * records it here, and the write's wrapper (`writing`) invalidates every
 * entry once the transaction has ended — committed or not — before the call
 * answers. So invalidation happens in the same code path as the write, after
 * the commit, and a read that starts after the write returned never sees the
 * old value on any instance. A service extends it with one method per entity
 * (svc-identity/src/cache.ts) so data access says `changes.user(tenantId, id)`.
 */
export class Changes {
  private readonly entries: Array<{ entity: Invalidates; tenantId: string; id: string }> = [];

  /** Records `ids` of `entity` in `tenantId` as changed. */
  add(entity: Invalidates, tenantId: string, ...ids: string[]): this {
    for (const id of ids) this.entries.push({ entity, tenantId, id });
    return this;
  }

  get size(): number {
    return this.entries.length;
  }

  /** Invalidates everything recorded (one Redis call per cache, whatever the entities and tenants) and forgets it. */
  async invalidate(): Promise<void> {
    if (this.entries.length === 0) return;
    const byInvalidator = new Map<CacheInvalidation["invalidator"], Set<string>>();
    for (const { entity, tenantId, id } of this.entries.splice(0)) {
      const { invalidator, keys } = entity.invalidation;
      let group = byInvalidator.get(invalidator);
      if (!group) byInvalidator.set(invalidator, (group = new Set()));
      for (const key of keys(tenantId, [id])) group.add(key);
    }
    await Promise.all([...byInvalidator].map(([invalidator, keys]) => invalidator.invalidate([...keys])));
  }
}

/** Runs a write with fresh `changes` and invalidates what it recorded, whether it succeeded or not. */
export async function writing<C extends Changes, R>(changes: C, write: (changes: C) => Promise<R>): Promise<R> {
  try {
    return await write(changes);
  } finally {
    await changes.invalidate();
  }
}
