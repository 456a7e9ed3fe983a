// TimeSeries from the rollups (15-minute buckets regrouped into the zone's
// buckets) or from raw events (bounded by the handler's range limits). Both
// build one statement: the bucket CTEs (bucket-sql.ts), `d` holding the
// metric per bucket (and split value), and the same final select, so a
// rollup answer and a raw answer have the same shape.
import type { AttributeType, TypedValue } from "../domain/attribute-value.js";
import type { AttributeFilter } from "../domain/query-input.js";
import type { TimeSeriesQuery } from "../domain/time-series-input.js";
import { bucketCtes, bucketOf } from "./bucket-sql.js";
import { ms, type TenantQuery } from "./sql.js";

export interface SeriesRow {
  /** 0 without a split; else the split value's rank (1 = top). */
  rank: number | null;
  type: AttributeType | null;
  value: string | null;
  t: number | null;
  v: number | null;
  lo: number;
  hi: number;
}

/** Collects statement parameters, returning each one's reference. */
class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

function base(q: TimeSeriesQuery, tenantId: string) {
  const p = new Params();
  const tenant = p.add(tenantId);
  const name = p.add(q.name);
  const start = p.add(new Date(q.range.start).toISOString());
  const end = p.add(new Date(q.range.end).toISOString());
  const zone = p.add(q.zone);
  return { p, tenant, name, zone, ctes: bucketCtes(q.unit, start, end, zone) };
}

/** The final select: every bucket of every (top) split value, with the metric or 0. */
function finalSelect(split: boolean): string {
  if (!split) {
    return `SELECT 0 AS rank, NULL AS type, NULL AS value, ${ms("x.s", "t")}, x.v::float8 AS v, ${ms("r.lo", "lo")}, ${ms("r.hi", "hi")}
      FROM r, (SELECT b.s, coalesce(d.v, 0) AS v FROM b LEFT JOIN d ON d.s = b.s) x ORDER BY x.s`;
  }
  return `SELECT x.rank::int AS rank, x.type::text AS type, x.value, ${ms("x.s", "t")}, x.v::float8 AS v, ${ms("r.lo", "lo")}, ${ms("r.hi", "hi")}
    FROM r LEFT JOIN (
      SELECT top.rank, top.type, top.value, b.s, coalesce(d.v, 0) AS v
      FROM top CROSS JOIN b LEFT JOIN d ON d.type = top.type AND d.value = top.value AND d.s = b.s
    ) x ON true
    ORDER BY x.rank, x.s`;
}

/** The typed parameters of a value: (type, string, number, boolean), three of them null. */
function valueParams(p: Params, v: TypedValue) {
  return {
    type: p.add(v.type),
    string: p.add(v.type === "string" ? v.value : null),
    number: p.add(v.type === "number" ? v.value : null),
    bool: p.add(v.type === "boolean" ? v.value : null),
  };
}

export function rollupSeriesSql(q: TimeSeriesQuery, tenantId: string): { text: string; values: unknown[] } {
  const { p, tenant, name, zone, ctes } = base(q, tenantId);
  const bucket = bucketOf(q.unit, "x.bucket", zone);
  const inRange = `x.tenant_id = ${tenant} AND x.name = ${name} AND x.bucket >= r.lo AND x.bucket < r.hi`;
  let d: string;
  if (q.split) {
    const key = p.add(q.split.key);
    const limit = p.add(q.split.limit);
    const where = `${inRange} AND x.key = ${key}`;
    d = `top AS (
        SELECT x.type, x.value, row_number() OVER (ORDER BY sum(x.count) DESC, x.type, x.value) AS rank
        FROM r, insights.rollup_dimensions x WHERE ${where} GROUP BY x.type, x.value ORDER BY rank LIMIT ${limit}
      ),
      d AS (
        SELECT x.type, x.value, ${bucket} AS s, sum(x.count) AS v
        FROM r, insights.rollup_dimensions x JOIN top ON top.type = x.type AND top.value = x.value
        WHERE ${where} GROUP BY 1, 2, 3
      )`;
  } else if (q.metric === "count" && q.filters.length === 1) {
    const f = q.filters[0]!;
    const key = p.add(f.key);
    const v = valueParams(p, f.value);
    d = `d AS (
        SELECT ${bucket} AS s, sum(x.count) AS v FROM r, insights.rollup_dimensions x
        WHERE ${inRange} AND x.key = ${key} AND x.type = ${v.type}::insights."AttributeType"
          AND x.value = insights.dimension_value(${v.type}::insights."AttributeType", ${v.string}::text, ${v.number}::float8, ${v.bool}::boolean)
        GROUP BY 1
      )`;
  } else if (q.metric === "count") {
    d = `d AS (SELECT ${bucket} AS s, sum(x.count) AS v FROM r, insights.rollup_counts x WHERE ${inRange} GROUP BY 1)`;
  } else if (q.metric === "sum") {
    const key = p.add(q.sumKey);
    d = `d AS (SELECT ${bucket} AS s, sum(x.sum) AS v FROM r, insights.rollup_sums x WHERE ${inRange} AND x.key = ${key} GROUP BY 1)`;
  } else {
    d = `d AS (SELECT ${bucket} AS s, count(DISTINCT x.subject_id) AS v FROM r, insights.subject_buckets x WHERE ${inRange} GROUP BY 1)`;
  }
  return { text: `WITH ${ctes}, ${d} ${finalSelect(Boolean(q.split))}`, values: p.values };
}

/** EXISTS for one filter: the event has the attribute with this type and value. */
function filterSql(p: Params, f: AttributeFilter): string {
  const key = p.add(f.key);
  const value = p.add(f.value.value);
  const column = f.value.type === "string" ? "f.string_value = " + value + "::text" : f.value.type === "number" ? "f.number_value = " + value + "::float8" : "f.bool_value = " + value + "::boolean";
  return `EXISTS (SELECT 1 FROM insights.event_attributes f WHERE f.tenant_id = e.tenant_id AND f.event_id = e.id AND f.key = ${key} AND f.type = '${f.value.type}' AND ${column})`;
}

export function rawSeriesSql(q: TimeSeriesQuery, tenantId: string): { text: string; values: unknown[] } {
  const { p, tenant, name, zone, ctes } = base(q, tenantId);
  const columns = [`${bucketOf(q.unit, "e.occurred_at", zone)} AS s`, "e.subject_id"];
  const joins: string[] = [];
  if (q.split) {
    const key = p.add(q.split.key);
    joins.push(`JOIN insights.event_attributes sp ON sp.tenant_id = e.tenant_id AND sp.event_id = e.id AND sp.key = ${key}`);
    columns.push("sp.type AS st", "insights.dimension_value(sp.type, sp.string_value, sp.number_value, sp.bool_value) AS sv");
  }
  if (q.metric === "sum") {
    const key = p.add(q.sumKey);
    joins.push(`JOIN insights.event_attributes m ON m.tenant_id = e.tenant_id AND m.event_id = e.id AND m.key = ${key} AND m.type = 'number'`);
    columns.push("m.number_value AS mv");
  }
  const where = [`e.tenant_id = ${tenant}`, `e.name = ${name}`, "e.occurred_at >= r.lo", "e.occurred_at < r.hi", ...q.filters.map((f) => filterSql(p, f))];
  const agg = q.metric === "count" ? "count(*)" : q.metric === "sum" ? "sum(mv)" : "count(DISTINCT subject_id)";
  const ev = `ev AS (SELECT ${columns.join(", ")} FROM r, insights.events e ${joins.join(" ")} WHERE ${where.join(" AND ")})`;
  let d: string;
  if (q.split) {
    const limit = p.add(q.split.limit);
    d = `top AS (
        SELECT st AS type, sv AS value, row_number() OVER (ORDER BY ${agg} DESC, st, sv) AS rank FROM ev GROUP BY st, sv ORDER BY rank LIMIT ${limit}
      ),
      d AS (SELECT st AS type, sv AS value, s, ${agg} AS v FROM ev GROUP BY st, sv, s)`;
  } else {
    d = `d AS (SELECT s, ${agg} AS v FROM ev GROUP BY s)`;
  }
  return { text: `WITH ${ctes}, ${ev}, ${d} ${finalSelect(Boolean(q.split))}`, values: p.values };
}

export function readSeries(db: TenantQuery, sql: { text: string; values: unknown[] }): Promise<SeriesRow[]> {
  return db<SeriesRow>(sql.text, sql.values);
}
