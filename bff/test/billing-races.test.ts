import { expect } from "chai";
import { dataOf, type GqlResponse } from "./stack.js";
import { getBillingStack, unique, type BillingStack } from "./billing-stack.js";

const REDEEM = `mutation($i: RedeemInput!) { redeem(input: $i) {
  id kind status code customerRef orderAmount { amountMinor currency } discount { amountMinor currency } createdAt campaign { id } offer { id }
} }`;
const TOTALS = "redemptions discountGiven { amountMinor currency } budgetLeft { amountMinor currency } redemptionsLeft budgetUsedRatio";
const eur = (amountMinor: number) => ({ amountMinor, currency: "EUR" });

interface Redeemed {
  id: string;
  discount: { amountMinor: number; currency: string };
}

/**
 * Redemption races through the real edge (GraphQL over HTTP, a partner's
 * billing:redeem API key) against a real svc-billing, Postgres and Redis:
 * an offer's total and per-customer limits and a campaign's spend budget hold
 * however many redemptions arrive at once, and a retried idempotency key
 * answers the first transaction. svc-billing's own races are in
 * svc-billing/test/redemption.test.ts; these prove the edge adds nothing that
 * breaks them (no lost reason, no retry that redeems twice, no throttling of a
 * burst: the billing edge runs with TEST_RATE_LIMITS, on but far above 200
 * requests, so a RATE_LIMITED answer fails these tests).
 */
describe("billing races through the edge", function () {
  this.timeout(60_000);
  let s: BillingStack;
  let checkoutKey: string;

  const admin = (query: string, variables?: Record<string, unknown>) => s.bas(s.a.users.admin, query, variables);

  async function activeCampaign(input: Record<string, unknown>): Promise<string> {
    const id = dataOf<{ id: string }>(await admin("mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { id } }", { i: { currency: "EUR", ...input } }), "createCampaign").id;
    expect(dataOf<{ state: string }>(await admin("mutation($id: ID!) { activateCampaign(id: $id) { state } }", { id }), "activateCampaign").state).to.equal("ACTIVE");
    return id;
  }

  async function createOffer(input: Record<string, unknown>): Promise<string> {
    return dataOf<{ id: string }>(await admin("mutation($i: CreateOfferInput!) { createOffer(input: $i) { id } }", { i: input }), "createOffer").id;
  }

  /** `n` redeem mutations at once with the checkout key: the successes, and each refusal's extensions. */
  async function race(n: number, input: (i: number) => Record<string, unknown>): Promise<{ ok: Redeemed[]; refused: Array<Record<string, unknown>>; responses: GqlResponse[] }> {
    const responses = await Promise.all(Array.from({ length: n }, (_, i) => s.bgql(REDEEM, { i: input(i) }, { apiKey: checkoutKey })));
    const ok: Redeemed[] = [];
    const refused: Array<Record<string, unknown>> = [];
    for (const res of responses) {
      if (res.body.errors === undefined) {
        ok.push(dataOf<Redeemed>(res, "redeem"));
        continue;
      }
      // One refusal per request, at redeem, and no partial data.
      expect(res.body.errors, JSON.stringify(res.body.errors)).to.have.length(1);
      expect(res.body.errors[0]!.path).to.deep.equal(["redeem"]);
      expect(res.body.data ?? null).to.equal(null);
      refused.push({ ...res.body.errors[0]!.extensions });
    }
    return { ok, refused, responses };
  }

  /** Rows in billing.transactions, counted as the tables' owner (what GraphQL says is checked against this). */
  async function storedTransactions(campaignId: string): Promise<{ n: number; discount: number }> {
    const { rows } = await s.billingPg.query<{ n: number; discount: number }>(
      "select count(*)::int n, coalesce(sum(discount_minor), 0)::int discount from billing.transactions where tenant_id = $1 and campaign_id = $2",
      [s.a.id, campaignId],
    );
    return rows[0]!;
  }

  async function listed(filter: Record<string, unknown>): Promise<{ nodes: Array<{ id: string; discount: { amountMinor: number } }>; pageInfo: { hasNextPage: boolean } }> {
    return dataOf(
      await admin(
        "query($c: ID, $o: ID, $r: String) { transactions(first: 200, campaignId: $c, offerId: $o, customerRef: $r) { nodes { id discount { amountMinor } } pageInfo { hasNextPage } } }",
        { c: null, o: null, r: null, ...filter },
      ),
      "transactions",
    );
  }

  before(async () => {
    s = await getBillingStack();
    const created = await s.bas(s.a.users.owner, "mutation($n: String!) { createApiKey(input: { name: $n, scopes: [\"billing:redeem\"] }) { secret } }", { n: unique("checkout") });
    checkoutKey = dataOf<{ secret: string }>(created, "createApiKey").secret;
    // Resolve the key once, so the races start with it cached like a checkout's steady state.
    expect(dataOf(await s.bgql("{ me { scopes } }", {}, { apiKey: checkoutKey }), "me")).to.deep.equal({ scopes: ["billing:redeem"] });
  });

  it("200 concurrent redemptions of an offer limited to 50 make exactly 50 transactions; the other 150 are FAILED_PRECONDITION with OFFER_LIMIT_REACHED", async () => {
    const campaignId = await activeCampaign({ name: unique("race-offer-limit") });
    const code = unique("LIMIT").toUpperCase();
    const offerId = await createOffer({ campaignId, name: "first 50", value: { amountOff: eur(100) }, codeKind: "SHARED", sharedCode: code, maxRedemptions: 50 });

    const { ok, refused } = await race(200, (i) => ({ code, customerRef: `cust-${i}`, orderAmount: eur(5_000) }));
    expect(ok).to.have.length(50);
    expect(new Set(ok.map((t) => t.id)).size).to.equal(50);
    expect(refused).to.have.length(150);
    for (const ext of refused) expect(ext).to.deep.equal({ code: "FAILED_PRECONDITION", reason: "OFFER_LIMIT_REACHED" });

    const view = dataOf<{ totals: unknown; offers: { nodes: unknown[] } }>(
      await admin(`query($id: ID!) { campaign(id: $id) { totals { ${TOTALS} } offers { nodes { id maxRedemptions redemptionCount } } } }`, { id: campaignId }),
      "campaign",
    );
    expect(view.totals).to.deep.equal({ redemptions: 50, discountGiven: eur(5_000), budgetLeft: null, redemptionsLeft: null, budgetUsedRatio: 0 });
    expect(view.offers.nodes).to.deep.equal([{ id: offerId, maxRedemptions: 50, redemptionCount: 50 }]);
    const page = await listed({ c: campaignId });
    expect(page.pageInfo.hasNextPage).to.equal(false);
    expect(page.nodes.map((t) => t.id).sort()).to.deep.equal(ok.map((t) => t.id).sort());
    expect(await storedTransactions(campaignId)).to.deep.equal({ n: 50, discount: 5_000 });

    // Validation agrees with what the race left.
    const verdict = await s.bgql("query($i: RedemptionInput!) { validateRedemption(input: $i) { valid reason } }", { i: { code, customerRef: "late", orderAmount: eur(5_000) } }, { apiKey: checkoutKey });
    expect(dataOf(verdict, "validateRedemption")).to.deep.equal({ valid: false, reason: "OFFER_LIMIT_REACHED" });
  });

  it("100 concurrent redemptions by one customer of an offer limited to 3 per customer make exactly 3; the rest are CUSTOMER_LIMIT_REACHED", async () => {
    const campaignId = await activeCampaign({ name: unique("race-customer-limit") });
    const offerId = await createOffer({ campaignId, name: "3 each", value: { percentOffBps: 1_000 }, codeKind: "NONE", maxPerCustomer: 3 });

    const { ok, refused } = await race(100, () => ({ offerId, customerRef: "greedy", orderAmount: eur(2_000) }));
    expect(ok).to.have.length(3);
    expect(refused).to.have.length(97);
    for (const ext of refused) expect(ext).to.deep.equal({ code: "FAILED_PRECONDITION", reason: "CUSTOMER_LIMIT_REACHED" });
    expect((await listed({ o: offerId, r: "greedy" })).nodes).to.have.length(3);

    // The limit is the customer's: another one still redeems.
    const other = await s.bgql(REDEEM, { i: { offerId, customerRef: "patient", orderAmount: eur(2_000) } }, { apiKey: checkoutKey });
    expect(dataOf<Redeemed>(other, "redeem").discount).to.deep.equal(eur(200));
    const totals = dataOf(await admin("query($id: ID!) { campaignTotals(campaignId: $id) { redemptions discountGiven { amountMinor } } }", { id: campaignId }), "campaignTotals");
    expect(totals).to.deep.equal({ redemptions: 4, discountGiven: { amountMinor: 800 } });
    expect(await storedTransactions(campaignId)).to.deep.equal({ n: 4, discount: 800 });
  });

  it("never overspends a spend budget: 200 concurrent redemptions of 30 off against 1,000 make exactly 33; the rest are BUDGET_EXHAUSTED", async () => {
    const budget = 1_000;
    const off = 30;
    const fits = Math.floor(budget / off);
    const campaignId = await activeCampaign({ name: unique("race-budget"), budget: { spendMinor: budget } });
    const code = unique("BUDGET").toUpperCase();
    await createOffer({ campaignId, name: "30 off", value: { amountOff: eur(off) }, codeKind: "SHARED", sharedCode: code });

    const { ok, refused } = await race(200, (i) => ({ code, customerRef: `cust-${i}`, orderAmount: eur(1_000) }));
    expect(ok.length * off).to.be.at.most(budget);
    expect(ok).to.have.length(fits);
    for (const t of ok) expect(t.discount).to.deep.equal(eur(off));
    expect(refused).to.have.length(200 - fits);
    for (const ext of refused) expect(ext).to.deep.equal({ code: "FAILED_PRECONDITION", reason: "BUDGET_EXHAUSTED" });

    const totals = dataOf(await admin(`query($id: ID!) { campaignTotals(campaignId: $id) { ${TOTALS} } }`, { id: campaignId }), "campaignTotals");
    expect(totals).to.deep.equal({
      redemptions: fits,
      discountGiven: eur(fits * off),
      budgetLeft: eur(budget - fits * off),
      redemptionsLeft: null,
      budgetUsedRatio: (fits * off) / budget,
    });
    const page = await listed({ c: campaignId });
    expect(page.nodes).to.have.length(fits);
    expect(page.nodes.reduce((sum, t) => sum + t.discount.amountMinor, 0)).to.equal(fits * off);
    expect(await storedTransactions(campaignId)).to.deep.equal({ n: fits, discount: fits * off });
  });

  it("answers 20 concurrent retries and a later one of an idempotency key with the identical transaction, makes one, and refuses the key with another amount (CONFLICT)", async () => {
    const campaignId = await activeCampaign({ name: unique("race-idempotency") });
    const code = unique("ONCE").toUpperCase();
    await createOffer({ campaignId, name: "15%", value: { percentOffBps: 1_500 }, codeKind: "SHARED", sharedCode: code });
    const input = { code, customerRef: "cust-42", orderAmount: eur(10_000), idempotencyKey: unique("order-42") };

    const { ok, responses } = await race(20, () => input);
    expect(ok).to.have.length(20);
    const again = await s.bgql(REDEEM, { i: input }, { apiKey: checkoutKey });
    const first = responses[0]!.body.data;
    for (const res of [...responses, again]) expect(res.body).to.deep.equal({ data: first });
    expect(ok[0]!.discount).to.deep.equal(eur(1_500));

    const page = await listed({ c: campaignId });
    expect(page.nodes.map((t) => t.id)).to.deep.equal([ok[0]!.id]);
    expect(await storedTransactions(campaignId)).to.deep.equal({ n: 1, discount: 1_500 });

    const conflict = await s.bgql(REDEEM, { i: { ...input, orderAmount: eur(20_000) } }, { apiKey: checkoutKey });
    expect(conflict.body.errors?.[0]?.extensions).to.deep.equal({ code: "CONFLICT", field: "idempotencyKey" });
    expect(conflict.body.errors?.[0]?.message).to.match(/different redemption/);
    expect(await storedTransactions(campaignId)).to.deep.equal({ n: 1, discount: 1_500 });
  });
});
