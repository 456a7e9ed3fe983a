// Retention from subject_buckets (the unique-subject rollup): a subject's
// cohort is the period of its first start-event bucket in the range; a
// return is any return-event bucket in a later period of the range. Periods
// are whole days or weeks of the zone (15-minute buckets never straddle them).
import type { RetentionQuery } from "../domain/retention-input.js";
import { bucketCtes, bucketOf } from "./bucket-sql.js";
import { epochMs, ms, num, type TenantQuery } from "./sql.js";

export interface RetentionRow {
  /** The range's periods (every row carries them: one statement). */
  periods: number[];
  lo: number;
  hi: number;
  /** The cohort period, and (null for the cohort's size) the period of the returns. */
  cohort: number | null;
  period: number | null;
  n: number | null;
}

export function retentionSql(tenantId: string, q: RetentionQuery): { text: string; values: unknown[] } {
  const values = [tenantId, q.startEvent, q.returnEvent, new Date(q.range.start).toISOString(), new Date(q.range.end).toISOString(), q.zone];
  const bucket = bucketOf(q.unit, "x.bucket", "$6");
  const text = `WITH ${bucketCtes(q.unit, "$4", "$5", "$6")},
    firsts AS (
      SELECT x.subject_id, ${bucketOf(q.unit, "min(x.bucket)", "$6")} AS c
      FROM r, insights.subject_buckets x
      WHERE x.tenant_id = $1 AND x.name = $2 AND x.bucket >= r.lo AND x.bucket < r.hi
      GROUP BY x.subject_id
    ),
    returns AS (
      SELECT DISTINCT x.subject_id, ${bucket} AS p
      FROM r, insights.subject_buckets x
      WHERE x.tenant_id = $1 AND x.name = $3 AND x.bucket >= r.lo AND x.bucket < r.hi
    ),
    cells AS (
      SELECT f.c AS cohort, NULL::timestamptz AS period, count(*) AS n FROM firsts f GROUP BY f.c
      UNION ALL
      SELECT f.c, x.p, count(*) FROM firsts f JOIN returns x ON x.subject_id = f.subject_id AND x.p > f.c GROUP BY f.c, x.p
    )
    SELECT (SELECT array_agg(${epochMs("b.s")} ORDER BY b.s) FROM b) AS periods, ${ms("r.lo", "lo")}, ${ms("r.hi", "hi")},
      ${ms("cells.cohort", "cohort")}, ${ms("cells.period", "period")}, ${num("cells.n", "n")}
    FROM r LEFT JOIN cells ON true`;
  return { text, values };
}

export function readRetention(db: TenantQuery, sql: { text: string; values: unknown[] }): Promise<RetentionRow[]> {
  return db<RetentionRow>(sql.text, sql.values);
}
