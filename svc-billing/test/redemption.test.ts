import { randomUUID } from "node:crypto";
import { status, type ServiceError } from "@grpc/grpc-js";
import { RefusalReason, TransactionStatus, type RedeemRequest } from "@apgms/proto/apgms/billing/v1/transaction";
import { expect } from "chai";
import { expectError, startHarness, type Harness } from "./harness.js";
import { makeCampaign, makeOffer } from "./fixtures.js";

const eur = (amountMinor: number) => ({ amountMinor, currency: "EUR" });
const reasonOf = (err: unknown) => (err as ServiceError).metadata?.get("x-apgms-reason")[0];

describe("redemption (billing.redeem)", function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("billing_redeem");
  });
  after(async () => {
    await h?.stop();
  });

  const request = (target: { offerId?: string; code?: string }, extra: Partial<RedeemRequest> = {}): RedeemRequest => ({
    target,
    customerRef: "cust-1",
    orderAmount: eur(10_000),
    idempotencyKey: "",
    ...extra,
  });

  /** Runs `n` redemptions at once; returns the successes' transaction ids and the failures' reasons. */
  async function race(n: number, make: (i: number) => RedeemRequest, ctx: ReturnType<Harness["tenant"]>["ctx"]) {
    const results = await Promise.allSettled(Array.from({ length: n }, (_, i) => h.transactions.redeem(make(i), ctx)));
    const ok = results.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ transaction?: { id: string } }>).value.transaction!.id);
    const refused = results.filter((r) => r.status === "rejected").map((r) => (r as PromiseRejectedResult).reason as ServiceError);
    return { ok, refused };
  }

  it("200 concurrent redemptions of an offer limited to 50 make exactly 50 transactions; the rest are refused with OFFER_LIMIT_REACHED", async () => {
    const t = h.tenant();
    const campaignId = await makeCampaign(h.prisma, t.tenantId);
    const offerId = await makeOffer(h.prisma, t.tenantId, campaignId, { maxRedemptions: 50 });
    const { ok, refused } = await race(200, (i) => request({ offerId }, { customerRef: `c-${i}` }), t.ctx);
    expect(ok).to.have.length(50);
    expect(refused).to.have.length(150);
    for (const err of refused) {
      expect(err.code).to.equal(status.FAILED_PRECONDITION);
      expect(reasonOf(err)).to.equal("OFFER_LIMIT_REACHED");
    }
    expect(await h.prisma.transaction.count({ where: { tenantId: t.tenantId, offerId } })).to.equal(50);
    const offer = await h.prisma.offer.findFirstOrThrow({ where: { tenantId: t.tenantId, id: offerId } });
    expect(Number(offer.redemptionCount)).to.equal(50);
    expect(await h.prisma.outbox.count({ where: { tenantId: t.tenantId, eventType: "transaction.created" } })).to.equal(50);
  });

  it("never overspends a campaign's budget, whichever offers race for it", async () => {
    const t = h.tenant();
    const campaignId = await makeCampaign(h.prisma, t.tenantId, { budget: { kind: "spend", limit: 10_000 } });
    const a = await makeOffer(h.prisma, t.tenantId, campaignId, { amountOffMinor: 300 });
    const b = await makeOffer(h.prisma, t.tenantId, campaignId, { amountOffMinor: 700 });
    const { ok, refused } = await race(120, (i) => request({ offerId: i % 2 ? a : b }, { customerRef: `c-${i}` }), t.ctx);
    const campaign = await h.prisma.campaign.findFirstOrThrow({ where: { tenantId: t.tenantId, id: campaignId } });
    const spent = await h.prisma.transaction.aggregate({ where: { tenantId: t.tenantId, campaignId }, _sum: { discountMinor: true } });
    expect(Number(campaign.spentMinor)).to.equal(Number(spent._sum.discountMinor));
    expect(Number(campaign.spentMinor)).to.be.at.most(10_000);
    // Once a 300 no longer fits, nothing does: the budget ends within 300 of its limit.
    expect(Number(campaign.spentMinor)).to.be.above(10_000 - 300);
    expect(ok.length + refused.length).to.equal(120);
    for (const err of refused) expect(reasonOf(err)).to.equal("BUDGET_EXHAUSTED");
  });

  it("holds a redemptions budget and the per-customer limit under the same race", async () => {
    const t = h.tenant();
    const campaignId = await makeCampaign(h.prisma, t.tenantId, { budget: { kind: "redemptions", limit: 7 } });
    const offerId = await makeOffer(h.prisma, t.tenantId, campaignId, { maxPerCustomer: 3 });
    const same = await race(40, () => request({ offerId }, { customerRef: "greedy" }), t.ctx);
    expect(same.ok).to.have.length(3);
    for (const err of same.refused) expect(reasonOf(err)).to.equal("CUSTOMER_LIMIT_REACHED");
    const others = await race(40, (i) => request({ offerId }, { customerRef: `c-${i}` }), t.ctx);
    expect(others.ok).to.have.length(4);
    for (const err of others.refused) expect(reasonOf(err)).to.equal("BUDGET_EXHAUSTED");
  });

  it("redeems a unique code once however many try it at once", async () => {
    const t = h.tenant();
    const campaignId = await makeCampaign(h.prisma, t.tenantId);
    await makeOffer(h.prisma, t.tenantId, campaignId, { uniqueCodes: ["ONCE-0001", "ONCE-0002"] });
    const { ok, refused } = await race(30, (i) => request({ code: i % 2 ? "once-0001" : "ONCE-0001" }, { customerRef: `c-${i}` }), t.ctx);
    expect(ok).to.have.length(1);
    for (const err of refused) expect(reasonOf(err)).to.equal("CODE_ALREADY_REDEEMED");
    const code = await h.prisma.code.findFirstOrThrow({ where: { tenantId: t.tenantId, code: "ONCE-0001" } });
    expect(code.transactionId).to.equal(ok[0]);
  });

  it("redeems each of 100,000 generated codes once: a sample of 200, each tried twice at once", async () => {
    const t = h.tenant();
    const campaignId = await makeCampaign(h.prisma, t.tenantId);
    const offerId = await makeOffer(h.prisma, t.tenantId, campaignId, { codeKind: "unique" });
    const made = await h.offers.generateCodes({ offerId, count: 100_000, pattern: "", charset: "" }, t.ctx);
    expect(made.generated).to.equal(100_000);
    const distinct = await h.prisma.$queryRaw<Array<{ n: bigint }>>`SELECT count(DISTINCT code) AS n FROM billing.codes WHERE tenant_id = ${t.tenantId}::uuid`;
    expect(Number(distinct[0]!.n)).to.equal(100_000);
    const sample = made.sample.slice(0, 200);
    const { ok, refused } = await race(400, (i) => request({ code: sample[i % 200]! }, { customerRef: `c-${i}` }), t.ctx);
    expect(ok).to.have.length(200);
    for (const err of refused) expect(reasonOf(err)).to.equal("CODE_ALREADY_REDEEMED");
    const used = await h.prisma.code.count({ where: { tenantId: t.tenantId, redeemedAt: { not: null } } });
    expect(used).to.equal(200);
  });

  it("returns the first transaction for a retried idempotency key, once, and refuses the key with other parameters", async () => {
    const t = h.tenant();
    const campaignId = await makeCampaign(h.prisma, t.tenantId);
    const offerId = await makeOffer(h.prisma, t.tenantId, campaignId, { percentBps: 1_500 });
    const req = request({ offerId }, { idempotencyKey: "order-42" });
    const answers = await Promise.all(Array.from({ length: 10 }, () => h.transactions.redeem(req, t.ctx)));
    const again = await h.transactions.redeem(req, t.ctx);
    for (const a of [...answers, again]) expect(a).to.deep.equal(answers[0]);
    expect(answers[0]!.transaction!.discount).to.deep.equal(eur(1_500));
    expect(await h.prisma.transaction.count({ where: { tenantId: t.tenantId } })).to.equal(1);
    const err = await expectError(h.transactions.redeem({ ...req, orderAmount: eur(20_000) }, t.ctx), status.ALREADY_EXISTS, "idempotency_key");
    expect(err.details).to.match(/different redemption/);
    expect(await h.prisma.transaction.count({ where: { tenantId: t.tenantId } })).to.equal(1);
  });

  it("validation agrees with redemption, case by case, and writes nothing", async () => {
    const t = h.tenant();
    const past = new Date(Date.now() - 86_400_000);
    const future = new Date(Date.now() + 86_400_000);
    const cases: Array<{ name: string; reason: string; setup: () => Promise<RedeemRequest> }> = [];
    const offerIn = async (campaign: Parameters<typeof makeCampaign>[2], offer: Parameters<typeof makeOffer>[3] = {}) =>
      makeOffer(h.prisma, t.tenantId, await makeCampaign(h.prisma, t.tenantId, campaign), offer);
    const add = (name: string, reason: string, setup: () => Promise<RedeemRequest>) => cases.push({ name, reason, setup });
    add("a draft campaign", "CAMPAIGN_NOT_ACTIVE", async () => request({ offerId: await offerIn({ state: "draft" }) }));
    add("a paused campaign", "CAMPAIGN_NOT_ACTIVE", async () => request({ offerId: await offerIn({ state: "paused" }) }));
    add("a scheduled campaign", "CAMPAIGN_NOT_STARTED", async () => request({ offerId: await offerIn({ state: "scheduled", startAt: future }) }));
    add("an ended campaign", "CAMPAIGN_ENDED", async () => request({ offerId: await offerIn({ state: "ended" }) }));
    add("an active campaign past its end", "CAMPAIGN_ENDED", async () => request({ offerId: await offerIn({ endAt: past }) }));
    add("a disabled offer", "OFFER_DISABLED", async () => request({ offerId: await offerIn({}, { enabled: false }) }));
    add("an offer not started", "OFFER_NOT_STARTED", async () => request({ offerId: await offerIn({}, { startAt: future }) }));
    add("an expired offer", "OFFER_EXPIRED", async () => request({ offerId: await offerIn({}, { endAt: past }) }));
    add("another currency", "CURRENCY_MISMATCH", async () => request({ offerId: await offerIn({ currency: "USD" }) }));
    add("an order below the minimum", "ORDER_BELOW_MINIMUM", async () => request({ offerId: await offerIn({}, { minOrderMinor: 20_000 }) }));
    add("a unique-code offer by id", "CODE_REQUIRED", async () => request({ offerId: await offerIn({}, { uniqueCodes: [`C${randomUUID().slice(0, 8).toUpperCase()}`] }) }));
    add("an offer at its limit", "OFFER_LIMIT_REACHED", async () => {
      const offerId = await offerIn({}, { maxRedemptions: 1 });
      await h.transactions.redeem(request({ offerId }, { customerRef: "first" }), t.ctx);
      return request({ offerId });
    });
    add("a customer at its limit", "CUSTOMER_LIMIT_REACHED", async () => {
      const offerId = await offerIn({}, { maxPerCustomer: 1 });
      await h.transactions.redeem(request({ offerId }), t.ctx);
      return request({ offerId });
    });
    add("a budget that cannot pay the discount", "BUDGET_EXHAUSTED", async () => request({ offerId: await offerIn({ budget: { kind: "spend", limit: 500 } }, { amountOffMinor: 600 }) }));
    add("a redeemed code", "CODE_ALREADY_REDEEMED", async () => {
      const code = `R${randomUUID().slice(0, 8).toUpperCase()}`;
      await offerIn({}, { uniqueCodes: [code] });
      await h.transactions.redeem(request({ code }), t.ctx);
      return request({ code });
    });
    add("a valid redemption", "", async () => request({ offerId: await offerIn({}, { percentBps: 2_500, maxDiscountMinor: 2_000 }) }));

    for (const c of cases) {
      const req = await c.setup();
      const before = await h.prisma.transaction.count({ where: { tenantId: t.tenantId } });
      const verdict = await h.transactions.validateRedemption({ target: req.target, customerRef: req.customerRef, orderAmount: req.orderAmount }, t.ctx);
      expect(await h.prisma.transaction.count({ where: { tenantId: t.tenantId } }), `${c.name}: validation wrote nothing`).to.equal(before);
      if (c.reason === "") {
        expect(verdict.valid, c.name).to.equal(true);
        const { transaction } = await h.transactions.redeem(req, t.ctx);
        expect(transaction!.discount, c.name).to.deep.equal(verdict.discount);
        expect(verdict.discount).to.deep.equal(eur(2_000));
        continue;
      }
      expect(verdict.valid, c.name).to.equal(false);
      expect(RefusalReason[verdict.reason], c.name).to.equal(`REFUSAL_REASON_${c.reason}`);
      expect(verdict.message, c.name).to.not.equal("");
      let refused: unknown;
      await h.transactions.redeem(req, t.ctx).catch((err: unknown) => (refused = err));
      expect(reasonOf(refused), `${c.name}: redemption's reason`).to.equal(c.reason);
      expect((refused as ServiceError).details).to.equal(verdict.message);
    }
  });

  it("refunds in part and in full, refuses more than is left, and a full refund frees what it counted", async () => {
    const t = h.tenant();
    const campaignId = await makeCampaign(h.prisma, t.tenantId, { budget: { kind: "spend", limit: 1_000 } });
    const offerId = await makeOffer(h.prisma, t.tenantId, campaignId, { amountOffMinor: 1_000, maxRedemptions: 1 });
    const { transaction } = await h.transactions.redeem(request({ offerId }), t.ctx);
    const id = transaction!.id;
    await expectError(h.transactions.redeem(request({ offerId }, { customerRef: "other" }), t.ctx), status.FAILED_PRECONDITION);

    const part = await h.transactions.refundTransaction({ transactionId: id, amount: eur(400), reason: "damaged", idempotencyKey: "" }, t.ctx);
    expect(part.refund!.discount).to.deep.equal(eur(400));
    expect(part.redemption!.status).to.equal(TransactionStatus.TRANSACTION_STATUS_PARTIALLY_REFUNDED);
    const over = await expectError(h.transactions.refundTransaction({ transactionId: id, amount: eur(601), reason: "", idempotencyKey: "" }, t.ctx), status.FAILED_PRECONDITION);
    expect(reasonOf(over)).to.equal("REFUND_EXCEEDS_REFUNDABLE");
    expect(over.details).to.match(/only 600 minor units/);

    const rest = await h.transactions.refundTransaction({ transactionId: id, amount: undefined, reason: "", idempotencyKey: "" }, t.ctx);
    expect(rest.refund!.discount).to.deep.equal(eur(600));
    expect(rest.redemption!.status).to.equal(TransactionStatus.TRANSACTION_STATUS_REFUNDED);
    await expectError(h.transactions.refundTransaction({ transactionId: id, amount: undefined, reason: "", idempotencyKey: "" }, t.ctx), status.FAILED_PRECONDITION);

    const campaign = await h.prisma.campaign.findFirstOrThrow({ where: { tenantId: t.tenantId, id: campaignId } });
    expect([Number(campaign.spentMinor), Number(campaign.refundedMinor), Number(campaign.redemptionCount)]).to.deep.equal([0, 1_000, 0]);
    // The offer's one redemption and the budget are free again.
    await h.transactions.redeem(request({ offerId }, { customerRef: "other" }), t.ctx);
    expect(await h.prisma.outbox.count({ where: { tenantId: t.tenantId, eventType: "transaction.refunded" } })).to.equal(2);
  });

  it("announces each budget threshold once, in the outbox after the redemption that crossed it", async () => {
    const t = h.tenant();
    const campaignId = await makeCampaign(h.prisma, t.tenantId, { budget: { kind: "spend", limit: 1_000 } });
    const offerId = await makeOffer(h.prisma, t.tenantId, campaignId, { amountOffMinor: 100 });
    for (let i = 0; i < 10; i++) await h.transactions.redeem(request({ offerId }, { customerRef: `c-${i}` }), t.ctx);
    const events = await h.prisma.outbox.findMany({ where: { tenantId: t.tenantId }, orderBy: { seq: "asc" } });
    const kinds = events.map((e) => e.eventType);
    expect(kinds.filter((k) => k === "budget.threshold_reached")).to.have.length(4);
    // 50 % is crossed by the 5th redemption: its event follows the 5th transaction.created.
    expect(kinds.indexOf("budget.threshold_reached")).to.equal(5);
  });

  it("lists newest first with filters and exports every row oldest first", async () => {
    const t = h.tenant();
    const stranger = h.tenant();
    const other0 = () => stranger;
    const campaignId = await makeCampaign(h.prisma, t.tenantId);
    const offerId = await makeOffer(h.prisma, t.tenantId, campaignId);
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) ids.push((await h.transactions.redeem(request({ offerId }, { customerRef: `c-${i}` }), t.ctx)).transaction!.id);
    const seen: string[] = [];
    let pageToken = "";
    do {
      const res = await h.transactions.listTransactions({ page: { pageSize: 3, pageToken }, filter: { campaignId, offerId: "", statuses: [], kind: 0, customerRef: "", startTime: undefined, endTime: undefined } }, t.ctx);
      seen.push(...res.transactions.map((x) => x.id));
      pageToken = res.page!.nextPageToken;
    } while (pageToken);
    expect(seen).to.deep.equal([...ids].reverse());
    const one = await h.transactions.listTransactions({ page: undefined, filter: { campaignId: "", offerId: "", statuses: [], kind: 0, customerRef: "c-3", startTime: undefined, endTime: undefined } }, t.ctx);
    expect(one.transactions.map((x) => x.id)).to.deep.equal([ids[3]]);
    const exported = await h.exportTransactions({ filter: { campaignId, offerId: "", statuses: [], kind: 0, customerRef: "", startTime: undefined, endTime: undefined } }, t.ctx);
    expect(exported.flatMap((m) => m.transactions.map((x) => x.id))).to.deep.equal(ids);
    // Another tenant sees none of them.
    expect(await h.exportTransactions({ filter: undefined }, other0().ctx)).to.deep.equal([]);
    const other = other0();
    await expectError(h.transactions.getTransaction({ transactionId: ids[0]! }, other.ctx), status.NOT_FOUND);
    await expectError(h.transactions.refundTransaction({ transactionId: ids[0]!, amount: undefined, reason: "", idempotencyKey: "" }, other.ctx), status.NOT_FOUND);
    await expectError(h.transactions.redeem(request({ offerId }), other.ctx), status.NOT_FOUND);
  });
});
