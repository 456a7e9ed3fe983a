import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { CodeKind, type CreateOfferRequest, type Offer, type UpdateOfferRequest } from "@apgms/proto/apgms/billing/v1/offer";
import { expect } from "chai";
import { TenantReader } from "@apgms/common";
import { readCampaign } from "../src/db/campaigns.js";
import { APP_ROLE } from "../src/db/client.js";
import { readOffer } from "../src/db/offers.js";
import { campaignRow, offerRow } from "../src/db/rows.js";
import { expectError, startHarness, type Harness } from "./harness.js";

const HOUR = 3_600_000;
const eur = (amountMinor: number) => ({ amountMinor, currency: "EUR" });
const usd = (amountMinor: number) => ({ amountMinor, currency: "USD" });

describe("OfferService", function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("billing_offers");
  });
  after(async () => h?.stop());

  type Ctx = ReturnType<Harness["tenant"]>["ctx"];

  async function campaign(ctx: Ctx, currency = "EUR"): Promise<string> {
    const { campaign } = await h.campaigns.createCampaign({ name: "C", description: "", currency, budget: undefined, startTime: undefined, endTime: undefined }, ctx);
    return campaign!.id;
  }

  const offerRequest = (campaignId: string, extra: Partial<CreateOfferRequest> = {}): CreateOfferRequest => ({
    campaignId,
    name: "Ten percent",
    value: { percentOffBps: 1_000, maxDiscount: undefined },
    codeKind: CodeKind.CODE_KIND_NONE,
    sharedCode: "",
    maxRedemptions: 0,
    maxPerCustomer: 0,
    minOrder: undefined,
    startTime: undefined,
    endTime: undefined,
    ...extra,
  });

  async function offer(ctx: Ctx, campaignId: string, extra: Partial<CreateOfferRequest> = {}): Promise<Offer> {
    return (await h.offers.createOffer(offerRequest(campaignId, extra), ctx)).offer!;
  }

  const update = (offerId: string, extra: Partial<UpdateOfferRequest>): UpdateOfferRequest => ({
    offerId,
    startTime: undefined,
    endTime: undefined,
    clearEndTime: false,
    ...extra,
  });

  it("creates percentage and fixed-amount offers, their money in the campaign's currency, and reads them back", async () => {
    const t = h.tenant();
    const c = await campaign(t.ctx);
    const start = new Date(Date.now() + HOUR);
    const pct = await offer(t.ctx, c, { value: { percentOffBps: 2_500, maxDiscount: eur(1_000) }, minOrder: eur(2_000), maxRedemptions: 100, maxPerCustomer: 2, startTime: start });
    expect(pct).to.include({ campaignId: c, tenantId: t.tenantId, name: "Ten percent", codeKind: CodeKind.CODE_KIND_NONE, maxRedemptions: 100, maxPerCustomer: 2, enabled: true, redemptionCount: 0 });
    expect(pct.value).to.deep.equal({ percentOffBps: 2_500, amountOff: undefined, maxDiscount: eur(1_000) });
    expect(pct.minOrder).to.deep.equal(eur(2_000));
    expect(pct.startTime?.getTime()).to.equal(start.getTime());
    const fixed = await offer(t.ctx, c, { name: "Five off", value: { amountOff: eur(500), maxDiscount: undefined } });
    expect(fixed.value).to.deep.equal({ percentOffBps: undefined, amountOff: eur(500), maxDiscount: undefined });

    expect((await h.offers.getOffer({ offerId: pct.id }, t.ctx)).offer).to.deep.equal(pct);
    const { offers } = await h.offers.batchGetOffers({ offerIds: [fixed.id, randomUUID(), pct.id] }, t.ctx);
    expect(offers).to.deep.equal([fixed, pct]);
    const stored = await h.prisma.offer.findUniqueOrThrow({ where: { tenantId_id: { tenantId: t.tenantId, id: pct.id } } });
    expect(stored).to.include({ valueKind: "percent", percentBps: 2_500, maxDiscountMinor: 1_000n, minOrderMinor: 2_000n });
  });

  it("reads rows through TenantReader exactly as Prisma's rows map (db/rows.ts): what the cache holds", async () => {
    const t = h.tenant();
    const c = await campaign(t.ctx);
    const end = new Date(Date.now() + HOUR);
    await h.campaigns.updateCampaign({ campaignId: c, budget: { spendMinor: 9_000 }, clearBudget: false, startTime: new Date(0), endTime: end, clearEndTime: false }, t.ctx);
    await h.prisma.campaign.update({ where: { tenantId_id: { tenantId: t.tenantId, id: c } }, data: { spentMinor: 1_234n, refundedMinor: 5n, redemptionCount: 7n, thresholdNotified: 50 } });
    const o = await offer(t.ctx, c, { codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: "ROWS", value: { percentOffBps: 700, maxDiscount: eur(99) }, minOrder: eur(1), endTime: end });
    const reader = new TenantReader({ databaseUrl: h.db.urlAs(APP_ROLE), max: 1 });
    try {
      const q = <R>(text: string, values?: unknown[]) => reader.query<R>(t.tenantId, text, values);
      const prismaCampaign = await h.prisma.campaign.findUniqueOrThrow({ where: { tenantId_id: { tenantId: t.tenantId, id: c } } });
      expect(await readCampaign(q, t.tenantId, c)).to.deep.equal(campaignRow(prismaCampaign));
      const prismaOffer = await h.prisma.offer.findUniqueOrThrow({ where: { tenantId_id: { tenantId: t.tenantId, id: o.id } } });
      expect(await readOffer(q, t.tenantId, o.id)).to.deep.equal(offerRow(prismaOffer, "ROWS"));
    } finally {
      await reader.close();
    }
  });

  it("refuses money in another currency than the campaign's, naming the field, and creates nothing", async () => {
    const t = h.tenant();
    const c = await campaign(t.ctx);
    await expectError(h.offers.createOffer(offerRequest(c, { value: { amountOff: usd(500), maxDiscount: undefined } }), t.ctx), status.INVALID_ARGUMENT, "value.amount_off.currency");
    await expectError(h.offers.createOffer(offerRequest(c, { value: { percentOffBps: 100, maxDiscount: usd(500) } }), t.ctx), status.INVALID_ARGUMENT, "value.max_discount.currency");
    const err = await expectError(h.offers.createOffer(offerRequest(c, { minOrder: usd(500) }), t.ctx), status.INVALID_ARGUMENT, "min_order.currency");
    expect(err.details).to.equal("min_order.currency: must be the campaign's currency, EUR (not USD)");
    expect(await h.prisma.offer.count({ where: { tenantId: t.tenantId } })).to.equal(0);
  });

  it("refuses bad input naming the field", async () => {
    const t = h.tenant();
    const c = await campaign(t.ctx);
    const bad = (extra: Partial<CreateOfferRequest>, field: string) => expectError(h.offers.createOffer(offerRequest(c, extra), t.ctx), status.INVALID_ARGUMENT, field);
    await bad({ name: "" }, "name");
    await bad({ value: undefined }, "value");
    await bad({ value: { maxDiscount: undefined } }, "value");
    await bad({ value: { percentOffBps: 0, maxDiscount: undefined } }, "value.percent_off_bps");
    await bad({ value: { percentOffBps: 10_001, maxDiscount: undefined } }, "value.percent_off_bps");
    await bad({ value: { amountOff: eur(0), maxDiscount: undefined } }, "value.amount_off.amount_minor");
    await bad({ value: { amountOff: eur(100), maxDiscount: eur(50) } }, "value.max_discount");
    await bad({ minOrder: eur(-5) }, "min_order.amount_minor");
    await bad({ codeKind: CodeKind.CODE_KIND_UNSPECIFIED }, "code_kind");
    await bad({ codeKind: CodeKind.CODE_KIND_SHARED }, "shared_code");
    await bad({ codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: "AB" }, "shared_code");
    await bad({ codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: "SUMMER 10" }, "shared_code");
    await bad({ codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: "X".repeat(65) }, "shared_code");
    await bad({ codeKind: CodeKind.CODE_KIND_NONE, sharedCode: "SUMMER10" }, "shared_code");
    await bad({ maxRedemptions: -1 }, "max_redemptions");
    await bad({ maxPerCustomer: -1 }, "max_per_customer");
    await bad({ startTime: new Date(Date.now() + 2 * HOUR), endTime: new Date(Date.now() + HOUR) }, "end_time");
    await bad({ campaignId: "x" }, "campaign_id");
    expect(await h.prisma.offer.count({ where: { tenantId: t.tenantId } })).to.equal(0);
  });

  it("adds no offer to an ENDED campaign", async () => {
    const t = h.tenant();
    const c = await campaign(t.ctx);
    await h.campaigns.endCampaign({ campaignId: c }, t.ctx);
    const err = await expectError(h.offers.createOffer(offerRequest(c), t.ctx), status.FAILED_PRECONDITION);
    expect(err.details).to.equal(`campaign ${c} is ENDED: cannot add offers to it`);
    expect(await h.prisma.offer.count({ where: { tenantId: t.tenantId } })).to.equal(0);
  });

  it("a shared code is stored upper-case, found case-insensitively, and unique in its tenant only", async () => {
    const t = h.tenant();
    const c = await campaign(t.ctx);
    const shared = await offer(t.ctx, c, { codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: " summer-10_x " });
    expect(shared).to.include({ codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: "SUMMER-10_X", codeCount: 0, codesAvailable: 0 });
    const byCode = await h.offers.getOfferByCode({ code: "Summer-10_x" }, t.ctx);
    expect(byCode.offer).to.deep.equal(shared);
    expect(byCode.code).to.equal(undefined);
    expect(await h.prisma.code.findMany({ where: { tenantId: t.tenantId } })).to.have.length(1);

    const taken = await expectError(h.offers.createOffer(offerRequest(c, { codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: "SUMMER-10_x" }), t.ctx), status.ALREADY_EXISTS, "shared_code");
    expect(taken.details).to.match(/SUMMER-10_X is already a code of this tenant/);
    expect(await h.prisma.offer.count({ where: { tenantId: t.tenantId } })).to.equal(1);

    const other = h.tenant();
    const theirs = await offer(other.ctx, await campaign(other.ctx), { codeKind: CodeKind.CODE_KIND_SHARED, sharedCode: "SUMMER-10_X" });
    expect((await h.offers.getOfferByCode({ code: "summer-10_x" }, other.ctx)).offer?.id).to.equal(theirs.id);
    expect((await h.offers.getOfferByCode({ code: "summer-10_x" }, t.ctx)).offer?.id).to.equal(shared.id);
    await expectError(h.offers.getOfferByCode({ code: "WINTER" }, t.ctx), status.NOT_FOUND);
    await expectError(h.offers.getOfferByCode({ code: "" }, t.ctx), status.INVALID_ARGUMENT, "code");
  });

  it("UpdateOffer never lowers a limit below what is used (0 lifts it) and checks the window", async () => {
    const t = h.tenant();
    const c = await campaign(t.ctx);
    const o = await offer(t.ctx, c, { maxRedemptions: 10, maxPerCustomer: 5 });
    await h.prisma.offer.update({ where: { tenantId_id: { tenantId: t.tenantId, id: o.id } }, data: { redemptionCount: 4n } });
    await h.prisma.customerRedemption.create({ data: { tenantId: t.tenantId, offerId: o.id, customerRef: "cust-1", count: 3n } });

    const low = await expectError(h.offers.updateOffer(update(o.id, { maxRedemptions: 3 }), t.ctx), status.FAILED_PRECONDITION);
    expect(low.details).to.equal(`max_redemptions: 3 is less than the 4 redemptions offer ${o.id} already has`);
    const perCustomer = await expectError(h.offers.updateOffer(update(o.id, { maxPerCustomer: 2 }), t.ctx), status.FAILED_PRECONDITION);
    expect(perCustomer.details).to.match(/max_per_customer: 2 is less than the 3 redemptions one customer already has/);
    await expectError(h.offers.updateOffer(update(o.id, { maxRedemptions: -1 }), t.ctx), status.INVALID_ARGUMENT, "max_redemptions");
    await expectError(h.offers.updateOffer(update(o.id, { startTime: new Date(Date.now() + 2 * HOUR), endTime: new Date(Date.now() + HOUR) }), t.ctx), status.INVALID_ARGUMENT, "end_time");

    const end = new Date(Date.now() + HOUR);
    const { offer: updated } = await h.offers.updateOffer(update(o.id, { name: "Renamed", maxRedemptions: 4, maxPerCustomer: 3, enabled: false, endTime: end }), t.ctx);
    expect(updated).to.include({ name: "Renamed", maxRedemptions: 4, maxPerCustomer: 3, enabled: false, redemptionCount: 4 });
    expect(updated?.endTime?.getTime()).to.equal(end.getTime());
    await expectError(h.offers.updateOffer(update(o.id, { startTime: new Date(Date.now() + 2 * HOUR) }), t.ctx), status.INVALID_ARGUMENT, "start_time");
    const { offer: unlimited } = await h.offers.updateOffer(update(o.id, { maxRedemptions: 0, maxPerCustomer: 0, clearEndTime: true }), t.ctx);
    expect(unlimited).to.include({ maxRedemptions: 0, maxPerCustomer: 0, endTime: undefined });
  });

  it("lists newest first, optionally one campaign's, page by page", async () => {
    const t = h.tenant();
    const c1 = await campaign(t.ctx);
    const c2 = await campaign(t.ctx);
    const made: Offer[] = [];
    for (let i = 0; i < 5; i++) made.push(await offer(t.ctx, i % 2 ? c2 : c1, { name: `O${i}` }));
    const names: string[] = [];
    let pageToken = "";
    do {
      const res = await h.offers.listOffers({ page: { pageSize: 2, pageToken }, campaignId: "" }, t.ctx);
      names.push(...res.offers.map((o) => o.name));
      pageToken = res.page?.nextPageToken ?? "";
    } while (pageToken);
    expect(names).to.deep.equal(["O4", "O3", "O2", "O1", "O0"]);
    const first = await h.offers.listOffers({ page: { pageSize: 2, pageToken: "" }, campaignId: c1 }, t.ctx);
    expect(first.offers.map((o) => o.name)).to.deep.equal(["O4", "O2"]);
    const second = await h.offers.listOffers({ page: { pageSize: 2, pageToken: first.page!.nextPageToken }, campaignId: c1 }, t.ctx);
    expect(second.offers.map((o) => o.name)).to.deep.equal(["O0"]);
    expect(second.page?.nextPageToken).to.equal("");
    await expectError(h.offers.listOffers({ page: { pageSize: 2, pageToken: first.page!.nextPageToken }, campaignId: c2 }, t.ctx), status.INVALID_ARGUMENT, "page.page_token");
  });

  it("treats another tenant's campaigns, offers and codes as not found in every RPC, and changes nothing", async () => {
    const a = h.tenant();
    const b = h.tenant();
    const theirCampaign = await campaign(b.ctx);
    const theirs = await offer(b.ctx, theirCampaign, { codeKind: CodeKind.CODE_KIND_UNIQUE });
    const { sample } = await h.offers.generateCodes({ offerId: theirs.id, count: 3, pattern: "", charset: "" }, b.ctx);
    await h.offers.getOffer({ offerId: theirs.id }, b.ctx); // warm in b's cache
    const id = theirs.id;

    await expectError(h.offers.createOffer(offerRequest(theirCampaign), a.ctx), status.NOT_FOUND);
    await expectError(h.offers.getOffer({ offerId: id }, a.ctx), status.NOT_FOUND);
    await expectError(h.offers.updateOffer(update(id, { name: "Mine", enabled: false }), a.ctx), status.NOT_FOUND);
    await expectError(h.offers.generateCodes({ offerId: id, count: 5, pattern: "", charset: "" }, a.ctx), status.NOT_FOUND);
    await expectError(h.offers.importCodes({ offerId: id, csv: Buffer.from("NEWCODE1\n") }, a.ctx), status.NOT_FOUND);
    await expectError(h.offers.listCodes({ offerId: id, page: undefined, redeemed: undefined }, a.ctx), status.NOT_FOUND);
    await expectError(h.offers.getOfferByCode({ code: sample[0]! }, a.ctx), status.NOT_FOUND);
    expect((await h.offers.batchGetOffers({ offerIds: [id] }, a.ctx)).offers).to.have.length(0);
    await expectError(h.offers.listOffers({ page: undefined, campaignId: theirCampaign }, a.ctx), status.NOT_FOUND);
    expect((await h.offers.listOffers({ page: undefined, campaignId: "" }, a.ctx)).offers).to.have.length(0);

    expect(await h.prisma.offer.count({ where: { tenantId: a.tenantId } })).to.equal(0);
    expect(await h.prisma.code.count({ where: { tenantId: a.tenantId } })).to.equal(0);
    expect(await h.prisma.code.count({ where: { tenantId: b.tenantId } })).to.equal(3);
    const stored = await h.prisma.offer.findUniqueOrThrow({ where: { tenantId_id: { tenantId: b.tenantId, id } } });
    expect(stored).to.include({ name: "Ten percent", enabled: true, codeCount: 3n });
    expect((await h.offers.getOffer({ offerId: id }, b.ctx)).offer).to.include({ name: "Ten percent", codeCount: 3, codesAvailable: 3 });
  });

  it("reads through the cache and never serves a stale offer after a write has returned", async () => {
    const t = h.tenant();
    const c = await campaign(t.ctx);
    const o = await offer(t.ctx, c, { codeKind: CodeKind.CODE_KIND_UNIQUE, value: { amountOff: eur(300), maxDiscount: undefined } });
    await h.offers.getOffer({ offerId: o.id }, t.ctx);
    const hits = h.cache.stats().hits;
    await h.offers.getOffer({ offerId: o.id }, t.ctx);
    expect(h.cache.stats().hits, "the second read is a cache hit").to.be.greaterThan(hits);

    for (const name of ["First", "Second"]) {
      await h.offers.updateOffer(update(o.id, { name }), t.ctx);
      for (let i = 0; i < 2; i++) expect((await h.offers.getOffer({ offerId: o.id }, t.ctx)).offer?.name).to.equal(name);
    }
    await h.offers.generateCodes({ offerId: o.id, count: 10, pattern: "", charset: "" }, t.ctx);
    for (let i = 0; i < 2; i++) {
      const { offers } = await h.offers.batchGetOffers({ offerIds: [o.id] }, t.ctx);
      expect(offers[0]).to.include({ codeCount: 10, codesAvailable: 10 });
    }
    await h.offers.importCodes({ offerId: o.id, csv: Buffer.from("IMPORTED-1\nIMPORTED-2\n") }, t.ctx);
    for (let i = 0; i < 2; i++) {
      const { offer: read } = await h.offers.getOfferByCode({ code: "imported-1" }, t.ctx);
      expect(read).to.include({ codeCount: 12, name: "Second" });
      expect(read?.value?.amountOff).to.deep.equal(eur(300));
    }
  });
});
