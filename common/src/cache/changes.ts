import type { CachedEntity } from "./entity.js";

/** What Changes needs of an entity: its invalidation. */
type Invalidates = Pick<CachedEntity<unknown>, "invalidate">;

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

  /** Invalidates everything recorded (one call per entity and tenant) and forgets it. */
  async invalidate(): Promise<void> {
    if (this.entries.length === 0) return;
    const groups = new Map<Invalidates, Map<string, string[]>>();
    for (const { entity, tenantId, id } of this.entries.splice(0)) {
      let byTenant = groups.get(entity);
      if (!byTenant) groups.set(entity, (byTenant = new Map()));
      const ids = byTenant.get(tenantId);
      if (ids) ids.push(id);
      else byTenant.set(tenantId, [id]);
    }
    const calls: Array<Promise<void>> = [];
    for (const [entity, byTenant] of groups) for (const [tenantId, ids] of byTenant) calls.push(entity.invalidate(tenantId, ids));
    await Promise.all(calls);
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
