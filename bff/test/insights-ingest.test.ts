import { gzipSync } from "node:zlib";
import { outcomeName } from "@apgms/common/audit/trail";
import { expect } from "chai";
import { unique } from "./billing-stack.js";
import { getInsightsStack, type EventsResponse, type InsightsStack } from "./insights-stack.js";
import { dataOf, errorCode } from "./stack.js";
import { startEdge } from "./support.js";
import { AUDIENCE } from "./stack.js";

const INGEST = `mutation($e: [EventInput!]!) { ingestEvents(events: $e) { accepted duplicates rejected { index id field reason } } }`;
const HOUR = 3_600_000;

interface Report {
  accepted: number;
  duplicates: number;
  rejected: Array<{ index: number; id: string; field: string; reason: string }>;
}

/** An event as a body carries it; `at` hours before a fixed past instant. */
function event(id: string, at = 1, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: "offer.viewed",
    occurredAt: new Date(Date.UTC(2026, 9, 20, 12) - at * HOUR).toISOString(),
    subjectId: `subject-${at}`,
    attributes: { campaign: "summer", price: 12.5, member: true },
    ...extra,
  };
}

/**
 * A batch with every kind of item: `p` prefixes its ids. Items 0..8:
 * new, new, repeat of 1, bad name, too far ahead, empty subject, bad
 * attribute key, new, and `p-stored` (stored before the batch by the caller).
 */
function mixedBatch(p: string) {
  return [
    event(`${p}-1`, 1),
    event(`${p}-2`, 2),
    event(`${p}-2`, 3),
    event(`${p}-bad-name`, 4, { name: "offer viewed!" }),
    event(`${p}-future`, 5, { occurredAt: new Date(Date.now() + 3 * 24 * HOUR).toISOString() }),
    event(`${p}-no-subject`, 6, { subjectId: "" }),
    event(`${p}-bad-key`, 7, { attributes: { "1st": "x" } }),
    event(`${p}-3`, 8),
    event(`${p}-stored`, 9),
  ];
}

/** What svc-insights and the edge say of mixedBatch's invalid items (the fields as clients name them). */
const MIXED_REJECTED = (p: string) => [
  { index: 3, id: `${p}-bad-name`, field: "name" },
  { index: 4, id: `${p}-future`, field: "occurredAt" },
  { index: 5, id: `${p}-no-subject`, field: "subjectId" },
  { index: 6, id: `${p}-bad-key`, field: "attributes[1st]" },
];

const withoutReasons = (r: Report) => ({ ...r, rejected: r.rejected.map(({ index, id, field }) => ({ index, id, field })) });

const prefixed = (ids: string[], p: string) => ids.filter((id) => id.startsWith(`${p}-`));

describe("insights ingestion through the edge", function () {
  this.timeout(120_000);
  let s: InsightsStack;
  let writer: string;

  before(async () => {
    s = await getInsightsStack();
    writer = await s.createKey("a", ["events:write"]);
  });

  const expectError = (res: EventsResponse, status: number, code: string) => {
    expect(res.status, JSON.stringify(res.body)).to.equal(status);
    expect(res.body.errors?.[0]?.extensions.code).to.equal(code);
    expect(res.body.accepted).to.equal(undefined);
  };

  describe("GraphQL ingestEvents", () => {
    it("reports exact accepted/duplicate/rejected counts, stores only the valid new events, and stores nothing when the batch is sent again", async () => {
      const p = unique("gql");
      const admin = s.a.users.admin;
      const first = dataOf<Report>(await s.ias(admin, INGEST, { e: [event(`${p}-stored`, 9)] }), "ingestEvents");
      expect(first).to.deep.equal({ accepted: 1, duplicates: 0, rejected: [] });

      const batch = mixedBatch(p);
      const report = dataOf<Report>(await s.ias(admin, INGEST, { e: batch }), "ingestEvents");
      expect(withoutReasons(report)).to.deep.equal({ accepted: 3, duplicates: 2, rejected: MIXED_REJECTED(p) });
      expect(report.rejected.map((r) => r.reason).every((r) => r.length > 0)).to.equal(true);
      expect(report.accepted + report.duplicates + report.rejected.length).to.equal(batch.length);
      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([`${p}-1`, `${p}-2`, `${p}-3`, `${p}-stored`]);

      const again = dataOf<Report>(await s.ias(admin, INGEST, { e: batch }), "ingestEvents");
      expect(withoutReasons(again)).to.deep.equal({ accepted: 0, duplicates: 5, rejected: MIXED_REJECTED(p) });
      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([`${p}-1`, `${p}-2`, `${p}-3`, `${p}-stored`]);

      // The attributes come back as sent, with their kinds.
      const name = `attrs.${p}`;
      dataOf(await s.ias(admin, INGEST, { e: [event(`${p}-attrs`, 1, { name, attributes: { campaign: "summer", price: 12.5, member: true, one: "1" } })] }), "ingestEvents");
      const listed = await s.ias(admin, `query($n: String) { events(name: $n) { nodes { id attributes } } }`, { n: name });
      expect(dataOf<{ nodes: unknown[] }>(listed, "events").nodes).to.deep.equal([{ id: `${p}-attrs`, attributes: { campaign: "summer", price: 12.5, member: true, one: "1" } }]);
    });

    it("takes at most 100 events a call (BAD_USER_INPUT on events) and stores none of a larger batch", async () => {
      const p = unique("gql-big");
      const batch = Array.from({ length: 101 }, (_, i) => event(`${p}-${i}`, i));
      const res = await s.ias(s.a.users.admin, INGEST, { e: batch });
      expect(res.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "events" });
      expect(res.body.errors?.[0]?.message).to.match(/at most 100 events.*POST \/v1\/events/);
      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([]);
    });

    it("refuses a whole call whose values do not fit the schema (an unparsable time, an attribute that is an object) and stores nothing", async () => {
      const p = unique("gql-type");
      const badTime = await s.ias(s.a.users.admin, INGEST, { e: [event(`${p}-1`), { ...event(`${p}-2`), occurredAt: "yesterday" }] });
      expect(badTime.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "occurredAt" });
      const badValue = await s.ias(s.a.users.admin, INGEST, { e: [event(`${p}-3`, 1, { attributes: { nested: { a: 1 } } })] });
      expect(badValue.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "attributes" });
      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([]);
    });

    it("writes one audit record per call", async () => {
      const p = unique("gql-audit");
      const before = s.audited.length;
      dataOf(await s.ias(s.a.users.admin, INGEST, { e: [event(`${p}-1`), event(`${p}-2`)] }), "ingestEvents");
      await s.flushAudit();
      const records = s.audited.slice(before).filter((e) => e.action === "ingestEvents");
      expect(records).to.have.length(1);
      expect(records[0]).to.include({ tenantId: s.a.id, principal: `user:${s.a.users.admin.id}` });
      expect(outcomeName(records[0]!.outcome)).to.equal("ok");
    });
  });

  describe("POST /v1/events", () => {
    it("reports exact counts for a JSON array with duplicates, invalid and malformed items, stores only the valid new ones, and nothing when sent again", async () => {
      const p = unique("rest");
      expect((await s.postEvents(JSON.stringify([event(`${p}-stored`, 9)]), { caller: { apiKey: writer } })).body).to.deep.equal({ accepted: 1, duplicates: 0, rejected: [] });
      // Items the edge rejects for their shape, interleaved with the service's rejections: indexes stay the body's.
      const batch: unknown[] = [...mixedBatch(p), "not an event", { ...event(`${p}-num-id`), id: 42 }, { ...event(`${p}-extra`), colour: "red" }, event(`${p}-null-attr`, 1, { attributes: { a: null } }), event(`${p}-4`, 10)];
      const res = await s.postEvents(JSON.stringify(batch), { caller: { apiKey: writer } });
      expect(res.status).to.equal(200);
      expect(res.headers.get("content-type")).to.match(/^application\/json/);
      expect(res.headers.get("x-apgms-tenant")).to.equal(s.a.id);
      expect(res.headers.get("ratelimit")).to.match(/"principal";r=\d+/);
      const report = res.body as Report;
      expect(withoutReasons(report)).to.deep.equal({
        accepted: 4,
        duplicates: 2,
        rejected: [
          ...MIXED_REJECTED(p),
          { index: 9, id: "", field: "" },
          { index: 10, id: "", field: "id" },
          { index: 11, id: `${p}-extra`, field: "colour" },
          { index: 12, id: `${p}-null-attr`, field: "attributes[a]" },
        ],
      });
      expect(report.rejected.find((r) => r.index === 10)?.reason).to.equal("must be a string, not number");
      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([`${p}-1`, `${p}-2`, `${p}-3`, `${p}-4`, `${p}-stored`]);

      const again = await s.postEvents(JSON.stringify(batch), { caller: { apiKey: writer } });
      expect(withoutReasons(again.body as Report)).to.deep.include({ accepted: 0, duplicates: 6 });
      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([`${p}-1`, `${p}-2`, `${p}-3`, `${p}-4`, `${p}-stored`]);
    });

    it('takes {"events": [...]}, NDJSON (blank lines and CRLF skipped) and gzip of either, with the same report', async () => {
      const p = unique("rest-forms");
      const send = (body: string | Buffer, contentType: string, encoding?: string) => s.postEvents(body, { caller: { apiKey: writer }, contentType, encoding });

      const wrapped = await send(JSON.stringify({ events: [event(`${p}-w1`), event(`${p}-w1`), event(`${p}-w2`)] }), "application/json");
      expect(wrapped.body).to.deep.equal({ accepted: 2, duplicates: 1, rejected: [] });

      const lines = [event(`${p}-n1`), event(`${p}-n2`, 2, { name: "bad name" }), event(`${p}-w2`), event(`${p}-n3`)].map((e) => JSON.stringify(e));
      const ndjson = `${lines[0]}\r\n\r\n${lines[1]}\n   \n${lines[2]}\n${lines[3]}\n`;
      const nd = await send(ndjson, "application/x-ndjson");
      expect(withoutReasons(nd.body as Report)).to.deep.equal({ accepted: 2, duplicates: 1, rejected: [{ index: 1, id: `${p}-n2`, field: "name" }] });

      const gzJson = await send(gzipSync(JSON.stringify([event(`${p}-g1`), event(`${p}-n1`)])), "application/json", "gzip");
      expect(gzJson.body).to.deep.equal({ accepted: 1, duplicates: 1, rejected: [] });
      const gzNd = await send(gzipSync([event(`${p}-g2`), event(`${p}-g3`)].map((e) => JSON.stringify(e)).join("\n")), "application/x-ndjson; charset=utf-8", "gzip");
      expect(gzNd.body).to.deep.equal({ accepted: 2, duplicates: 0, rejected: [] });

      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([`${p}-g1`, `${p}-g2`, `${p}-g3`, `${p}-n1`, `${p}-n3`, `${p}-w1`, `${p}-w2`].sort());
    });

    it("answers the documented errors for bodies over a limit or malformed, and stores nothing from them", async () => {
      const p = unique("rest-limits");
      const caller = { apiKey: writer };
      const valid = (n: number, from = 0) => Array.from({ length: n }, (_, i) => event(`${p}-${from + i}`, i % 500));

      const tooMany = await s.postEvents(JSON.stringify(valid(5_001)), { caller });
      expectError(tooMany, 413, "TOO_MANY_EVENTS");
      expect(tooMany.body.errors?.[0]?.extensions.limit).to.equal(5_000);
      const tooManyLines = await s.postEvents(valid(5_001).map((e) => JSON.stringify(e)).join("\n"), { caller, contentType: "application/x-ndjson" });
      expectError(tooManyLines, 413, "TOO_MANY_EVENTS");

      // Over 5 MiB on the wire: a long attribute value makes each event big.
      const big = valid(300).map((e) => ({ ...e, attributes: { note: "x".repeat(20_000) } }));
      expectError(await s.postEvents(JSON.stringify(big), { caller }), 413, "REQUEST_ENTITY_TOO_LARGE");
      // A gzip bomb: 64 MiB of spaces is 64 KiB compressed; inflation stops at 20 MiB.
      const bomb = gzipSync(Buffer.concat([Buffer.from(JSON.stringify(valid(1, 9_000)).slice(0, -1)), Buffer.alloc(64 * 1024 * 1024, " "), Buffer.from("]")]));
      expect(bomb.length).to.be.below(1024 * 1024);
      const bombed = await s.postEvents(bomb, { caller, encoding: "gzip" });
      expectError(bombed, 413, "REQUEST_ENTITY_TOO_LARGE");
      expect(bombed.body.errors?.[0]?.message).to.match(/decompressed body is over 20 MiB/);

      // Within both byte limits once gzipped, but more than one gRPC message carries (8 MiB): 170 events of 50 attributes of 1,000 characters.
      const wide = Array.from({ length: 170 }, (_, i) => event(`${p}-wide-${i}`, i, { attributes: Object.fromEntries(Array.from({ length: 50 }, (_, k) => [`k${k}`, "y".repeat(1_000)])) }));
      const widened = await s.postEvents(gzipSync(JSON.stringify(wide)), { caller, encoding: "gzip" });
      expectError(widened, 413, "REQUEST_ENTITY_TOO_LARGE");
      expect(widened.body.errors?.[0]?.message).to.match(/^these events encode to \d+ bytes/);
      expectError(await s.postEvents(Buffer.from("this is not gzip"), { caller, encoding: "gzip" }), 400, "INVALID_GZIP");
      const badLine = await s.postEvents([JSON.stringify(event(`${p}-l1`)), JSON.stringify(event(`${p}-l2`)), '{"id": "broken",', JSON.stringify(event(`${p}-l4`))].join("\n"), { caller, contentType: "application/x-ndjson" });
      expectError(badLine, 400, "INVALID_NDJSON");
      expect(badLine.body.errors?.[0]?.extensions.line).to.equal(3);
      expect(badLine.body.errors?.[0]?.message).to.match(/^line 3 is not valid JSON/);
      expectError(await s.postEvents(`[${JSON.stringify(event(`${p}-j1`))},`, { caller }), 400, "INVALID_JSON");
      expectError(await s.postEvents(JSON.stringify({ items: [event(`${p}-j2`)] }), { caller }), 400, "INVALID_JSON");
      expectError(await s.postEvents("[]", { caller }), 400, "NO_EVENTS");
      expectError(await s.postEvents("\n\n", { caller, contentType: "application/x-ndjson" }), 400, "NO_EVENTS");
      expectError(await s.postEvents(JSON.stringify([event(`${p}-t1`)]), { caller, contentType: "text/plain" }), 415, "UNSUPPORTED_MEDIA_TYPE");
      expectError(await s.postEvents(JSON.stringify([event(`${p}-t2`)]), { caller, encoding: "br" }), 415, "UNSUPPORTED_MEDIA_TYPE");
      const get = await fetch(`${s.insightsUrl}/v1/events`, { headers: { "x-api-key": writer } });
      expect(get.status).to.equal(405);
      expect(get.headers.get("allow")).to.equal("POST");

      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([]);
    });

    it("writes one audit record per call, with its counts and never its events", async () => {
      const p = unique("rest-audit");
      const before = s.audited.length;
      const res = await s.postEvents(gzipSync(JSON.stringify([event(`${p}-1`), event(`${p}-1`), event(`${p}-x`, 1, { name: "no good" })])), { caller: { apiKey: writer }, encoding: "gzip" });
      expect(res.status).to.equal(200);
      expectError(await s.postEvents("[", { caller: { apiKey: writer } }), 400, "INVALID_JSON");
      await s.flushAudit();
      const records = s.audited.slice(before).filter((e) => e.action === "ingestEvents");
      expect(records).to.have.length(2);
      expect(outcomeName(records[0]!.outcome)).to.equal("ok");
      expect(records[0]!.tenantId).to.equal(s.a.id);
      expect(records[0]!.principal).to.match(/^apiKey:/);
      expect(records[0]!.details).to.deep.include({ via: "POST /v1/events", format: "json", gzip: "true", events: "3", accepted: "1", duplicates: "1", rejected: "1" });
      expect(JSON.stringify(records[0])).to.not.include(p);
      expect(outcomeName(records[1]!.outcome)).to.equal("refused");
      expect(records[1]!.errorCodes).to.deep.equal(["INVALID_JSON"]);
    });

    it("is rate limited like the rest of the edge: 1 point a call plus 1 per 10 events, then 429 with Retry-After, storing nothing", async () => {
      const p = unique("rest-rate");
      const key = await s.createKey("a", ["events:write"]);
      const { app, url } = await startEdge({
        issuerUrl: s.issuerUrl,
        audience: AUDIENCE,
        identity: s.identity,
        insights: undefined,
        redis: s.redis,
        config: { NODE_ENV: "test", IDENTITY_GRPC_ADDRESS: s.identityAddress, RATE_LIMIT_PLANS: { standard: { principal: 25, tenant: 1_000_000 } } },
      });
      try {
        // No svc-insights behind this edge: refusals come first, and a call that was admitted answers 503.
        const post = (events: unknown[]) =>
          fetch(`${url}/v1/events`, { method: "POST", headers: { "content-type": "application/json", "x-api-key": key }, body: JSON.stringify(events) });
        const first = await post(Array.from({ length: 100 }, (_, i) => event(`${p}-${i}`))); // 11 points
        expect(first.status).to.equal(503);
        expect(first.headers.get("ratelimit")).to.match(/"principal";r=14;/);
        const second = await post(Array.from({ length: 100 }, (_, i) => event(`${p}-b${i}`))); // 11 more: 3 left
        expect(second.status).to.equal(503);
        const refused = await post(Array.from({ length: 100 }, (_, i) => event(`${p}-c${i}`)));
        expect(refused.status).to.equal(429);
        expect(Number(refused.headers.get("retry-after"))).to.be.within(1, 60);
        expect(((await refused.json()) as EventsResponse["body"]).errors?.[0]?.extensions.code).to.equal("RATE_LIMITED");
      } finally {
        await app.close();
      }
      expect(prefixed(await s.storedIds(s.a.id), p)).to.deep.equal([]);
    });
  });

  it("answers SERVICE_UNAVAILABLE while svc-insights is down, through GraphQL and POST /v1/events, and the rest of the edge keeps working", async () => {
    const shared = s.url; // the shared edge has no svc-insights
    const token = s.tokenOf(s.a.users.admin);
    const gql = await fetch(`${shared}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: INGEST, variables: { e: [event(unique("down"))] } }),
    });
    const body = (await gql.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(body.errors?.[0]?.extensions?.code).to.equal("SERVICE_UNAVAILABLE");
    const rest = await fetch(`${shared}/v1/events`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify([event(unique("down"))]) });
    expect(rest.status).to.equal(503);
    expect(rest.headers.get("retry-after")).to.equal("1");
    expect(errorCode(await s.as(s.a.users.admin, "{ me { kind } }"))).to.equal(undefined);
  });
});
