import type { EventColumns } from "../domain/event-batch.js";
import { boolArray, numberArray, textArray } from "./array-literal.js";
import type { TenantQuery } from "./sql.js";

const INGEST = `SELECT insights.ingest_events($1, $2::text[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::text[],
  $8::insights."AttributeType"[], $9::text[], $10::float8[], $11::boolean[], $12::text[]) AS stored`;

/**
 * Stores a validated batch, with its rollups, in one statement (one
 * transaction): insights.ingest_events(), in the ingest_function migration.
 * Returns how many events were new; the rest were already stored.
 */
export async function ingestEvents(q: TenantQuery, tenantId: string, c: EventColumns, defaultDimensions: readonly string[]): Promise<number> {
  if (c.ids.length === 0) return 0;
  const [row] = await q<{ stored: number }>(INGEST, [
    tenantId,
    textArray(c.ids),
    textArray(c.names),
    numberArray(c.times),
    textArray(c.subjects),
    numberArray(c.attrEvent),
    textArray(c.keys),
    textArray(c.types),
    textArray(c.strings),
    numberArray(c.numbers),
    boolArray(c.bools),
    textArray(defaultDimensions),
  ]);
  return row!.stored;
}
