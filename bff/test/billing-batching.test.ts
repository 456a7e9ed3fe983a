import { expect } from "chai";
import { UPSTREAM_CALLS_HEADER } from "../src/graphql/use-upstream-calls.js";
import { dataOf, type GqlResponse } from "./stack.js";
import { getBillingStack, unique, type BillingStack } from "./billing-stack.js";

const CAMPAIGNS = 5;
const OFFERS_PER_CAMPAIGN = 2;
const TRANSACTIONS = 50;

/**
 * Billing lists resolve their related objects through DataLoaders over the
 * BatchGet RPCs, counted by the x-apgms-upstream-calls header: a page of 50
 * transactions with their campaign and offer is 3 gRPC calls, not 101.
 */
describe("billing batched reads through the edge", function () {
  this.timeout(60_000);
  let s: BillingStack;
  let tag: string;
  /** Offer id → its name and its campaign's name. */
  const expected = new Map<string, { offer: string; campaign: string; campaignId: string }>();

  const run = async (query: string, variables: Record<string, unknown> = {}): Promise<{ res: GqlResponse; calls: number }> => {
    const res = await s.bas(s.a.users.owner, query, variables);
    expect(res.body.errors, JSON.stringify(res.body.errors)).to.equal(undefined);
    return { res, calls: Number(res.headers.get(UPSTREAM_CALLS_HEADER)) };
  };

  before(async () => {
    s = await getBillingStack();
    tag = unique("batch");
    const owner = s.a.users.owner;
    const offers: string[] = [];
    for (let c = 0; c < CAMPAIGNS; c++) {
      const campaign = `${tag} campaign ${c}`;
      const campaignId = dataOf<{ id: string }>(await s.bas(owner, "mutation($n: String!) { createCampaign(input: { name: $n, currency: \"EUR\" }) { id } }", { n: campaign }), "createCampaign").id;
      for (let o = 0; o < OFFERS_PER_CAMPAIGN; o++) {
        const offer = `${tag} offer ${c}.${o}`;
        const id = dataOf<{ id: string }>(
          await s.bas(owner, "mutation($i: CreateOfferInput!) { createOffer(input: $i) { id } }", {
            i: { campaignId, name: offer, value: { amountOff: { amountMinor: 100, currency: "EUR" } }, codeKind: "NONE" },
          }),
          "createOffer",
        ).id;
        expected.set(id, { offer, campaign, campaignId });
        offers.push(id);
      }
      dataOf(await s.bas(owner, "mutation($id: ID!) { activateCampaign(id: $id) { id } }", { id: campaignId }), "activateCampaign");
    }
    for (let i = 0; i < TRANSACTIONS; i += 10) {
      await Promise.all(
        Array.from({ length: 10 }, (_, j) =>
          s.bas(owner, "mutation($i: RedeemInput!) { redeem(input: $i) { id } }", {
            i: { offerId: offers[(i + j) % offers.length], customerRef: tag, orderAmount: { amountMinor: 1_000, currency: "EUR" } },
          }).then((r) => dataOf(r, "redeem")),
        ),
      );
    }
    await run("{ me { kind } }");
  });

  it("answers 50 transactions with their campaign and offer in 3 gRPC calls, each with the right ones", async () => {
    const { res, calls } = await run(
      "query($r: String) { transactions(first: 50, customerRef: $r) { nodes { offerId campaign { id name } offer { name } } } }",
      { r: tag },
    );
    const nodes = dataOf<{ nodes: Array<{ offerId: string; campaign: { id: string; name: string }; offer: { name: string } }> }>(res, "transactions").nodes;
    expect(nodes).to.have.length(TRANSACTIONS);
    for (const n of nodes) {
      const e = expected.get(n.offerId)!;
      expect({ campaign: n.campaign, offer: n.offer.name }).to.deep.equal({ campaign: { id: e.campaignId, name: e.campaign }, offer: e.offer });
    }
    expect(calls).to.equal(3);
  });

  it("answers a page of campaigns with their totals in 2 calls, offers with their campaign in 2, and a campaign's offers in one list call each", async () => {
    const campaigns = await run("query($n: String) { campaigns(first: 50, nameContains: $n) { nodes { name totals { redemptions discountGiven { amountMinor } } } } }", { n: tag });
    const nodes = dataOf<{ nodes: Array<{ totals: { redemptions: number; discountGiven: { amountMinor: number } } }> }>(campaigns.res, "campaigns").nodes;
    expect(nodes).to.have.length(CAMPAIGNS);
    for (const n of nodes) expect(n.totals).to.deep.equal({ redemptions: TRANSACTIONS / CAMPAIGNS, discountGiven: { amountMinor: (100 * TRANSACTIONS) / CAMPAIGNS } });
    expect(campaigns.calls).to.equal(2);

    const offers = await run("{ offers(first: 50) { nodes { name campaign { name } } } }");
    expect(dataOf<{ nodes: unknown[] }>(offers.res, "offers").nodes.length).to.be.greaterThan(CAMPAIGNS);
    expect(offers.calls).to.equal(2);

    // A page inside a page is one list call per parent (svc-billing has no batched list RPC); the campaigns the outer page brought are not asked for again.
    const nested = await run("query($n: String) { campaigns(first: 10, nameContains: $n) { nodes { offers(first: 10) { nodes { name campaign { name } } } } } }", { n: tag });
    const pages = dataOf<{ nodes: Array<{ offers: { nodes: Array<{ name: string; campaign: { name: string } }> } }> }>(nested.res, "campaigns").nodes;
    expect(pages.flatMap((p) => p.offers.nodes.map((o) => [o.name, o.campaign.name])).sort()).to.deep.equal([...expected.values()].map((e) => [e.offer, e.campaign]).sort());
    expect(nested.calls).to.equal(1 + CAMPAIGNS);
  });

  it("asks for a campaign once however many fields need it", async () => {
    const id = [...expected.values()][0]!.campaignId;
    const same = await run("query($id: ID!) { a: campaign(id: $id) { name } b: campaign(id: $id) { state } campaignTotals(campaignId: $id) { campaign { name } } }", { id });
    expect(same.calls).to.equal(2);
  });

  /** Query.campaign is non-null: one failed alias nulls `data`, so the errors say which alias failed, as a lone campaign(id:) would. */
  it("answers an id a batch left out (unknown, or another tenant's) with NOT_FOUND for that alias alone, in 1 call", async () => {
    const known = [...expected.values()][0]!.campaignId;
    const other = dataOf<{ id: string }>(await s.bas(s.b.users.owner, 'mutation { createCampaign(input: { name: "b", currency: "EUR" }) { id } }'), "createCampaign").id;
    for (const missing of ["00000000-0000-4000-8000-000000000000", other]) {
      const alone = await s.bas(s.a.users.owner, "query($a: ID!) { campaign(id: $a) { id } }", { a: missing });
      const res = await s.bas(s.a.users.owner, "query($a: ID!, $b: ID!) { a: campaign(id: $a) { id } b: campaign(id: $b) { id } }", { a: known, b: missing });
      expect(res.body.errors?.map((e) => [e.path?.join("."), e.extensions?.code, e.message])).to.deep.equal([["b", "NOT_FOUND", alone.body.errors?.[0]?.message]]);
      expect(Number(res.headers.get(UPSTREAM_CALLS_HEADER))).to.equal(1);
    }
  });
});
