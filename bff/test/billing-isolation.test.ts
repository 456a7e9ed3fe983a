import { expect } from "chai";
import { dataOf, errorCode } from "./stack.js";
import { getBillingStack, unique, type BillingStack } from "./billing-stack.js";

interface BIds {
  draft: string;
  scheduled: string;
  active: string;
  shared: string;
  sharedCode: string;
  uniqueOffer: string;
  uniqueCode: string;
  none: string;
  redemption: string;
}

/**
 * Every billing query and mutation, run by tenant A's owner (who may do all
 * of them) with ids and codes of tenant B, lists filtered by them included,
 * answers NOT_FOUND and leaves every billing row of B as it was.
 */
describe("billing tenant isolation through the edge", function () {
  this.timeout(60_000);
  let s: BillingStack;
  let b: BIds;
  let snapshot: string;

  const snapshotB = async () => {
    const rows = async (table: string) => JSON.stringify((await s.billingPg.query(`select * from billing.${table} where tenant_id = $1 order by 2, 1`, [s.b.id])).rows);
    const out: string[] = [];
    for (const table of ["campaigns", "offers", "codes", "customer_redemptions", "transactions", "outbox"]) out.push(await rows(table));
    return out.join("\n");
  };

  before(async () => {
    s = await getBillingStack();
    const owner = s.b.users.owner;
    const run = async <T>(query: string, variables: Record<string, unknown>, field: string) => dataOf<T>(await s.bas(owner, query, variables), field);
    const campaign = (name: string) => run<{ id: string }>("mutation($n: String!) { createCampaign(input: { name: $n, currency: \"EUR\" }) { id } }", { n: name }, "createCampaign");
    const offer = (campaignId: string, codeKind: string, sharedCode?: string) =>
      run<{ id: string }>(
        "mutation($i: CreateOfferInput!) { createOffer(input: $i) { id } }",
        { i: { campaignId, name: codeKind, value: { percentOffBps: 500 }, codeKind, sharedCode } },
        "createOffer",
      );
    const draft = (await campaign("draft")).id;
    const scheduled = (await campaign("scheduled")).id;
    await run("mutation($id: ID!) { scheduleCampaign(id: $id, startsAt: \"2099-01-01T00:00:00Z\") { id } }", { id: scheduled }, "scheduleCampaign");
    const active = (await campaign("active")).id;
    const sharedCode = unique("BSHARED").toUpperCase();
    const shared = (await offer(active, "SHARED", sharedCode)).id;
    const uniqueOffer = (await offer(active, "UNIQUE")).id;
    const uniqueCode = (await run<{ sample: string[] }>("mutation($o: ID!) { generateCodes(offerId: $o, count: 3) { sample } }", { o: uniqueOffer }, "generateCodes")).sample[0]!;
    const none = (await offer(active, "NONE")).id;
    await run("mutation($id: ID!) { activateCampaign(id: $id) { id } }", { id: active }, "activateCampaign");
    const redemption = (
      await run<{ id: string }>(
        "mutation($c: String!) { redeem(input: { code: $c, customerRef: \"b-cust\", orderAmount: { amountMinor: 1000, currency: \"EUR\" } }) { id } }",
        { c: sharedCode },
        "redeem",
      )
    ).id;
    b = { draft, scheduled, active, shared, sharedCode, uniqueOffer, uniqueCode, none, redemption };
    snapshot = await snapshotB();
  });

  const order = '{ amountMinor: 1000, currency: "EUR" }';
  const cases: Array<[string, () => [string, Record<string, unknown>]]> = [
    ["campaign", () => ["query($id: ID!) { campaign(id: $id) { id } }", { id: b.active }]],
    ["offer", () => ["query($id: ID!) { offer(id: $id) { id } }", { id: b.shared }]],
    ["offerByCode (shared)", () => ["query($c: String!) { offerByCode(code: $c) { offer { id } } }", { c: b.sharedCode }]],
    ["offerByCode (unique)", () => ["query($c: String!) { offerByCode(code: $c) { offer { id } } }", { c: b.uniqueCode }]],
    ["transaction", () => ["query($id: ID!) { transaction(id: $id) { id } }", { id: b.redemption }]],
    ["campaignTotals", () => ["query($id: ID!) { campaignTotals(campaignId: $id) { redemptions } }", { id: b.active }]],
    ["validateRedemption by code", () => [`query($c: String!) { validateRedemption(input: { code: $c, customerRef: "x", orderAmount: ${order} }) { valid } }`, { c: b.sharedCode }]],
    ["validateRedemption by offer", () => [`query($o: ID!) { validateRedemption(input: { offerId: $o, customerRef: "x", orderAmount: ${order} }) { valid } }`, { o: b.none }]],
    ["updateCampaign", () => ['mutation($id: ID!) { updateCampaign(id: $id, input: { name: "x" }) { id } }', { id: b.active }]],
    ["scheduleCampaign", () => ['mutation($id: ID!) { scheduleCampaign(id: $id, startsAt: "2099-01-01T00:00:00Z") { id } }', { id: b.draft }]],
    ["unscheduleCampaign", () => ["mutation($id: ID!) { unscheduleCampaign(id: $id) { id } }", { id: b.scheduled }]],
    ["activateCampaign", () => ["mutation($id: ID!) { activateCampaign(id: $id) { id } }", { id: b.draft }]],
    ["pauseCampaign", () => ["mutation($id: ID!) { pauseCampaign(id: $id) { id } }", { id: b.active }]],
    ["endCampaign", () => ["mutation($id: ID!) { endCampaign(id: $id) { id } }", { id: b.active }]],
    ["createOffer in another tenant's campaign", () => ['mutation($c: ID!) { createOffer(input: { campaignId: $c, name: "x", value: { percentOffBps: 100 }, codeKind: NONE }) { id } }', { c: b.active }]],
    ["updateOffer", () => ["mutation($id: ID!) { updateOffer(id: $id, input: { enabled: false }) { id } }", { id: b.shared }]],
    ["generateCodes", () => ["mutation($o: ID!) { generateCodes(offerId: $o, count: 2) { generated } }", { o: b.uniqueOffer }]],
    ["importCodes", () => ['mutation($o: ID!) { importCodes(offerId: $o, codesCsv: "ISOLATION-1\\nISOLATION-2") { imported } }', { o: b.uniqueOffer }]],
    ["redeem by code", () => [`mutation($c: String!) { redeem(input: { code: $c, customerRef: "x", orderAmount: ${order} }) { id } }`, { c: b.sharedCode }]],
    ["redeem a unique code", () => [`mutation($c: String!) { redeem(input: { code: $c, customerRef: "x", orderAmount: ${order} }) { id } }`, { c: b.uniqueCode }]],
    ["redeem by offer", () => [`mutation($o: ID!) { redeem(input: { offerId: $o, customerRef: "x", orderAmount: ${order} }) { id } }`, { o: b.none }]],
    ["refundTransaction", () => ["mutation($id: ID!) { refundTransaction(id: $id) { refund { id } } }", { id: b.redemption }]],
  ];

  for (const [name, make] of cases) {
    it(`${name} with tenant B's id answers NOT_FOUND`, async () => {
      const [query, variables] = make();
      const res = await s.bas(s.a.users.owner, query, variables);
      expect(errorCode(res), JSON.stringify(res.body)).to.equal("NOT_FOUND");
    });
  }

  // A list filtered by another tenant's campaign or offer is NOT_FOUND too, as svc-identity's users(accountId:).
  const filtered: Array<[string, () => [string, Record<string, unknown>]]> = [
    ["offers of a campaign", () => ["query($c: ID) { offers(campaignId: $c) { nodes { id } } }", { c: b.active }]],
    ["transactions of a campaign", () => ["query($c: ID) { transactions(campaignId: $c) { nodes { id } } }", { c: b.active }]],
    ["transactions of an offer", () => ["query($o: ID) { transactions(offerId: $o) { nodes { id } } }", { o: b.shared }]],
  ];
  for (const [name, make] of filtered) {
    it(`${name} filtered by tenant B's id answers NOT_FOUND`, async () => {
      const [query, variables] = make();
      const res = await s.bas(s.a.users.owner, query, variables);
      expect(errorCode(res), JSON.stringify(res.body)).to.equal("NOT_FOUND");
    });
  }

  it("lists only ever show the caller's tenant", async () => {
    const res = await s.bas(s.a.users.owner, "{ campaigns(first: 200) { nodes { id } } offers(first: 200) { nodes { id } } transactions(first: 200) { nodes { id } } }");
    const data = dataOf<{ nodes: Array<{ id: string }> }>(res, "campaigns");
    const bIds = new Set(Object.values(b));
    const all = [data, ...["offers", "transactions"].map((f) => dataOf<{ nodes: Array<{ id: string }> }>(res, f))].flatMap((c) => c.nodes.map((n) => n.id));
    expect(all.filter((id) => bIds.has(id))).to.deep.equal([]);
  });

  it("left every billing row of tenant B unchanged", async () => {
    expect(await snapshotB()).to.equal(snapshot);
  });
});
