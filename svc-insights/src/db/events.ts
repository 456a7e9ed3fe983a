// Raw events with their attributes: ListEvents (newest first) and
// ExportEvents (oldest first), both keyset walks of an index.
import type { AttributeType } from "../domain/attribute-value.js";
import type { EventCursor } from "../domain/event-pages.js";
import { ms, type TenantQuery } from "./sql.js";

/** An attribute as read: [key, type, string, number, boolean]. */
export type AttributeTuple = [string, AttributeType, string | null, number | null, boolean | null];

export interface EventRow {
  id: string;
  name: string;
  /** Epoch milliseconds. */
  occurredAt: number;
  subjectId: string;
  receivedAt: number;
  attributes: AttributeTuple[] | null;
}

export interface EventFilter {
  name?: string;
  /** [start, end) on the occur time, epoch ms. */
  start?: number;
  end?: number;
}

const COLUMNS = `e.id, e.name, ${ms("e.occurred_at", "occurredAt")}, e.subject_id AS "subjectId", ${ms("e.received_at", "receivedAt")},
  (SELECT json_agg(json_build_array(a.key, a.type, a.string_value, a.number_value, a.bool_value) ORDER BY a.key)
   FROM insights.event_attributes a WHERE a.tenant_id = e.tenant_id AND a.event_id = e.id) AS attributes`;

/** The WHERE clause ($1 is the tenant) and the keyset condition; each combination is its own statement text. */
function where(f: EventFilter, values: unknown[], after: EventCursor | undefined, direction: "<" | ">"): string {
  const parts = ["e.tenant_id = $1"];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    parts.push(sql.replace("?", `$${values.length}`));
  };
  if (f.name !== undefined) add("e.name = ?", f.name);
  if (f.start !== undefined) add("e.occurred_at >= ?::timestamptz", new Date(f.start).toISOString());
  if (f.end !== undefined) add("e.occurred_at < ?::timestamptz", new Date(f.end).toISOString());
  if (after) {
    values.push(new Date(after.t).toISOString(), after.id);
    parts.push(`(e.occurred_at, e.id) ${direction} ($${values.length - 1}::timestamptz, $${values.length})`);
  }
  return parts.join(" AND ");
}

/** `size` events newest first after `after` (ListEvents reads size + 1 to know whether a page follows). */
export function newestEvents(q: TenantQuery, tenantId: string, f: EventFilter, after: EventCursor | undefined, size: number): Promise<EventRow[]> {
  const values: unknown[] = [tenantId];
  const w = where(f, values, after, "<");
  values.push(size);
  return q<EventRow>(`SELECT ${COLUMNS} FROM insights.events e WHERE ${w} ORDER BY e.occurred_at DESC, e.id DESC LIMIT $${values.length}`, values);
}

/** `size` events oldest first after `after`: the export's walk. */
export function oldestEvents(q: TenantQuery, tenantId: string, f: EventFilter, after: EventCursor | undefined, size: number): Promise<EventRow[]> {
  const values: unknown[] = [tenantId];
  const w = where(f, values, after, ">");
  values.push(size);
  return q<EventRow>(`SELECT ${COLUMNS} FROM insights.events e WHERE ${w} ORDER BY e.occurred_at, e.id LIMIT $${values.length}`, values);
}
