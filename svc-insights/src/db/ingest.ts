import type { EventColumns } from "../domain/event-batch.js";
import type { TenantQuery } from "./sql.js";

const INGEST = `SELECT insights.ingest_events($1, $2, $3, $4, $5, $6, $7, $8::insights."AttributeType"[], $9, $10, $11, $12) AS stored`;

/**
 * Stores a validated batch, with its rollups, in one statement (one
 * transaction): insights.ingest_events(), in the ingest_function migration.
 * Returns how many events were new; the rest were already stored.
 */
export async function ingestEvents(q: TenantQuery, tenantId: string, c: EventColumns, defaultDimensions: readonly string[]): Promise<number> {
  if (c.ids.length === 0) return 0;
  const [row] = await q<{ stored: number }>(INGEST, [
    tenantId,
    c.ids,
    c.names,
    c.times,
    c.subjects,
    c.attrEvent,
    c.keys,
    c.types,
    c.strings,
    c.numbers,
    c.bools,
    defaultDimensions,
  ]);
  return row!.stored;
}
