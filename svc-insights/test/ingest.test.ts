import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import type { Event } from "@apgms/proto/apgms/insights/v1/event";
import { expect } from "chai";
import { expectError, startHarness, type Harness } from "./harness.js";
import { rng, pick, toProto, type TestEvent } from "./events.js";

const HOUR = 3_600_000;

describe("IngestEvents", function () {
  this.timeout(120_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("insights_ingest");
  });
  after(async () => {
    await h?.stop();
  });

  const now = Date.now();
  const ev = (id: string, extra: Partial<TestEvent> = {}): Event =>
    toProto({ id, name: "offer.viewed", t: now - HOUR, subject: "s-1", attributes: { campaign: "spring", price: 12.5, member: true }, ...extra });

  /** What the owner sees of a tenant: its events and attributes, and the rollups' totals. */
  async function stored(tenantId: string) {
    const events = await h.prisma.event.findMany({ where: { tenantId }, orderBy: { id: "asc" } });
    const attributes = await h.prisma.eventAttribute.findMany({ where: { tenantId }, orderBy: [{ eventId: "asc" }, { key: "asc" }] });
    const counts = await h.prisma.rollupCount.aggregate({ where: { tenantId }, _sum: { count: true } });
    const sums = await h.prisma.rollupSum.findMany({ where: { tenantId } });
    const dims = await h.prisma.rollupDimension.aggregate({ where: { tenantId }, _sum: { count: true } });
    const subjects = await h.prisma.subjectBucket.count({ where: { tenantId } });
    return { events, attributes, counted: Number(counts._sum.count ?? 0), sums, dimensionCount: Number(dims._sum.count ?? 0), subjects };
  }

  it("stores a batch's valid new events, counts duplicates, and rejects each invalid item with its index and reason", async () => {
    const t = h.tenant();
    // One event stored beforehand: sending it again is a duplicate.
    expect(await h.events.ingestEvents({ events: [ev("old")] }, t.ctx)).to.deep.equal({ accepted: 1, duplicates: 0, rejected: [] });
    const batch: Event[] = [
      ev("a"),
      ev("old"), // stored before
      ev("b", { name: "bad name!" }),
      ev("a"), // repeated in the batch
      ev("c", { subject: "s-2", attributes: { campaign: "summer" } }),
      ev("", {}),
      ev("d", { t: now + 25 * HOUR }),
      ev("e", { attributes: { "1st": "x" } }),
      ev("f", { attributes: { big: "x".repeat(1_001) } }),
      ev("g", { attributes: { n: Number.NaN } }),
      ev("h", { subject: "" }),
      { ...ev("i"), occurTime: undefined },
      { ...ev("j"), attributes: { empty: {} } },
      ev("k", { attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, i])) }),
      ev("l", { t: Date.UTC(1999, 11, 31) }),
      ev("x".repeat(129)),
      ev("m", { attributes: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, i])) }),
    ];
    const res = await h.events.ingestEvents({ events: batch }, t.ctx);
    expect(res.accepted).to.equal(3); // a, c, m
    expect(res.duplicates).to.equal(2); // old, the second a
    expect(res.rejected.map((r) => [r.index, r.id, r.field])).to.deep.equal([
      [2, "b", "name"],
      [5, "", "id"],
      [6, "d", "occur_time"],
      [7, "e", "attributes[1st]"],
      [8, "f", "attributes[big]"],
      [9, "g", "attributes[n]"],
      [10, "h", "subject_id"],
      [11, "i", "occur_time"],
      [12, "j", "attributes[empty]"],
      [13, "k", "attributes"],
      [14, "l", "occur_time"],
      [15, "x".repeat(129), "id"],
    ]);
    expect(res.rejected[2]!.reason).to.include("24 hours ahead");
    expect(res.rejected[4]!.reason).to.include("1000 characters");
    expect(res.accepted + res.duplicates + res.rejected.length).to.equal(batch.length);

    const s = await stored(t.tenantId);
    expect(s.events.map((e) => e.id)).to.deep.equal(["a", "c", "m", "old"]);
    const a = s.events.find((e) => e.id === "a")!;
    expect(a).to.deep.include({ name: "offer.viewed", subjectId: "s-1" });
    expect(a.occurredAt.getTime()).to.equal(now - HOUR);
    expect(s.attributes.filter((x) => x.eventId === "a").map((x) => [x.key, x.type, x.stringValue, x.numberValue, x.boolValue])).to.deep.equal([
      ["campaign", "string", "spring", null, null],
      ["member", "boolean", null, null, true],
      ["price", "number", null, 12.5, null],
    ]);
    expect(s.attributes.filter((x) => x.eventId === "m")).to.have.length(50);
    // Rollups hold exactly the stored events.
    expect(s.counted).to.equal(4);
    expect(s.sums.filter((x) => x.key === "price").reduce((n, x) => n + x.sum, 0)).to.equal(12.5 * 2); // old and a
    expect(s.dimensionCount).to.equal(3); // campaign: old, a, c (m has none)
    expect(s.subjects).to.equal(2); // s-1 and s-2, all in one 15-minute bucket
  });

  it("stores nothing new when a whole batch is sent again: every valid item is a duplicate, rollups unchanged", async () => {
    const t = h.tenant();
    const r = rng(7);
    const batch = Array.from({ length: 300 }, (_, i) =>
      ev(`e-${i}`, { name: pick(r, ["offer.viewed", "offer.clicked"]), t: now - Math.floor(r() * 48 * HOUR), subject: `s-${Math.floor(r() * 40)}`, attributes: { campaign: pick(r, ["a", "b"]), amount: i } }),
    );
    batch.push(ev("bad", { name: "" }));
    const first = await h.events.ingestEvents({ events: batch }, t.ctx);
    expect(first).to.deep.include({ accepted: 300, duplicates: 0 });
    const before = await stored(t.tenantId);
    const again = await h.events.ingestEvents({ events: batch }, t.ctx);
    expect(again.accepted).to.equal(0);
    expect(again.duplicates).to.equal(300);
    expect(again.rejected.map((x) => x.index)).to.deep.equal([300]);
    const after = await stored(t.tenantId);
    expect(after).to.deep.equal(before);
    expect(after.counted).to.equal(300);
    expect(after.sums.reduce((n, x) => n + x.sum, 0)).to.equal((299 * 300) / 2);
  });

  it("refuses a batch over 5,000 events, or an empty one, as a whole with INVALID_ARGUMENT, storing nothing", async () => {
    const t = h.tenant();
    const big = Array.from({ length: 5_001 }, (_, i) => ev(`e-${i}`));
    const err = await expectError(h.events.ingestEvents({ events: big }, t.ctx), status.INVALID_ARGUMENT, "events");
    expect(err.details).to.include("at most 5000 events");
    await expectError(h.events.ingestEvents({ events: [] }, t.ctx), status.INVALID_ARGUMENT, "events");
    expect(await h.prisma.event.count({ where: { tenantId: t.tenantId } })).to.equal(0);
    // 5,000 is allowed.
    const res = await h.events.ingestEvents({ events: big.slice(0, 5_000) }, t.ctx);
    expect(res).to.deep.equal({ accepted: 5_000, duplicates: 0, rejected: [] });
  });

  it("lets concurrent batches upsert the same rollup rows (and race on the same ids) without deadlock or double counting", async () => {
    const t = h.tenant();
    const r = rng(11);
    // 8 batches of 400 events over the same 4 buckets, names and values; every batch shares 100 ids with the next.
    const batches = Array.from({ length: 8 }, (_, b) =>
      Array.from({ length: 400 }, (_, i) => {
        const n = b * 300 + i;
        return ev(`e-${n}`, { name: pick(r, ["v", "c"]), t: now - HOUR + Math.floor(r() * 4) * 15 * 60_000, subject: `s-${n % 50}`, attributes: { campaign: pick(r, ["x", "y", "z"]), amount: 1 } });
      }).sort(() => r() - 0.5),
    );
    const results = await Promise.all(batches.map((events) => h.events.ingestEvents({ events }, t.ctx)));
    const distinct = 7 * 300 + 400;
    expect(results.reduce((n, x) => n + x.accepted, 0)).to.equal(distinct);
    expect(results.reduce((n, x) => n + x.duplicates, 0)).to.equal(8 * 400 - distinct);
    const s = await stored(t.tenantId);
    expect(s.events).to.have.length(distinct);
    expect(s.counted).to.equal(distinct);
    expect(s.dimensionCount).to.equal(distinct);
    expect(s.sums.reduce((n, x) => n + x.sum, 0)).to.equal(distinct);
  });

  it("keeps tenants apart: the same ids in another tenant are new events, and each tenant's rows stay its own", async () => {
    const a = h.tenant();
    const b = h.tenant();
    const events = [ev("shared-1"), ev("shared-2")];
    expect((await h.events.ingestEvents({ events }, a.ctx)).accepted).to.equal(2);
    expect((await h.events.ingestEvents({ events }, b.ctx)).accepted).to.equal(2);
    for (const tenantId of [a.tenantId, b.tenantId]) {
      const s = await stored(tenantId);
      expect(s.events.map((e) => e.id)).to.deep.equal(["shared-1", "shared-2"]);
      expect(s.counted).to.equal(2);
    }
    const listed = await h.events.listEvents({ page: undefined, filter: undefined }, b.ctx);
    expect(listed.events.map((e) => e.id).sort()).to.deep.equal(["shared-1", "shared-2"]);
  });

  it("stores texts with quotes, backslashes, braces, commas, NULL, newlines and non-ASCII exactly as sent", async () => {
    const t = h.tenant();
    const odd = ['say "hi"', "back\\slash\\", "{a,b}", "NULL", "", "line\nbreak\ttab", "naïve 東京 🎉", " padded "];
    const events = odd.map((v, i) => ev(`odd-${i}-"{\\,}`, { subject: `sub "${i}" \\ {x,y}`, attributes: { text: v, n: i === 0 ? 1e21 : i === 1 ? -2.5e-7 : i } }));
    expect((await h.events.ingestEvents({ events }, t.ctx)).accepted).to.equal(odd.length);
    const listed = await h.events.listEvents({ page: { pageSize: 50, pageToken: "" }, filter: undefined }, t.ctx);
    const byId = new Map(listed.events.map((e) => [e.id, e]));
    for (const [i, v] of odd.entries()) {
      const e = byId.get(`odd-${i}-"{\\,}`)!;
      expect(e, v).to.not.equal(undefined);
      expect(e.subjectId).to.equal(`sub "${i}" \\ {x,y}`);
      expect(e.attributes.text!.stringValue).to.equal(v);
      expect(e.attributes.n!.numberValue).to.equal(i === 0 ? 1e21 : i === 1 ? -2.5e-7 : i);
    }
  });

  it("refuses a call without a tenant", async () => {
    await expectError(h.events.ingestEvents({ events: [ev("x")] }, { context: { requestId: randomUUID() } }), status.UNAUTHENTICATED);
  });
});
