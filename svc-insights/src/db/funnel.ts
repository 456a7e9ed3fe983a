// Funnel over raw events, set-based: each step is one range scan of the
// (tenant, name, time) index joined by subject with the step before it.
// A subject enters with its first step-1 event in the range (ties: lowest
// id); step k is its earliest step-k event at or after step k-1's, no later
// than the entering event plus the window.
import type { AttributeType } from "../domain/attribute-value.js";
import type { FunnelQuery } from "../domain/funnel-input.js";
import type { TenantQuery } from "./sql.js";

export interface FunnelRow {
  /** True for the overall row; false for a breakdown value's (type and value null: entering events without the attribute). */
  overall: boolean;
  type: AttributeType | null;
  value: string | null;
  /** Subjects reaching each step. */
  counts: number[];
}

export function funnelSql(tenantId: string, q: FunnelQuery): { text: string; values: unknown[] } {
  const values: unknown[] = [tenantId, new Date(q.range.start).toISOString(), new Date(q.range.end).toISOString(), `${q.windowMs} milliseconds`];
  const add = (v: unknown) => {
    values.push(v);
    return `$${values.length}`;
  };
  const ctes: string[] = [];
  const first = add(q.steps[0]);
  let entering = `SELECT DISTINCT ON (e.subject_id) e.subject_id, e.occurred_at AS t1, e.occurred_at AS t, e.id
    FROM insights.events e
    WHERE e.tenant_id = $1 AND e.name = ${first} AND e.occurred_at >= $2::timestamptz AND e.occurred_at < $3::timestamptz
    ORDER BY e.subject_id, e.occurred_at, e.id`;
  if (q.breakdown) {
    const key = add(q.breakdown.key);
    entering = `SELECT s.subject_id, s.t1, s.t, a.type, insights.dimension_value(a.type, a.string_value, a.number_value, a.bool_value) AS value
      FROM (${entering}) s
      LEFT JOIN insights.event_attributes a ON a.tenant_id = $1 AND a.event_id = s.id AND a.key = ${key}`;
  }
  ctes.push(`s1 AS (${entering})`);
  for (let k = 1; k < q.steps.length; k++) {
    const name = add(q.steps[k]);
    // The outer bounds on e.occurred_at let the index scan the range only; the join condition does the per-subject rule.
    ctes.push(`s${k + 1} AS (
      SELECT p.subject_id, p.t1, min(e.occurred_at) AS t
      FROM s${k} p JOIN insights.events e ON e.subject_id = p.subject_id AND e.occurred_at >= p.t AND e.occurred_at <= p.t1 + $4::interval
      WHERE e.tenant_id = $1 AND e.name = ${name} AND e.occurred_at >= $2::timestamptz AND e.occurred_at < $3::timestamptz + $4::interval
      GROUP BY p.subject_id, p.t1
    )`);
  }
  const joins = q.steps.slice(1).map((_, i) => `LEFT JOIN s${i + 2} USING (subject_id)`).join(" ");
  const counts = q.steps.map((_, i) => (i === 0 ? "count(*)" : `count(s${i + 1}.t)`));
  const group = q.breakdown ? "GROUP BY GROUPING SETS ((), (s1.type, s1.value))" : "";
  const split = q.breakdown ? "GROUPING(s1.type, s1.value) = 3 AS overall, s1.type::text AS type, s1.value" : "true AS overall, NULL AS type, NULL AS value";
  const text = `WITH ${ctes.join(",\n")}
    SELECT ${split}, ARRAY[${counts.map((c) => `${c}::float8`).join(", ")}] AS counts
    FROM s1 ${joins} ${group}`;
  return { text, values };
}

export function readFunnel(db: TenantQuery, sql: { text: string; values: unknown[] }): Promise<FunnelRow[]> {
  return db<FunnelRow>(sql.text, sql.values);
}
