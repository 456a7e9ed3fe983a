import { outcomeName } from "@apgms/common/audit/trail";
import { expect } from "chai";
import { unique } from "./billing-stack.js";
import { getInsightsStack, type Caller, type InsightsStack } from "./insights-stack.js";
import { dataOf, errorCode } from "./stack.js";

const RANGE = 'from: "2026-10-01T00:00:00Z", to: "2026-10-02T00:00:00Z"';
/** Every insights read, one document each (a refused non-null root field ends its document's execution). */
const READS: Record<string, string> = {
  events: "{ events(first: 1) { nodes { id } } }",
  timeSeries: `query($n: String!) { timeSeries(eventName: $n, granularity: DAY, ${RANGE}) { source } }`,
  breakdown: `{ breakdown(attribute: "channel", ${RANGE}) { source } }`,
  funnel: `query($n: String!) { funnel(steps: [$n, "other"], ${RANGE}) { source } }`,
  retention: `query($n: String!) { retention(startEvent: $n, returnEvent: $n, period: DAY, ${RANGE}) { source } }`,
  insightsDimensions: "{ insightsDimensions { keys defaults } }",
};
const INGEST = `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted duplicates } }`;
const SET_DIMENSIONS = `mutation($k: [String!]!) { setInsightsDimensions(keys: $k) { keys defaults } }`;


/**
 * Insights' role rules and API-key scopes at the edge: analysts and above
 * read (viewers do not: raw events carry subject ids); owners and admins
 * ingest and choose dimensions; a key reads with insights:read and ingests
 * with events:write, each alone; POST /v1/events takes only events:write.
 */
describe("insights permissions at the edge", function () {
  this.timeout(120_000);
  let s: InsightsStack;
  let ns: string;
  const event = (id: string) => ({ id, name: `${ns}.perm`, occurredAt: "2026-10-01T10:00:00Z", subjectId: "someone", attributes: { channel: "web" } });

  before(async () => {
    s = await getInsightsStack();
    ns = unique("perm").replace(/[^a-z0-9]/g, "");
  });

  const storedOfRun = async () => (await s.storedIds(s.a.id)).filter((id) => id.startsWith(ns));

  /** The code each read answers (null: no error). */
  async function readCodes(caller: Caller): Promise<Record<string, string | null>> {
    const out: Record<string, string | null> = {};
    for (const [field, query] of Object.entries(READS)) out[field] = errorCode(await s.igql(query, query.includes("$n") ? { n: `${ns}.perm` } : {}, caller)) ?? null;
    return out;
  }
  const every = (code: string | null) => Object.fromEntries(Object.keys(READS).map((f) => [f, code]));

  async function expectRefusedEverywhere(label: string, caller: Caller, { reads }: { reads: boolean }) {
    expect(await readCodes(caller), label).to.deep.equal(every(reads ? null : "FORBIDDEN"));
    const id = `${ns}-${unique("refused")}`;
    expect(errorCode(await s.igql(INGEST, { e: [event(id)] }, caller)), label).to.equal("FORBIDDEN");
    const rest = await s.postEvents(JSON.stringify([event(id)]), { caller });
    expect(rest.status, label).to.equal(403);
    expect(rest.body.errors?.[0]?.extensions.code, label).to.equal("FORBIDDEN");
    expect(errorCode(await s.igql(SET_DIMENSIONS, { k: ["tier"] }, caller)), label).to.equal("FORBIDDEN");
    expect(await storedOfRun(), label).to.not.include(id);
  }

  it("refuses a viewer every insights read and write (FORBIDDEN, 403), storing nothing", async () => {
    await expectRefusedEverywhere("viewer", { token: s.tokenOf(s.a.users.viewer) }, { reads: false });
  });

  it("lets an analyst read everything, and refuses its ingestion and dimension changes", async () => {
    await expectRefusedEverywhere("analyst", { token: s.tokenOf(s.a.users.analyst) }, { reads: true });
  });

  it("lets an API key with insights:read read only, and one with events:write ingest only (GraphQL and POST /v1/events)", async () => {
    await expectRefusedEverywhere("insights:read key", { apiKey: await s.createKey("a", ["insights:read"]) }, { reads: true });
    const writer = await s.createKey("a", ["events:write"]);
    expect(await readCodes({ apiKey: writer })).to.deep.equal(every("FORBIDDEN"));
    expect(dataOf(await s.igql(INGEST, { e: [event(`${ns}-key-gql`)] }, { apiKey: writer }), "ingestEvents")).to.deep.equal({ accepted: 1, duplicates: 0 });
    expect((await s.postEvents(JSON.stringify([event(`${ns}-key-rest`)]), { caller: { apiKey: writer } })).status).to.equal(200);
    expect(errorCode(await s.igql(SET_DIMENSIONS, { k: ["tier"] }, { apiKey: writer }))).to.equal("FORBIDDEN");
    // Other scopes do not ingest.
    const billingKey = await s.createKey("a", ["billing:read", "billing:write", "identity:write"]);
    expect((await s.postEvents(JSON.stringify([event(`${ns}-billing-key`)]), { caller: { apiKey: billingKey } })).status).to.equal(403);
    expect(await storedOfRun()).to.deep.equal([`${ns}-key-gql`, `${ns}-key-rest`]);
  });

  it("lets owners and admins ingest through both, and admins choose dimensions", async () => {
    for (const role of ["owner", "admin"] as const) {
      const user = s.a.users[role];
      expect(dataOf(await s.ias(user, INGEST, { e: [event(`${ns}-${role}-gql`)] }), "ingestEvents")).to.deep.equal({ accepted: 1, duplicates: 0 });
      const rest = await s.postEvents(JSON.stringify([event(`${ns}-${role}-rest`)]), { caller: { token: s.tokenOf(user) } });
      expect(rest.body).to.deep.equal({ accepted: 1, duplicates: 0, rejected: [] });
    }
    // Tenant B's: the other tests read tenant A's default dimensions.
    const admin = s.b.users.admin;
    expect(dataOf(await s.ias(admin, SET_DIMENSIONS, { k: ["channel", "tier"] }), "setInsightsDimensions")).to.deep.equal({ keys: ["channel", "tier"], defaults: false });
    expect(dataOf(await s.ias(s.b.users.analyst, "{ insightsDimensions { keys defaults } }"), "insightsDimensions")).to.deep.equal({ keys: ["channel", "tier"], defaults: false });
    const bad = await s.ias(admin, SET_DIMENSIONS, { k: ["channel", "9tier"] });
    expect(bad.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "keys[1]" });
    const restored = dataOf<{ keys: string[]; defaults: boolean }>(await s.ias(admin, SET_DIMENSIONS, { k: [] }), "setInsightsDimensions");
    expect(restored).to.deep.equal({ keys: ["campaign", "channel", "country", "offer"], defaults: true });
  });

  it("answers POST /v1/events without valid credentials with 401 and a challenge, and audits a refused key", async () => {
    const none = await s.postEvents(JSON.stringify([event(`${ns}-anon`)]), {});
    expect(none.status).to.equal(401);
    expect(none.body.errors?.[0]?.extensions.code).to.equal("UNAUTHENTICATED");
    expect(none.headers.get("www-authenticate")).to.match(/^Bearer realm="apgms"/);
    expect(none.headers.get("ratelimit")).to.match(/^"ip";r=\d+/);
    const bad = await s.postEvents(JSON.stringify([event(`${ns}-bad`)]), { caller: { apiKey: "apgms_nope_0000000000000000000000000000" } });
    expect(bad.status).to.equal(401);
    expect(bad.headers.get("www-authenticate")).to.match(/error="invalid_(token|request)"/);

    const before = s.audited.length;
    const reader = await s.createKey("a", ["insights:read"]);
    expect((await s.postEvents(JSON.stringify([event(`${ns}-reader`)]), { caller: { apiKey: reader } })).status).to.equal(403);
    await s.flushAudit();
    const refused = s.audited.slice(before).filter((e) => e.action === "ingestEvents");
    expect(refused).to.have.length(1);
    expect(outcomeName(refused[0]!.outcome)).to.equal("refused");
    expect(refused[0]!.errorCodes).to.deep.equal(["FORBIDDEN"]);
    expect(await storedOfRun()).to.not.include.members([`${ns}-anon`, `${ns}-bad`, `${ns}-reader`]);
  });

  it("creates keys with the insights scopes, refuses unknown ones, and shows each role's insights rights in me.scopes", async () => {
    const key = await s.createKey("a", ["insights:read", "events:write"]);
    expect(dataOf(await s.igql("{ me { kind scopes } }", {}, { apiKey: key }), "me")).to.deep.equal({ kind: "API_KEY", scopes: ["insights:read", "events:write"] });
    const unknown = await s.as(s.a.users.owner, 'mutation { createApiKey(input: { name: "bad", scopes: ["insights:write"] }) { secret } }');
    expect(unknown.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "scopes" });
    const scopes = async (role: "viewer" | "analyst" | "admin") => dataOf<{ scopes: string[] }>(await s.ias(s.a.users[role], "{ me { scopes } }"), "me").scopes;
    expect(await scopes("viewer")).to.deep.equal(["identity:read", "billing:read"]);
    expect(await scopes("analyst")).to.deep.equal(["identity:read", "billing:read", "insights:read"]);
    expect(await scopes("admin")).to.include.members(["insights:read", "events:write"]);
  });

  it("reports svc-insights on /readyz: ok beside it, and an edge without it stays up (200, degraded)", async () => {
    const ready = (await (await fetch(`${s.insightsUrl}/readyz`)).json()) as { status: string; checks: Record<string, string> };
    // This edge has no svc-billing.
    expect(ready.checks).to.include({ "svc-identity": "ok", redis: "ok", "svc-insights": "ok" });
    expect(ready.checks["svc-billing"]).to.not.equal("ok");
    const shared = await fetch(`${s.url}/readyz`);
    expect(shared.status).to.equal(200);
    const body = (await shared.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).to.equal("degraded");
    expect(body.checks["svc-insights"]).to.be.a("string").and.not.equal("ok");
  });
});
