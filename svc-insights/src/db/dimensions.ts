import { DEFAULT_DIMENSIONS } from "../domain/limits.js";
import type { TenantQuery } from "./sql.js";

export interface Dimensions {
  keys: string[];
  /** True while the tenant has not set its own. */
  defaults: boolean;
}

/** The tenant's dimensions, or the defaults while it has none. */
export async function readDimensions(q: TenantQuery, tenantId: string): Promise<Dimensions> {
  const rows = await q<{ key: string }>(`SELECT d.key FROM insights.dimensions d WHERE d.tenant_id = $1 ORDER BY d.key`, [tenantId]);
  return rows.length === 0 ? { keys: [...DEFAULT_DIMENSIONS], defaults: true } : { keys: rows.map((r) => r.key), defaults: false };
}

/** insights.set_dimensions(): replaces the set and rolls the new keys up over every stored event, in one statement. */
export async function writeDimensions(q: TenantQuery, tenantId: string, keys: readonly string[]): Promise<Dimensions> {
  const [row] = await q<{ keys: string[] }>(`SELECT insights.set_dimensions($1, $2, $3) AS keys`, [tenantId, keys, DEFAULT_DIMENSIONS]);
  return { keys: row!.keys, defaults: keys.length === 0 };
}
