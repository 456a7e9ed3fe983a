// Expected answers computed in the test from the raw events it sent, with
// the zone's rules taken from Intl (ICU), not from Postgres: an independent
// second opinion on every bucket boundary and every count.
import type { Plain, TestEvent } from "./events.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string): Intl.DateTimeFormat {
  zone ||= "UTC";
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "numeric", day: "numeric", hour: "numeric", minute: "numeric", second: "numeric" });
    formats.set(zone, f);
  }
  return f;
}

/** The zone's wall-clock time at instant t, as if it were UTC (epoch ms). */
export function wall(t: number, zone: string): number {
  const parts: Record<string, number> = {};
  for (const p of format(zone).formatToParts(new Date(t))) if (p.type !== "literal") parts[p.type] = Number(p.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!) + (((t % 1000) + 1000) % 1000);
}

/** The instant at which the zone's clock shows wall time w (unambiguous times only: the tests' midnights). */
function instantOf(w: number, zone: string): number {
  let t = w - (wall(w, zone) - w);
  t = w - (wall(t, zone) - t);
  if (wall(t, zone) !== w) throw new Error(`no single instant shows ${new Date(w).toISOString()} in ${zone}`);
  return t;
}

export type Unit = "minute" | "hour" | "day" | "week";

/** The start of the bucket holding t: minutes and hours keep t's offset; days and weeks start at the local midnight (weeks on Monday). */
export function bucketStart(t: number, unit: Unit, zone: string): number {
  const w = wall(t, zone);
  if (unit === "minute") return t - (w % 60_000);
  if (unit === "hour") return t - (w % HOUR);
  const midnight = w - (w % DAY);
  if (unit === "day") return instantOf(midnight, zone);
  const weekday = new Date(midnight).getUTCDay(); // 0 = Sunday
  return instantOf(midnight - ((weekday + 6) % 7) * DAY, zone);
}

/** Every bucket start of [start, end) widened to whole buckets, and the end of the last one. */
export function buckets(start: number, end: number, unit: Unit, zone: string): { starts: number[]; end: number } {
  const starts: number[] = [];
  if (unit === "minute" || unit === "hour") {
    const step = unit === "minute" ? 60_000 : HOUR;
    for (let s = bucketStart(start, unit, zone); s < end; s += step) starts.push(s);
    return { starts, end: starts[starts.length - 1]! + step };
  }
  // Walk the zone's calendar dates, not fixed lengths: a DST day is 23 or 25 hours.
  let s = bucketStart(start, unit, zone);
  const days = unit === "day" ? 1 : 7;
  for (;;) {
    starts.push(s);
    const w = wall(s, zone);
    const next = instantOf(w - (w % DAY) + days * DAY, zone);
    if (next >= end) return { starts, end: next };
    s = next;
  }
}

export type Metric = { kind: "count" } | { kind: "sum"; key: string } | { kind: "unique" };

export interface SeriesQuery {
  name: string;
  metric: Metric;
  unit: Unit;
  start: number;
  end: number;
  zone: string;
  filters?: Record<string, Plain>;
  split?: { key: string; limit: number };
}

const typeOrder = (v: Plain) => (typeof v === "string" ? 0 : typeof v === "number" ? 1 : 2);
/** Postgres's text of a value, as the service orders equal totals by (the tests use values whose JS text is the same). */
const text = (v: Plain) => String(v);
const keyOf = (v: Plain) => `${typeOrder(v)}:${text(v)}`;

function metricOf(events: TestEvent[], m: Metric): number {
  if (m.kind === "count") return events.length;
  if (m.kind === "unique") return new Set(events.map((e) => e.subject)).size;
  return events.reduce((n, e) => n + (e.attributes![m.key] as number), 0);
}

function matches(e: TestEvent, filters: Record<string, Plain> | undefined): boolean {
  return Object.entries(filters ?? {}).every(([k, v]) => e.attributes?.[k] === v);
}

/** Orders values by total (desc), then type (string, number, boolean), then text. */
function byTotal(a: { total: number; value: Plain }, b: { total: number; value: Plain }): number {
  if (a.total !== b.total) return b.total - a.total;
  if (typeOrder(a.value) !== typeOrder(b.value)) return typeOrder(a.value) - typeOrder(b.value);
  return text(a.value) < text(b.value) ? -1 : text(a.value) > text(b.value) ? 1 : 0;
}

export interface ExpectedSeries {
  start: number;
  end: number;
  series: Array<{ value?: Plain; points: Array<[number, number]> }>;
}

export function expectedSeries(events: TestEvent[], q: SeriesQuery): ExpectedSeries {
  const { starts, end } = buckets(q.start, q.end, q.unit, q.zone);
  const lo = starts[0]!;
  let chosen = events.filter((e) => e.name === q.name && e.t >= lo && e.t < end && matches(e, q.filters));
  if (q.metric.kind === "sum") {
    const key = q.metric.key;
    chosen = chosen.filter((e) => typeof e.attributes?.[key] === "number");
  }
  const series = (list: TestEvent[]): Array<[number, number]> => {
    const by = new Map<number, TestEvent[]>(starts.map((s) => [s, []]));
    for (const e of list) by.get(bucketStart(e.t, q.unit, q.zone))!.push(e);
    return starts.map((s) => [s, metricOf(by.get(s)!, q.metric)]);
  };
  if (!q.split) return { start: lo, end, series: [{ points: series(chosen) }] };
  const key = q.split.key;
  const groups = new Map<string, { value: Plain; events: TestEvent[] }>();
  for (const e of chosen) {
    const v = e.attributes?.[key];
    if (v === undefined) continue;
    const g = groups.get(keyOf(v)) ?? { value: v, events: [] };
    g.events.push(e);
    groups.set(keyOf(v), g);
  }
  const top = [...groups.values()]
    .map((g) => ({ ...g, total: metricOf(g.events, q.metric) }))
    .sort(byTotal)
    .slice(0, q.split.limit);
  return { start: lo, end, series: top.map((g) => ({ value: g.value, points: series(g.events) })) };
}

export function expectedBreakdown(events: TestEvent[], q: { name?: string; key: string; start: number; end: number; limit: number; filters?: Record<string, Plain> }): Array<[Plain, number]> {
  const groups = new Map<string, { value: Plain; total: number }>();
  for (const e of events) {
    if (e.t < q.start || e.t >= q.end || (q.name !== undefined && e.name !== q.name) || !matches(e, q.filters)) continue;
    const v = e.attributes?.[q.key];
    if (v === undefined) continue;
    const g = groups.get(keyOf(v)) ?? { value: v, total: 0 };
    g.total++;
    groups.set(keyOf(v), g);
  }
  return [...groups.values()].sort(byTotal).slice(0, q.limit).map((g) => [g.value, g.total]);
}

export interface FunnelExpectation {
  counts: number[];
  breakdowns: Array<{ value?: Plain; counts: number[] }>;
}

/** Enter with the first step-1 event in range (lowest id on ties); each next step is the earliest at or after the previous one, within the window of the entry. */
export function expectedFunnel(events: TestEvent[], q: { steps: string[]; start: number; end: number; windowMs: number; breakdown?: { key: string; limit: number } }): FunnelExpectation {
  const bySubject = new Map<string, TestEvent[]>();
  for (const e of events) {
    if (!q.steps.includes(e.name)) continue;
    const list = bySubject.get(e.subject) ?? [];
    list.push(e);
    bySubject.set(e.subject, list);
  }
  const overall = q.steps.map(() => 0);
  const groups = new Map<string, { value?: Plain; counts: number[] }>();
  for (const list of bySubject.values()) {
    const entries = list.filter((e) => e.name === q.steps[0] && e.t >= q.start && e.t < q.end).sort((a, b) => a.t - b.t || (a.id < b.id ? -1 : 1));
    const entry = entries[0];
    if (!entry) continue;
    let reached = 1;
    let at = entry.t;
    for (let k = 1; k < q.steps.length; k++) {
      const next = list.filter((e) => e.name === q.steps[k] && e.t >= at && e.t <= entry.t + q.windowMs).sort((a, b) => a.t - b.t)[0];
      if (!next) break;
      reached++;
      at = next.t;
    }
    for (let k = 0; k < reached; k++) overall[k]!++;
    if (q.breakdown) {
      const v = entry.attributes?.[q.breakdown.key];
      const id = v === undefined ? "none" : keyOf(v);
      const g = groups.get(id) ?? { value: v, counts: q.steps.map(() => 0) };
      for (let k = 0; k < reached; k++) g.counts[k]!++;
      groups.set(id, g);
    }
  }
  const order = (g: { value?: Plain }) => (g.value === undefined ? 3 : typeOrder(g.value));
  const breakdowns = [...groups.values()]
    .sort((a, b) => b.counts[0]! - a.counts[0]! || order(a) - order(b) || (text(a.value ?? "") < text(b.value ?? "") ? -1 : text(a.value ?? "") > text(b.value ?? "") ? 1 : 0))
    .slice(0, q.breakdown?.limit ?? 0);
  return { counts: overall, breakdowns };
}

export interface RetentionExpectation {
  start: number;
  end: number;
  cohorts: Array<{ start: number; size: number; returned: number[] }>;
}

export function expectedRetention(events: TestEvent[], q: { startEvent: string; returnEvent: string; unit: "day" | "week"; start: number; end: number; zone: string }): RetentionExpectation {
  const { starts, end } = buckets(q.start, q.end, q.unit, q.zone);
  const lo = starts[0]!;
  const index = (t: number) => starts.indexOf(bucketStart(t, q.unit, q.zone));
  const inRange = events.filter((e) => e.t >= lo && e.t < end);
  const first = new Map<string, number>();
  for (const e of inRange) if (e.name === q.startEvent) first.set(e.subject, Math.min(first.get(e.subject) ?? Infinity, e.t));
  const cohorts = starts.map((s, i) => ({ start: s, size: 0, returned: new Array<number>(starts.length - 1 - i).fill(0) }));
  for (const [subject, t] of first) {
    const c = index(t);
    cohorts[c]!.size++;
    const periods = new Set(inRange.filter((e) => e.subject === subject && e.name === q.returnEvent).map((e) => index(e.t)));
    for (const p of periods) if (p > c) cohorts[c]!.returned[p - c - 1]!++;
  }
  return { start: lo, end, cohorts };
}
