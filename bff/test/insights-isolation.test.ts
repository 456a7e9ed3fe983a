import { expect } from "chai";
import { unique } from "./billing-stack.js";
import { getInsightsStack, type Caller, type InsightsStack } from "./insights-stack.js";
import { dataOf, errorCode } from "./stack.js";

const FROM = "2026-10-01T00:00:00Z";
const TO = "2026-10-08T00:00:00Z";

/**
 * Tenants apart through the edge: whatever tenant B's users and keys ask
 * (lists, every analytics query, A's event names and ids, A's page cursors),
 * none of tenant A's events appear, and B's ingestion never touches A's.
 */
describe("insights tenant isolation at the edge", function () {
  this.timeout(120_000);
  let s: InsightsStack;
  let ns: string;
  let aIds: string[];
  let bReader: Caller;
  let bWriter: string;

  const event = (id: string, name: string, day: number, subject: string) => ({
    id,
    name,
    occurredAt: new Date(Date.parse(FROM) + day * 86_400_000 + 3_600_000).toISOString(),
    subjectId: subject,
    attributes: { channel: "web", campaign: "a-only" },
  });

  before(async () => {
    s = await getInsightsStack();
    ns = unique("iso").replace(/[^a-z0-9]/g, "");
    const aWriter = await s.createKey("a", ["events:write"]);
    const events = [0, 1, 2, 3].flatMap((d) => [event(`${ns}-v${d}`, `${ns}.viewed`, d, `s${d}`), event(`${ns}-c${d}`, `${ns}.clicked`, d, `s${d}`)]);
    aIds = events.map((e) => e.id).sort();
    expect((await s.postEvents(JSON.stringify(events), { caller: { apiKey: aWriter } })).body).to.deep.include({ accepted: 8 });
    bReader = { apiKey: await s.createKey("b", ["insights:read"]) };
    bWriter = await s.createKey("b", ["events:write"]);
  });

  const callersOfB = () => [
    { label: "B's analyst", caller: { token: s.tokenOf(s.b.users.analyst) } as Caller },
    { label: "B's owner", caller: { token: s.tokenOf(s.b.users.owner) } as Caller },
    { label: "B's insights:read key", caller: bReader },
  ];

  it("shows tenant B none of A's events, by A's names or in B's whole list, and every analytics answer of A's names is empty", async () => {
    for (const { label, caller } of callersOfB()) {
      const q = (query: string, variables: Record<string, unknown> = {}) => s.igql(query, { v: `${ns}.viewed`, c: `${ns}.clicked`, from: FROM, to: TO, ...variables }, caller);
      const byName = await q(`query($v: String) { events(name: $v) { nodes { id } } }`);
      expect(dataOf<{ nodes: unknown[] }>(byName, "events").nodes, label).to.deep.equal([]);
      const all = await q(`{ events(first: 200) { nodes { id } } }`);
      const ids = dataOf<{ nodes: Array<{ id: string }> }>(all, "events").nodes.map((n) => n.id);
      expect(ids.filter((id) => id.startsWith(ns)), label).to.deep.equal([]);

      const answers = await q(`query($v: String!, $c: String!, $from: DateTime!, $to: DateTime!) {
        timeSeries(eventName: $v, granularity: DAY, from: $from, to: $to) { series { points { value } } }
        uniques: timeSeries(eventName: $v, metric: UNIQUE_SUBJECTS, granularity: DAY, from: $from, to: $to) { series { points { value } } }
        breakdown(attribute: "campaign", from: $from, to: $to) { rows { value count } }
        funnel(steps: [$v, $c], from: $from, to: $to) { steps { count } }
        retention(startEvent: $v, returnEvent: $c, period: DAY, from: $from, to: $to) { cohorts { size returned } }
      }`);
      const data = answers.body.data as {
        timeSeries: { series: Array<{ points: Array<{ value: number }> }> };
        uniques: { series: Array<{ points: Array<{ value: number }> }> };
        breakdown: { rows: unknown[] };
        funnel: { steps: Array<{ count: number }> };
        retention: { cohorts: Array<{ size: number; returned: number[] }> };
      };
      expect(answers.body.errors, label).to.equal(undefined);
      expect(data.timeSeries.series[0]!.points.map((p) => p.value), label).to.deep.equal([0, 0, 0, 0, 0, 0, 0]);
      expect(data.uniques.series[0]!.points.every((p) => p.value === 0), label).to.equal(true);
      expect(data.breakdown.rows, label).to.deep.equal([]);
      expect(data.funnel.steps.map((st) => st.count), label).to.deep.equal([0, 0]);
      expect(data.retention.cohorts.every((c) => c.size === 0 && c.returned.every((n) => n === 0)), label).to.equal(true);
    }
    // The same questions as A's analyst: A has them.
    const mine = await s.ias(s.a.users.analyst, `query($v: String) { events(name: $v) { nodes { id } } }`, { v: `${ns}.viewed` });
    expect(dataOf<{ nodes: unknown[] }>(mine, "events").nodes).to.have.length(4);
  });

  it("refuses A's page cursor to B (BAD_USER_INPUT on after)", async () => {
    const page = await s.ias(s.a.users.analyst, `query($v: String) { events(first: 2, name: $v) { pageInfo { endCursor } } }`, { v: `${ns}.clicked` });
    const cursor = dataOf<{ pageInfo: { endCursor: string } }>(page, "events").pageInfo.endCursor;
    expect(cursor).to.be.a("string");
    const res = await s.igql(`query($v: String, $a: String) { events(first: 2, name: $v, after: $a) { nodes { id } } }`, { v: `${ns}.clicked`, a: cursor }, bReader);
    expect(res.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "after" });
  });

  it("stores B's events under B, also with ids A uses, leaving A's rows as they were", async () => {
    const before = await s.storedIds(s.a.id);
    const sameIds = [0, 1].map((d) => event(`${ns}-v${d}`, `${ns}.viewed`, d, `b-subject-${d}`));
    const viaRest = await s.postEvents(JSON.stringify(sameIds), { caller: { apiKey: bWriter } });
    expect(viaRest.body).to.deep.equal({ accepted: 2, duplicates: 0, rejected: [] });
    expect(viaRest.headers.get("x-apgms-tenant")).to.equal(s.b.id);
    const viaGraphql = await s.ias(s.b.users.admin, `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted duplicates } }`, { e: [event(`${ns}-c0`, `${ns}.clicked`, 0, "b-subject-0")] });
    expect(dataOf(viaGraphql, "ingestEvents")).to.deep.equal({ accepted: 1, duplicates: 0 });

    expect(await s.storedIds(s.a.id)).to.deep.equal(before);
    expect((await s.storedIds(s.a.id)).filter((id) => id.startsWith(ns))).to.deep.equal(aIds);
    expect((await s.storedIds(s.b.id)).filter((id) => id.startsWith(ns))).to.deep.equal([`${ns}-c0`, `${ns}-v0`, `${ns}-v1`]);
    const aSubjects = await s.insightsPg.query<{ subject_id: string }>("SELECT subject_id FROM insights.events WHERE tenant_id = $1 AND id = ANY($2) ORDER BY id", [s.a.id, [`${ns}-v0`, `${ns}-v1`]]);
    expect(aSubjects.rows.map((r) => r.subject_id)).to.deep.equal(["s0", "s1"]);

    // B now sees its own three, and still none of A's.
    const listed = await s.igql(`query($v: String!) { funnel(steps: [$v, "${ns}.clicked"], from: "${FROM}", to: "${TO}") { steps { count } } }`, { v: `${ns}.viewed` }, bReader);
    expect(dataOf<{ steps: Array<{ count: number }> }>(listed, "funnel").steps.map((st) => st.count)).to.deep.equal([2, 1]);
    const aFunnel = await s.ias(s.a.users.analyst, `query($v: String!) { funnel(steps: [$v, "${ns}.clicked"], from: "${FROM}", to: "${TO}") { steps { count } } }`, { v: `${ns}.viewed` });
    expect(dataOf<{ steps: Array<{ count: number }> }>(aFunnel, "funnel").steps.map((st) => st.count)).to.deep.equal([4, 4]);
    expect(errorCode(await s.igql(`{ insightsDimensions { keys } }`, {}, bReader))).to.equal(undefined);
  });
});
