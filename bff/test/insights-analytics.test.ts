import { expect } from "chai";
import { unique } from "./billing-stack.js";
import { getInsightsStack, type InsightsStack } from "./insights-stack.js";
import { dataOf, type GqlResponse } from "./stack.js";

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 9, 23); // Friday 2026-10-23 00:00 UTC; Europe/Berlin leaves summer time on Sunday 25th, 01:00 UTC.
const END = T0 + 5 * DAY;

type Value = string | number | boolean;
interface Sent {
  id: string;
  name: string;
  t: number;
  subject: string;
  attributes: Record<string, Value>;
}

/**
 * A small activation flow over five days, made here and sent through
 * POST /v1/events: subjects view offers (some days), click some and redeem
 * a few, with campaign, channel and amount attributes; plus events on bucket
 * edges (a UTC midnight, Berlin's midnights either side of its DST change)
 * and one at the range's end, which no answer may count.
 */
function dataset(ns: string): Sent[] {
  const out: Sent[] = [];
  const add = (name: string, t: number, subject: string, attributes: Record<string, Value>) => out.push({ id: `${ns}-${out.length}`, name: `${ns}.${name}`, t, subject, attributes });
  for (let k = 0; k < 8; k++) {
    const subject = `u${k}`;
    for (let d = 0; d < 5; d++) {
      if ((k + d) % 3 === 0) continue;
      const viewed = T0 + d * DAY + ((3 * k + 5 * d) % 24) * HOUR + (7 + k) * MINUTE;
      const channel = ["web", "app", "email"][(k + d) % 3]!;
      const campaign = k % 2 === 0 ? "summer" : "winter";
      add("viewed", viewed, subject, { campaign, channel });
      if ((k * d) % 2 === 0) {
        add("clicked", viewed + 20 * MINUTE, subject, { campaign, channel });
        if (k % 3 === 0) add("redeemed", viewed + 2 * HOUR + k * MINUTE, subject, { campaign, channel, amount: 10 * (k + 1) + d });
      }
    }
  }
  add("viewed", T0 + 2 * DAY, "edge-utc-midnight", { campaign: "summer", channel: "web" });
  add("viewed", Date.UTC(2026, 9, 24, 22), "edge-berlin-cest-midnight", { campaign: "summer", channel: "app" });
  add("viewed", Date.UTC(2026, 9, 25, 23), "edge-berlin-cet-midnight", { campaign: "winter", channel: "app" });
  add("viewed", END, "edge-range-end", { campaign: "winter", channel: "web" });
  return out;
}

const iso = (t: number) => new Date(t).toISOString();

/** Buckets given by their starts (and the end of the last): the expected answer is counted into them here. */
function series(events: Sent[], starts: number[], end: number, metric: (list: Sent[]) => number): Array<{ startsAt: string; value: number }> {
  return starts.map((s, i) => {
    const next = starts[i + 1] ?? end;
    return { startsAt: iso(s), value: metric(events.filter((e) => e.t >= s && e.t < next)) };
  });
}
const count = (list: Sent[]) => list.length;
const uniqueSubjects = (list: Sent[]) => new Set(list.map((e) => e.subject)).size;
const sumOf = (key: string) => (list: Sent[]) => list.reduce((a, e) => a + (typeof e.attributes[key] === "number" ? (e.attributes[key] as number) : 0), 0);
const every = (start: number, n: number, step: number) => Array.from({ length: n }, (_, i) => start + i * step);
const byCountThenValue = (a: [string, number], b: [string, number]) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

describe("insights analytics through the edge", function () {
  this.timeout(120_000);
  let s: InsightsStack;
  let ns: string;
  let sent: Sent[];
  const named = (name: string) => sent.filter((e) => e.name === `${ns}.${name}`);
  const inRange = (list: Sent[], from = T0, to = END) => list.filter((e) => e.t >= from && e.t < to);
  const asAnalyst = (query: string, variables?: Record<string, unknown>): Promise<GqlResponse> => s.ias(s.a.users.analyst, query, variables);

  before(async () => {
    s = await getInsightsStack();
    ns = unique("an").replace(/[^a-z0-9]/g, "");
    sent = dataset(ns);
    const key = await s.createKey("a", ["events:write"]);
    const ndjson = sent.map((e) => JSON.stringify({ id: e.id, name: e.name, occurredAt: iso(e.t), subjectId: e.subject, attributes: e.attributes })).join("\n");
    const res = await s.postEvents(ndjson, { caller: { apiKey: key }, contentType: "application/x-ndjson" });
    expect(res.body).to.deep.equal({ accepted: sent.length, duplicates: 0, rejected: [] });
  });

  const TIME_SERIES = `query($n: String!, $m: Metric!, $sum: String, $g: Granularity!, $from: DateTime!, $to: DateTime!, $tz: String, $f: [AttributeFilter!], $split: String, $limit: Int) {
    timeSeries(eventName: $n, metric: $m, sumAttribute: $sum, granularity: $g, from: $from, to: $to, timeZone: $tz, filters: $f, splitBy: $split, splitLimit: $limit) {
      from to source series { splitValue points { startsAt value } }
    }
  }`;
  interface TimeSeries {
    from: string;
    to: string;
    source: string;
    series: Array<{ splitValue: Value | null; points: Array<{ startsAt: string; value: number }> }>;
  }
  const timeSeries = async (variables: Record<string, unknown>) => dataOf<TimeSeries>(await asAnalyst(TIME_SERIES, { m: "COUNT", ...variables }), "timeSeries");

  it("answers hourly counts (an event on a midnight in its bucket, the range's end left out) as counted from the events sent", async () => {
    const from = T0 + DAY;
    const to = T0 + 3 * DAY;
    const answer = await timeSeries({ n: `${ns}.viewed`, g: "HOUR", from: iso(from), to: iso(to) });
    const starts = every(from, 48, HOUR);
    expect(answer).to.deep.equal({ from: iso(from), to: iso(to), source: "ROLLUP", series: [{ splitValue: null, points: series(named("viewed"), starts, to, count) }] });
    expect(answer.series[0]!.points.reduce((a, p) => a + p.value, 0)).to.be.above(5);
    expect(answer.series[0]!.points.find((p) => p.startsAt === iso(T0 + 2 * DAY))!.value).to.be.at.least(1);
  });

  it("answers days in Europe/Berlin across its DST change (a 25-hour Sunday) as counted from the events sent", async () => {
    // Berlin's midnights: Oct 24 and 25 at 22:00 UTC the day before (CEST, +2), Oct 26 and 27 at 23:00 UTC (CET, +1).
    const starts = [Date.UTC(2026, 9, 23, 22), Date.UTC(2026, 9, 24, 22), Date.UTC(2026, 9, 25, 23)];
    const end = Date.UTC(2026, 9, 26, 23);
    // A range inside the first and last days is widened to whole days.
    const answer = await timeSeries({ n: `${ns}.viewed`, g: "DAY", tz: "Europe/Berlin", from: iso(starts[0]! + 5 * HOUR), to: iso(end - HOUR) });
    expect(answer.from).to.equal(iso(starts[0]!));
    expect(answer.to).to.equal(iso(end));
    expect(answer.series).to.deep.equal([{ splitValue: null, points: series(named("viewed"), starts, end, count) }]);
    const [, sunday] = answer.series[0]!.points;
    expect(sunday!.value).to.equal(named("viewed").filter((e) => e.t >= starts[1]! && e.t < starts[2]!).length);
  });

  it("answers daily sums, unique subjects, filters (rollup and raw) and splits, and zeros for an empty range", async () => {
    const days = every(T0, 5, DAY);
    const range = { g: "DAY", from: iso(T0), to: iso(END) };
    const sum = await timeSeries({ ...range, n: `${ns}.redeemed`, m: "SUM", sum: "amount" });
    expect(sum.series).to.deep.equal([{ splitValue: null, points: series(named("redeemed"), days, END, sumOf("amount")) }]);
    expect(sum.series[0]!.points.some((p) => p.value > 0)).to.equal(true);

    const uniques = await timeSeries({ ...range, n: `${ns}.viewed`, m: "UNIQUE_SUBJECTS" });
    expect(uniques.series[0]!.points).to.deep.equal(series(named("viewed"), days, END, uniqueSubjects));

    const web = named("viewed").filter((e) => e.attributes.channel === "web");
    const oneFilter = await timeSeries({ ...range, n: `${ns}.viewed`, f: [{ key: "channel", value: "web" }] });
    expect(oneFilter.source).to.equal("ROLLUP");
    expect(oneFilter.series[0]!.points).to.deep.equal(series(web, days, END, count));
    const twoFilters = await timeSeries({ ...range, n: `${ns}.viewed`, f: [{ key: "channel", value: "web" }, { key: "campaign", value: "summer" }] });
    expect(twoFilters.source).to.equal("RAW");
    expect(twoFilters.series[0]!.points).to.deep.equal(series(web.filter((e) => e.attributes.campaign === "summer"), days, END, count));

    const split = await timeSeries({ ...range, n: `${ns}.viewed`, split: "campaign", limit: 5 });
    const totals = (["summer", "winter"] as const).map((c) => [c, inRange(named("viewed")).filter((e) => e.attributes.campaign === c).length] as [string, number]).sort(byCountThenValue);
    expect(split.series).to.deep.equal(totals.map(([c]) => ({ splitValue: c, points: series(named("viewed").filter((e) => e.attributes.campaign === c), days, END, count) })));

    const empty = await timeSeries({ n: `${ns}.viewed`, g: "HOUR", from: "2026-10-10T00:00:00Z", to: "2026-10-10T06:00:00Z" });
    expect(empty.series).to.deep.equal([{ splitValue: null, points: every(Date.UTC(2026, 9, 10), 6, HOUR).map((t) => ({ startsAt: iso(t), value: 0 })) }]);
  });

  it("answers a breakdown as counted from the events sent (most first, then by value), also filtered and for every name", async () => {
    const BREAKDOWN = `query($n: String, $a: String!, $from: DateTime!, $to: DateTime!, $f: [AttributeFilter!], $l: Int) {
      breakdown(eventName: $n, attribute: $a, from: $from, to: $to, filters: $f, limit: $l) { source rows { value count } }
    }`;
    const expected = (list: Sent[], key: string) => {
      const counts = new Map<string, number>();
      for (const e of inRange(list)) if (typeof e.attributes[key] === "string") counts.set(e.attributes[key] as string, (counts.get(e.attributes[key] as string) ?? 0) + 1);
      return [...counts.entries()].sort(byCountThenValue).map(([value, n]) => ({ value, count: n }));
    };
    const channels = dataOf<{ source: string; rows: unknown[] }>(await asAnalyst(BREAKDOWN, { n: `${ns}.viewed`, a: "channel", from: iso(T0), to: iso(END) }), "breakdown");
    expect(channels).to.deep.equal({ source: "ROLLUP", rows: expected(named("viewed"), "channel") });
    const filtered = dataOf<{ rows: unknown[] }>(await asAnalyst(BREAKDOWN, { n: `${ns}.clicked`, a: "channel", from: iso(T0), to: iso(END), f: [{ key: "campaign", value: "winter" }] }), "breakdown");
    expect(filtered.rows).to.deep.equal(expected(named("clicked").filter((e) => e.attributes.campaign === "winter"), "channel"));
    // Every name of the tenant (other tests' events included): this data set's campaigns are among them, at least as often.
    const top1 = dataOf<{ rows: Array<{ value: string; count: number }> }>(await asAnalyst(BREAKDOWN, { a: "channel", from: iso(T0), to: iso(END), l: 1 }), "breakdown");
    expect(top1.rows).to.have.length(1);
  });

  it("answers a funnel, overall and broken down, as computed from the events sent", async () => {
    const FUNNEL = `query($s: [String!]!, $from: DateTime!, $to: DateTime!, $w: Int, $b: String) {
      funnel(steps: $s, from: $from, to: $to, conversionWindowSeconds: $w, breakdownBy: $b) {
        source steps { eventName count conversionRate stepConversionRate } breakdowns { value steps { count } }
      }
    }`;
    const steps = ["viewed", "clicked", "redeemed"].map((n) => `${ns}.${n}`);
    const window = 3 * HOUR;
    // Enter with the first step-1 event in range; each next step the earliest at or after the previous one, within the window of the entry.
    const reached = new Map<string, { entry: Sent; steps: number }>();
    for (const subject of new Set(sent.map((e) => e.subject))) {
      const mine = sent.filter((e) => e.subject === subject).sort((a, b) => a.t - b.t);
      const entry = mine.find((e) => e.name === steps[0] && e.t >= T0 && e.t < END);
      if (!entry) continue;
      let at = entry.t;
      let n = 1;
      for (const step of steps.slice(1)) {
        const next = mine.find((e) => e.name === step && e.t >= at && e.t <= entry.t + window);
        if (!next) break;
        at = next.t;
        n++;
      }
      reached.set(subject, { entry, steps: n });
    }
    const counts = (filter: (entry: Sent) => boolean) => steps.map((_, k) => [...reached.values()].filter((r) => filter(r.entry) && r.steps > k).length);
    const overall = counts(() => true);
    expect(overall[0]).to.be.above(overall[2]!);
    expect(overall[2]).to.be.above(0);
    const answer = dataOf<{ source: string; steps: Array<{ eventName: string; count: number; conversionRate: number; stepConversionRate: number }>; breakdowns: Array<{ value: Value | null; steps: Array<{ count: number }> }> }>(
      await asAnalyst(FUNNEL, { s: steps, from: iso(T0), to: iso(END), w: window / 1000, b: "campaign" }),
      "funnel",
    );
    expect(answer.source).to.equal("RAW");
    expect(answer.steps).to.deep.equal(
      steps.map((eventName, k) => ({ eventName, count: overall[k]!, conversionRate: overall[k]! / overall[0]!, stepConversionRate: k === 0 ? 1 : overall[k]! / overall[k - 1]! })),
    );
    const byCampaign = (["summer", "winter"] as const)
      .map((c) => ({ value: c, steps: counts((e) => e.attributes.campaign === c).map((n) => ({ count: n })) }))
      .sort((a, b) => b.steps[0]!.count - a.steps[0]!.count || (a.value < b.value ? -1 : 1));
    expect(answer.breakdowns).to.deep.equal(byCampaign);
  });

  it("answers daily retention (first view's day, redemptions in each later day) as computed from the events sent", async () => {
    const RETENTION = `query($s: String!, $r: String!, $from: DateTime!, $to: DateTime!) {
      retention(startEvent: $s, returnEvent: $r, period: DAY, from: $from, to: $to) { from to source cohorts { startsAt size returned shares } }
    }`;
    const days = every(T0, 5, DAY);
    const dayOf = (t: number) => Math.floor((t - T0) / DAY);
    const first = new Map<string, number>();
    for (const e of inRange(named("viewed"))) first.set(e.subject, Math.min(first.get(e.subject) ?? Infinity, e.t));
    const cohorts = days.map((d, i) => ({ startsAt: iso(d), size: 0, returned: new Array<number>(days.length - 1 - i).fill(0) }));
    for (const [subject, t] of first) {
      const c = dayOf(t);
      cohorts[c]!.size++;
      for (const p of new Set(inRange(named("redeemed")).filter((e) => e.subject === subject).map((e) => dayOf(e.t)))) if (p > c) cohorts[c]!.returned[p - c - 1]!++;
    }
    const answer = dataOf<{ from: string; to: string; source: string; cohorts: unknown[] }>(await asAnalyst(RETENTION, { s: `${ns}.viewed`, r: `${ns}.redeemed`, from: iso(T0), to: iso(END) }), "retention");
    expect(answer).to.deep.equal({
      from: iso(T0),
      to: iso(END),
      source: "ROLLUP",
      cohorts: cohorts.map((c) => ({ ...c, shares: c.returned.map((n) => (c.size ? n / c.size : 0)) })),
    });
    expect(cohorts.some((c) => c.returned.some((n) => n > 0))).to.equal(true);
  });

  it("lists events newest first, page by page, with their attributes, filtered by name and [from, to)", async () => {
    const EVENTS = `query($n: String, $from: DateTime, $to: DateTime, $after: String) {
      events(first: 7, name: $n, from: $from, to: $to, after: $after) { nodes { id name occurredAt subjectId attributes receivedAt } pageInfo { endCursor hasNextPage } }
    }`;
    const from = T0 + DAY;
    const to = T0 + 3 * DAY;
    const expected = named("clicked")
      .filter((e) => e.t >= from && e.t < to)
      .sort((a, b) => b.t - a.t || (a.id < b.id ? 1 : -1))
      .map((e) => ({ id: e.id, name: e.name, occurredAt: iso(e.t), subjectId: e.subject, attributes: e.attributes }));
    expect(expected.length).to.be.above(7);
    const listed: unknown[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const res = await asAnalyst(EVENTS, { n: `${ns}.clicked`, from: iso(from), to: iso(to), after });
      const conn = dataOf<{ nodes: Array<Record<string, unknown>>; pageInfo: { endCursor: string | null; hasNextPage: boolean } }>(res, "events");
      for (const { receivedAt, ...rest } of conn.nodes) {
        expect(Date.parse(receivedAt as string)).to.be.above(Date.now() - 10 * 60_000);
        listed.push(rest);
      }
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    expect(listed).to.deep.equal(expected);
  });

  it("makes one gRPC call per insights field: a page of events is one call, a dashboard of four analytics fields four", async () => {
    const page = await asAnalyst(`query($n: String) { events(first: 50, name: $n) { nodes { id name occurredAt subjectId attributes receivedAt } } }`, { n: `${ns}.viewed` });
    expect(dataOf<{ nodes: unknown[] }>(page, "events").nodes).to.have.length(named("viewed").length);
    expect(page.headers.get("x-apgms-upstream-calls")).to.equal("1");
    const dashboard = await asAnalyst(
      `query($v: String!, $c: String!, $from: DateTime!, $to: DateTime!) {
        timeSeries(eventName: $v, granularity: DAY, from: $from, to: $to) { series { points { value } } }
        breakdown(eventName: $v, attribute: "channel", from: $from, to: $to) { rows { count } }
        funnel(steps: [$v, $c], from: $from, to: $to) { steps { count } }
        retention(startEvent: $v, returnEvent: $c, period: DAY, from: $from, to: $to) { cohorts { size } }
      }`,
      { v: `${ns}.viewed`, c: `${ns}.clicked`, from: iso(T0), to: iso(END) },
    );
    expect(dashboard.body.errors).to.equal(undefined);
    expect(dashboard.headers.get("x-apgms-upstream-calls")).to.equal("4");
  });

  it("names the argument at fault in the schema's terms (from/to, positions in lists, timeZone), in its code and its message", async () => {
    const messages: string[] = [];
    const bad = async (query: string, variables: Record<string, unknown>) => {
      const error = (await asAnalyst(query, variables)).body.errors?.[0];
      messages.push(error?.message ?? "");
      return error;
    };
    const range = { from: iso(T0), to: iso(END) };
    const backwards = await bad(TIME_SERIES, { n: `${ns}.viewed`, m: "COUNT", g: "DAY", from: iso(END), to: iso(T0) });
    expect(backwards?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "to" });
    expect(backwards?.message).to.equal("to: must be after from");
    expect((await bad(TIME_SERIES, { n: `${ns}.viewed`, m: "COUNT", sum: "amount", g: "DAY", ...range }))?.message).to.equal("sumAttribute: is only for SUM");
    expect((await bad(TIME_SERIES, { n: `${ns}.viewed`, m: "COUNT", g: "DAY", ...range, limit: 3 }))?.message).to.equal("splitLimit: is only for splitBy");
    const eventsBackwards = await bad(`query($from: DateTime, $to: DateTime) { events(from: $from, to: $to) { nodes { id } } }`, { from: iso(END), to: iso(T0) });
    expect(eventsBackwards?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "to" });
    expect((await bad(TIME_SERIES, { n: `${ns}.viewed`, m: "COUNT", g: "DAY", ...range, tz: "Mars/Olympus" }))?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "timeZone" });
    expect((await bad(TIME_SERIES, { n: `${ns}.viewed`, m: "COUNT", g: "DAY", ...range, f: [{ key: "channel", value: "web" }, { key: "9bad", value: 1 }] }))?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "filters[1].key" });
    expect((await bad(TIME_SERIES, { n: `${ns}.viewed`, m: "COUNT", g: "MINUTE", ...range }))?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "to" });
    expect((await bad(`query($s: [String!]!) { funnel(steps: $s, from: "2026-10-23T00:00:00Z", to: "2026-10-24T00:00:00Z") { source } }`, { s: ["a.b", "no good"] }))?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "steps[1]" });
    expect((await bad(`query { breakdown(attribute: "channel", from: "2026-10-23T00:00:00Z", to: "2026-10-24T00:00:00Z", limit: 101) { source } }`, {}))?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "limit" });
    expect((await bad(`query($v: AttributeValue!) { breakdown(attribute: "channel", from: "2026-10-23T00:00:00Z", to: "2026-10-24T00:00:00Z", filters: [{ key: "a", value: $v }]) { source } }`, { v: { no: 1 } }))?.extensions).to.deep.include({ code: "BAD_USER_INPUT" });
    expect((await bad(`query { events(first: 1, name: "no good") { nodes { id } } }`, {}))?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "name" });
    // No proto name (snake_case, page.page_…, METRIC_…) in any message.
    for (const message of messages) expect(message).to.not.match(/\b[a-z]+(?:_[a-z]+)+\b|\bpage\.page_|\b(?:METRIC|GRANULARITY|RETENTION_PERIOD)_/);
  });
});
