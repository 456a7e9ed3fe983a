// Rows of the analytics statements as proto answers.
import type { BreakdownResponse, FunnelBreakdown, FunnelStep, RetentionResponse, Series } from "@apgms/proto/apgms/insights/v1/analytics";
import { fromDimensionText, toProtoValue, type AttributeType } from "../domain/attribute-value.js";
import type { BreakdownRow } from "../db/breakdown.js";
import type { FunnelRow } from "../db/funnel.js";
import type { RetentionRow } from "../db/retention.js";
import type { SeriesRow } from "../db/time-series.js";

export function seriesToProto(rows: SeriesRow[], split: boolean): { series: Series[]; startTime: Date; endTime: Date } {
  const first = rows[0]!;
  const range = { startTime: new Date(first.lo), endTime: new Date(first.hi) };
  if (!split) return { ...range, series: [{ splitValue: undefined, bucketStarts: rows.map((r) => Math.floor(r.t! / 1000)), values: rows.map((r) => r.v!) }] };
  const series: Series[] = [];
  let rank: number | null = null;
  for (const r of rows) {
    if (r.rank === null) continue; // no value at all: the one row carries the range only
    if (r.rank !== rank) {
      rank = r.rank;
      series.push({ splitValue: toProtoValue(fromDimensionText(r.type!, r.value!)), bucketStarts: [], values: [] });
    }
    const s = series[series.length - 1]!;
    s.bucketStarts.push(Math.floor(r.t! / 1000));
    s.values.push(r.v!);
  }
  return { ...range, series };
}

export function breakdownToProto(rows: BreakdownRow[]): BreakdownResponse["rows"] {
  return rows.map((r) => ({ value: toProtoValue(fromDimensionText(r.type, r.value)), count: r.count }));
}

export function funnelSteps(names: readonly string[], counts: readonly number[]): FunnelStep[] {
  const entered = counts[0] ?? 0;
  return names.map((eventName, i) => {
    const count = counts[i] ?? 0;
    const previous = i === 0 ? entered : counts[i - 1]!;
    return { eventName, count, conversionRate: entered ? count / entered : 0, stepConversionRate: previous ? count / previous : 0 };
  });
}

const TYPE_ORDER: Record<AttributeType, number> = { string: 0, number: 1, boolean: 2 };

/** The top `limit` breakdown values by entries, then by type and value (entering events without the attribute last among equals). */
export function funnelBreakdowns(names: readonly string[], rows: FunnelRow[], limit: number): FunnelBreakdown[] {
  return rows
    .filter((r) => !r.overall)
    .sort((a, b) => {
      const byEntries = b.counts[0]! - a.counts[0]!;
      if (byEntries !== 0) return byEntries;
      const ta = a.type === null ? 3 : TYPE_ORDER[a.type];
      const tb = b.type === null ? 3 : TYPE_ORDER[b.type];
      if (ta !== tb) return ta - tb;
      return a.value! < b.value! ? -1 : a.value! > b.value! ? 1 : 0;
    })
    .slice(0, limit)
    .map((r) => ({ value: r.type === null ? undefined : toProtoValue(fromDimensionText(r.type, r.value!)), steps: funnelSteps(names, r.counts) }));
}

export function retentionToProto(rows: RetentionRow[]): Omit<RetentionResponse, "source"> {
  const first = rows[0]!;
  const periods = first.periods;
  const index = new Map(periods.map((p, i) => [p, i]));
  const cohorts = periods.map((p, i) => ({ startTime: new Date(p), size: 0, returned: new Array<number>(periods.length - 1 - i).fill(0), shares: [] as number[] }));
  for (const r of rows) {
    if (r.cohort === null) continue;
    const c = index.get(r.cohort)!;
    if (r.period === null) cohorts[c]!.size = r.n!;
    else cohorts[c]!.returned[index.get(r.period)! - c - 1] = r.n!;
  }
  for (const c of cohorts) c.shares = c.returned.map((n) => (c.size ? n / c.size : 0));
  return { startTime: new Date(first.lo), endTime: new Date(first.hi), cohorts };
}
