// Breakdown: events per value of one attribute over a range, most first.
// From rollups: the whole 15-minute buckets from rollup_dimensions, plus raw
// events at the two edges (each under 15 minutes), so any range is exact.
// Raw: events joined with the attribute (and each filter's EXISTS).
import type { AttributeType } from "../domain/attribute-value.js";
import { rollupInterior, type BreakdownQuery } from "../domain/breakdown-input.js";
import type { AttributeFilter } from "../domain/query-input.js";
import { num, type TenantQuery } from "./sql.js";

export interface BreakdownRow {
  type: AttributeType;
  value: string;
  count: number;
}

const iso = (t: number) => new Date(t).toISOString();

/** Events of the range with the attribute, as (type, value text) per event. */
function rawPart(values: unknown[], q: BreakdownQuery, ranges: string[]): string {
  const named = q.name === undefined ? "" : `AND e.name = $3`;
  return `SELECT a.type, insights.dimension_value(a.type, a.string_value, a.number_value, a.bool_value) AS value, count(*) AS c
    FROM insights.events e JOIN insights.event_attributes a ON a.tenant_id = e.tenant_id AND a.event_id = e.id AND a.key = $2
    WHERE e.tenant_id = $1 ${named} AND (${ranges.join(" OR ")}) ${q.filters.map((f) => "AND " + filterSql(values, f)).join(" ")}
    GROUP BY 1, 2`;
}

function filterSql(values: unknown[], f: AttributeFilter): string {
  values.push(f.key, f.value.value);
  const key = `$${values.length - 1}`;
  const value = `$${values.length}`;
  const column = f.value.type === "string" ? `f.string_value = ${value}::text` : f.value.type === "number" ? `f.number_value = ${value}::float8` : `f.bool_value = ${value}::boolean`;
  return `EXISTS (SELECT 1 FROM insights.event_attributes f WHERE f.tenant_id = e.tenant_id AND f.event_id = e.id AND f.key = ${key} AND f.type = '${f.value.type}' AND ${column})`;
}

function ranged(values: unknown[], from: number, to: number): string {
  values.push(iso(from), iso(to));
  return `(e.occurred_at >= $${values.length - 1}::timestamptz AND e.occurred_at < $${values.length}::timestamptz)`;
}

function finish(values: unknown[], inner: string, limit: number): { text: string; values: unknown[] } {
  values.push(limit);
  return {
    text: `SELECT x.type::text AS type, x.value, ${num("sum(x.c)", "count")} FROM (${inner}) x GROUP BY x.type, x.value ORDER BY sum(x.c) DESC, x.type, x.value LIMIT $${values.length}`,
    values,
  };
}

/** The tenant ($1), the attribute ($2) and, when given, the event name ($3) lead every statement. */
function head(tenantId: string, q: BreakdownQuery): unknown[] {
  return q.name === undefined ? [tenantId, q.key] : [tenantId, q.key, q.name];
}

export function rollupBreakdownSql(tenantId: string, q: BreakdownQuery): { text: string; values: unknown[] } {
  const values = head(tenantId, q);
  const { from, to } = rollupInterior(q.range);
  const parts: string[] = [];
  if (from < to) {
    values.push(iso(from), iso(to));
    const named = q.name === undefined ? "" : "AND d.name = $3";
    parts.push(`SELECT d.type, d.value, sum(d.count) AS c FROM insights.rollup_dimensions d
      WHERE d.tenant_id = $1 AND d.key = $2 ${named} AND d.bucket >= $${values.length - 1}::timestamptz AND d.bucket < $${values.length}::timestamptz
      GROUP BY 1, 2`);
  }
  const edges: string[] = [];
  if (q.range.start < from) edges.push(ranged(values, q.range.start, from));
  if (to < q.range.end) edges.push(ranged(values, to, q.range.end));
  // Each edge is its own index range scan.
  for (const edge of edges) parts.push(rawPart(values, q, [edge]));
  return finish(values, parts.join(" UNION ALL "), q.limit);
}

export function rawBreakdownSql(tenantId: string, q: BreakdownQuery): { text: string; values: unknown[] } {
  const values = head(tenantId, q);
  const range = ranged(values, q.range.start, q.range.end);
  return finish(values, rawPart(values, q, [range]), q.limit);
}

export function readBreakdown(db: TenantQuery, sql: { text: string; values: unknown[] }): Promise<BreakdownRow[]> {
  return db<BreakdownRow>(sql.text, sql.values);
}
