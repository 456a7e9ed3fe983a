import { SCOPE_SETTING, TENANT_SETTING } from "@apgms/common";
import * as pg from "pg";
import type { EventColumns } from "../domain/event-batch.js";
import { ingestEvents } from "./ingest.js";

export interface TenantBatch {
  tenantId: string;
  columns: EventColumns;
}

const AS_TENANT = `SELECT set_config('${TENANT_SETTING}', $1, true), set_config('${SCOPE_SETTING}', '', true)`;

/** A pool for multi-statement transactions as the service's role (DATABASE_URL; Prisma's ?schema= dropped). */
export function transactionPool(databaseUrl: string, max: number): pg.Pool {
  const url = new URL(databaseUrl);
  url.searchParams.delete("schema");
  const pool = new pg.Pool({ connectionString: url.toString(), max });
  // An idle client's error (the server went away) must not crash the process; the pool drops it.
  pool.on("error", () => {});
  return pool;
}

/**
 * Several tenants' validated batches in ONE transaction, each through
 * insights.ingest_events() as its tenant (row-level security: the setting is
 * switched between them): all commit or none. Tenants go in id order, so two
 * such transactions never wait on each other in a cycle. Returns how many
 * events each tenant stored (the rest were already there).
 */
export async function ingestTenantBatches(pool: pg.Pool, batches: readonly TenantBatch[], dimensions: readonly string[]): Promise<Map<string, number>> {
  const stored = new Map<string, number>();
  const ordered = batches.filter((b) => b.columns.ids.length > 0).sort((a, b) => (a.tenantId < b.tenantId ? -1 : a.tenantId > b.tenantId ? 1 : 0));
  if (ordered.length === 0) return stored;
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      for (const { tenantId, columns } of ordered) {
        await client.query(AS_TENANT, [tenantId]);
        const q = async <R>(text: string, values?: unknown[]): Promise<R[]> => (await client.query(text, values)).rows as R[];
        stored.set(tenantId, await ingestEvents(q, tenantId, columns, dimensions));
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    }
    return stored;
  } catch (err) {
    // A connection-level failure must not go back to the pool; a statement's error leaves the connection fine.
    if (!(err instanceof pg.DatabaseError)) broken = err as Error;
    throw err;
  } finally {
    client.release(broken);
  }
}
