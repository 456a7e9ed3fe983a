import { expect } from "chai";
import { dataOf, errorCode, getStack } from "./stack.js";
import { getBillingStack, unique, type BillingStack } from "./billing-stack.js";

const CAMPAIGN = "id name state currency budget { spend { amountMinor currency } redemptions } startsAt endsAt createdAt";
const TOTALS = "redemptions discountGiven { amountMinor currency } refunded { amountMinor currency } budgetLeft { amountMinor currency } redemptionsLeft budgetUsedRatio";

/** A campaign's life through the edge, against the real svc-billing: every step as a client sees it. */
describe("billing through the edge: campaign → offer → redeem → totals", function () {
  this.timeout(60_000);
  let s: BillingStack;
  before(async () => {
    s = await getBillingStack();
  });

  it("reports svc-billing ready beside svc-identity and Redis", async () => {
    const ready = await fetch(`${s.billingUrl}/readyz`);
    expect(ready.status).to.equal(200);
    // This edge has no svc-insights (insights-stack.ts's has): reported, the edge stays up, degraded.
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(body.checks["svc-insights"]).to.be.a("string").and.not.equal("ok");
    expect(body).to.deep.equal({ status: "degraded", checks: { "svc-identity": "ok", redis: "ok", "svc-billing": "ok", "svc-insights": body.checks["svc-insights"] } });
  });

  it("creates a campaign, a shared-code offer, activates, validates, redeems, refunds and totals it", async () => {
    const admin = s.a.users.admin;
    const code = unique("SUMMER").toUpperCase();
    const created = dataOf<{ id: string; state: string; budget: unknown; currency: string }>(
      await s.bas(admin, `mutation($i: CreateCampaignInput!) { createCampaign(input: $i) { ${CAMPAIGN} } }`, {
        i: { name: "Summer", currency: "EUR", budget: { spendMinor: 10_000 } },
      }),
      "createCampaign",
    );
    expect(created).to.include({ state: "DRAFT", currency: "EUR" });
    expect(created.budget).to.deep.equal({ spend: { amountMinor: 10_000, currency: "EUR" }, redemptions: null });

    const offer = dataOf<{ id: string; codeKind: string; sharedCode: string; value: unknown; maxRedemptions: number | null; campaign: { id: string } }>(
      await s.bas(
        admin,
        `mutation($i: CreateOfferInput!) { createOffer(input: $i) { id codeKind sharedCode maxRedemptions value { percentOffBps amountOff { amountMinor } maxDiscount { amountMinor currency } } campaign { id name } } }`,
        { i: { campaignId: created.id, name: "10% off", value: { percentOffBps: 1000, maxDiscount: { amountMinor: 1500, currency: "EUR" } }, codeKind: "SHARED", sharedCode: code } },
      ),
      "createOffer",
    );
    expect(offer).to.deep.include({ codeKind: "SHARED", sharedCode: code, maxRedemptions: null });
    expect(offer.value).to.deep.equal({ percentOffBps: 1000, amountOff: null, maxDiscount: { amountMinor: 1500, currency: "EUR" } });
    expect(offer.campaign.id).to.equal(created.id);

    // Not active yet: validation says why, and redeem refuses with the same reason.
    const order = { code, customerRef: "cust-1", orderAmount: { amountMinor: 5_000, currency: "EUR" } };
    const early = dataOf<{ valid: boolean; reason: string }>(await s.bas(admin, "query($i: RedemptionInput!) { validateRedemption(input: $i) { valid reason message } }", { i: order }), "validateRedemption");
    expect(early).to.include({ valid: false, reason: "CAMPAIGN_NOT_ACTIVE" });
    const refused = await s.bas(admin, "mutation($i: RedeemInput!) { redeem(input: $i) { id } }", { i: order });
    expect(refused.body.errors?.[0]?.extensions).to.deep.include({ code: "FAILED_PRECONDITION", reason: "CAMPAIGN_NOT_ACTIVE" });

    expect(dataOf<{ state: string }>(await s.bas(admin, "mutation($id: ID!) { activateCampaign(id: $id) { state } }", { id: created.id }), "activateCampaign").state).to.equal("ACTIVE");

    const valid = dataOf<{ valid: boolean; reason: null; discount: unknown; campaign: { id: string }; offer: { id: string } }>(
      await s.bas(admin, "query($i: RedemptionInput!) { validateRedemption(input: $i) { valid reason discount { amountMinor currency } campaign { id } offer { id } } }", { i: order }),
      "validateRedemption",
    );
    expect(valid).to.deep.equal({ valid: true, reason: null, discount: { amountMinor: 500, currency: "EUR" }, campaign: { id: created.id }, offer: { id: offer.id } });

    const redeem = "mutation($i: RedeemInput!) { redeem(input: $i) { id kind status code customerRef orderAmount { amountMinor } discount { amountMinor currency } campaign { name } offer { id } } }";
    const first = dataOf<{ id: string }>(await s.bas(admin, redeem, { i: { ...order, idempotencyKey: "order-1" } }), "redeem");
    expect(first).to.deep.include({ kind: "REDEMPTION", status: "COMPLETED", code, customerRef: "cust-1", orderAmount: { amountMinor: 5_000 }, discount: { amountMinor: 500, currency: "EUR" }, campaign: { name: "Summer" }, offer: { id: offer.id } });
    // A retry with its idempotency key answers the first transaction.
    expect(dataOf<{ id: string }>(await s.bas(admin, redeem, { i: { ...order, idempotencyKey: "order-1" } }), "redeem").id).to.equal(first.id);
    // Capped by maxDiscount: 10% of 200.00 is 20.00, at most 15.00.
    dataOf(await s.bas(admin, redeem, { i: { ...order, customerRef: "cust-2", orderAmount: { amountMinor: 20_000, currency: "EUR" } } }), "redeem");

    const refund = dataOf<{ refund: { kind: string; discount: unknown; redemption: { id: string } }; redemption: { status: string; refunded: unknown } }>(
      await s.bas(admin, "mutation($id: ID!) { refundTransaction(id: $id, amount: { amountMinor: 200, currency: \"EUR\" }, reason: \"returned\") { refund { kind discount { amountMinor } redemption { id } reason } redemption { status refunded { amountMinor } } } }", { id: first.id }),
      "refundTransaction",
    );
    expect(refund.refund).to.deep.equal({ kind: "REFUND", discount: { amountMinor: 200 }, redemption: { id: first.id }, reason: "returned" });
    expect(refund.redemption).to.deep.equal({ status: "PARTIALLY_REFUNDED", refunded: { amountMinor: 200 } });
    const tooMuch = await s.bas(admin, 'mutation($id: ID!) { refundTransaction(id: $id, amount: { amountMinor: 301, currency: "EUR" }) { refund { id } } }', { id: first.id });
    expect(tooMuch.body.errors?.[0]?.extensions).to.deep.equal({ code: "FAILED_PRECONDITION", reason: "REFUND_EXCEEDS_REFUNDABLE" });

    const totals = dataOf<Record<string, unknown>>(await s.bas(s.a.users.viewer, `query($id: ID!) { campaignTotals(campaignId: $id) { ${TOTALS} campaign { id } } }`, { id: created.id }), "campaignTotals");
    expect(totals).to.deep.equal({
      redemptions: 2,
      discountGiven: { amountMinor: 500 + 1_500 - 200, currency: "EUR" },
      refunded: { amountMinor: 200, currency: "EUR" },
      budgetLeft: { amountMinor: 10_000 - 1_800, currency: "EUR" },
      redemptionsLeft: null,
      budgetUsedRatio: 0.18,
      campaign: { id: created.id },
    });
    // The campaign's own totals field agrees, and lists find it.
    const campaign = dataOf<{ totals: unknown; offers: { nodes: Array<{ id: string; redemptionCount: number }> } }>(
      await s.bas(s.a.users.analyst, `query($id: ID!) { campaign(id: $id) { totals { ${TOTALS} campaign { id } } offers { nodes { id redemptionCount } } } }`, { id: created.id }),
      "campaign",
    );
    expect(campaign.totals).to.deep.equal(totals);
    expect(campaign.offers.nodes).to.deep.equal([{ id: offer.id, redemptionCount: 2 }]);
    const listed = dataOf<{ nodes: Array<{ id: string; kind: string }> }>(
      await s.bas(s.a.users.viewer, "query($c: ID!) { transactions(campaignId: $c) { nodes { id kind } } }", { c: created.id }),
      "transactions",
    );
    expect(listed.nodes.map((n) => n.kind)).to.deep.equal(["REFUND", "REDEMPTION", "REDEMPTION"]);
    const filtered = async (args: string, variables: Record<string, unknown> = {}) =>
      dataOf<{ nodes: Array<{ id: string }> }>(await s.bas(s.a.users.viewer, `query($c: ID, $from: DateTime, $to: DateTime) { transactions(campaignId: $c, from: $from, to: $to, ${args}) { nodes { id } } }`, { c: created.id, ...variables }), "transactions").nodes.length;
    expect(await filtered("kind: REFUND")).to.equal(1);
    expect(await filtered("statuses: [PARTIALLY_REFUNDED, REFUNDED]")).to.equal(1);
    expect(await filtered('customerRef: "cust-2"')).to.equal(1);
    expect(await filtered("", { from: new Date(Date.now() + 60_000).toISOString() })).to.equal(0);
    expect(await filtered("", { from: "2001-01-01T00:00:00Z", to: new Date(Date.now() + 60_000).toISOString() })).to.equal(3);
    const byCode = dataOf<{ offer: { id: string }; code: null }>(await s.bas(s.a.users.viewer, "query($c: String!) { offerByCode(code: $c) { offer { id } code { code } } }", { c: code.toLowerCase() }), "offerByCode");
    expect(byCode).to.deep.equal({ offer: { id: offer.id }, code: null });
  });

  it("refuses a redemption past the offer's limit with FAILED_PRECONDITION and reason OFFER_LIMIT_REACHED, as validation predicts", async () => {
    const owner = s.a.users.owner;
    const campaign = dataOf<{ id: string }>(await s.bas(owner, 'mutation { createCampaign(input: { name: "Once", currency: "EUR" }) { id } }'), "createCampaign");
    const offer = dataOf<{ id: string }>(
      await s.bas(owner, "mutation($i: CreateOfferInput!) { createOffer(input: $i) { id } }", {
        i: { campaignId: campaign.id, name: "5 off", value: { amountOff: { amountMinor: 500, currency: "EUR" } }, codeKind: "NONE", maxRedemptions: 1 },
      }),
      "createOffer",
    );
    dataOf(await s.bas(owner, "mutation($id: ID!) { activateCampaign(id: $id) { id } }", { id: campaign.id }), "activateCampaign");
    const order = (customerRef: string) => ({ offerId: offer.id, customerRef, orderAmount: { amountMinor: 2_000, currency: "EUR" } });
    dataOf(await s.bas(owner, "mutation($i: RedeemInput!) { redeem(input: $i) { id } }", { i: order("c1") }), "redeem");
    const v = dataOf<{ valid: boolean; reason: string }>(await s.bas(owner, "query($i: RedemptionInput!) { validateRedemption(input: $i) { valid reason } }", { i: order("c2") }), "validateRedemption");
    expect(v).to.deep.equal({ valid: false, reason: "OFFER_LIMIT_REACHED" });
    const res = await s.bas(owner, "mutation($i: RedeemInput!) { redeem(input: $i) { id } }", { i: order("c2") });
    expect(res.body.data).to.equal(null);
    expect(res.body.errors?.[0]?.extensions).to.deep.equal({ code: "FAILED_PRECONDITION", reason: "OFFER_LIMIT_REACHED" });
  });

  it("names the GraphQL field at fault in the service's input errors", async () => {
    const owner = s.a.users.owner;
    const bad = await s.bas(owner, 'mutation { createCampaign(input: { name: "X", currency: "eur" }) { id } }');
    expect(bad.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "currency" });
    const campaign = dataOf<{ id: string }>(await s.bas(owner, 'mutation { createCampaign(input: { name: "Sched", currency: "EUR" }) { id } }'), "createCampaign");
    const past = await s.bas(owner, 'mutation($id: ID!) { scheduleCampaign(id: $id, startsAt: "2001-01-01T00:00:00Z") { id } }', { id: campaign.id });
    expect(past.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "startsAt" });
    expect(past.body.errors?.[0]?.message).to.equal("startsAt: must be in the future");
    const both = await s.bas(owner, 'mutation { createCampaign(input: { name: "B", currency: "EUR", budget: { spendMinor: 1, redemptions: 1 } }) { id } }');
    expect(both.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "budget" });
    const float = await s.bas(owner, 'mutation { createCampaign(input: { name: "F", currency: "EUR", budget: { spendMinor: 19.99 } }) { id } }');
    expect(float.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "spendMinor" });
    const window = await s.bas(owner, 'query { transactions(from: "2030-01-02T00:00:00Z", to: "2030-01-01T00:00:00Z") { nodes { id } } }');
    expect(window.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "to" });
  });

  it("illegal lifecycle transitions are FAILED_PRECONDITION naming the current state", async () => {
    const owner = s.a.users.owner;
    const campaign = dataOf<{ id: string }>(await s.bas(owner, 'mutation { createCampaign(input: { name: "Life", currency: "EUR" }) { id } }'), "createCampaign");
    const paused = await s.bas(owner, "mutation($id: ID!) { pauseCampaign(id: $id) { state } }", { id: campaign.id });
    expect(paused.body.errors?.[0]?.extensions?.code).to.equal("FAILED_PRECONDITION");
    expect(paused.body.errors?.[0]?.message).to.match(/DRAFT/);
    expect(dataOf<{ state: string }>(await s.bas(owner, "mutation($id: ID!) { endCampaign(id: $id) { state } }", { id: campaign.id }), "endCampaign").state).to.equal("ENDED");
    const again = await s.bas(owner, "mutation($id: ID!) { activateCampaign(id: $id) { state } }", { id: campaign.id });
    expect(again.body.errors?.[0]?.extensions?.code).to.equal("FAILED_PRECONDITION");
    expect(again.body.errors?.[0]?.message).to.match(/ENDED/);
  });

  it("keeps serving identity while svc-billing is unreachable; billing fields answer SERVICE_UNAVAILABLE", async () => {
    // The shared stack's edge has no svc-billing.
    const shared = await getStack();
    const me = await shared.as(shared.a.users.viewer, "{ me { kind } }");
    expect(dataOf(me, "me")).to.deep.equal({ kind: "USER" });
    const campaigns = await shared.as(shared.a.users.viewer, "{ campaigns { nodes { id } } }");
    expect(errorCode(campaigns)).to.equal("SERVICE_UNAVAILABLE");
    const ready = await fetch(`${shared.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(((await ready.json()) as { status: string }).status).to.equal("degraded");
  });

  it("generates and imports unique codes, lists them by state, redeems each once, and keeps them out of the audit trail", async () => {
    const admin = s.a.users.admin;
    const campaignId = dataOf<{ id: string }>(await s.bas(admin, 'mutation { createCampaign(input: { name: "Codes", currency: "EUR" }) { id } }'), "createCampaign").id;
    const offerId = dataOf<{ id: string }>(
      await s.bas(admin, "mutation($c: ID!) { createOffer(input: { campaignId: $c, name: \"unique\", value: { percentOffBps: 2000 }, codeKind: UNIQUE }) { id } }", { c: campaignId }),
      "createOffer",
    ).id;
    const generated = dataOf<{ generated: number; sample: string[] }>(
      await s.bas(admin, "mutation($o: ID!) { generateCodes(offerId: $o, count: 5, pattern: \"GQL-####-####\") { generated sample } }", { o: offerId }),
      "generateCodes",
    );
    expect(generated.generated).to.equal(5);
    for (const c of generated.sample) expect(c).to.match(/^GQL-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    const imported = [unique("IMP").toUpperCase(), unique("IMP").toUpperCase()];
    const importRes = await s.bas(admin, "mutation($o: ID!, $csv: String!) { importCodes(offerId: $o, codesCsv: $csv) { imported } }", { o: offerId, csv: `code\n${imported.join("\n")}\n` });
    expect(dataOf(importRes, "importCodes")).to.deep.equal({ imported: 2 });
    const dup = await s.bas(admin, "mutation($o: ID!, $csv: String!) { importCodes(offerId: $o, codesCsv: $csv) { imported } }", { o: offerId, csv: imported[0] });
    expect(dup.body.errors?.[0]?.extensions).to.deep.include({ code: "CONFLICT", field: "codesCsv" });

    dataOf(await s.bas(admin, "mutation($id: ID!) { activateCampaign(id: $id) { id } }", { id: campaignId }), "activateCampaign");
    const order = { code: imported[0], customerRef: "u1", orderAmount: { amountMinor: 1_000, currency: "EUR" } };
    const t = dataOf<{ id: string; code: string; discount: { amountMinor: number } }>(await s.bas(admin, "mutation($i: RedeemInput!) { redeem(input: $i) { id code discount { amountMinor } } }", { i: order }), "redeem");
    expect(t).to.deep.include({ code: imported[0], discount: { amountMinor: 200 } });
    const again = await s.bas(admin, "mutation($i: RedeemInput!) { redeem(input: $i) { id } }", { i: { ...order, customerRef: "u2" } });
    expect(again.body.errors?.[0]?.extensions).to.deep.equal({ code: "FAILED_PRECONDITION", reason: "CODE_ALREADY_REDEEMED" });
    const byCode = dataOf(await s.bas(s.a.users.viewer, "query($c: String!) { offerByCode(code: $c) { offer { id codeCount codesAvailable } code { code redeemed redeemedAt transaction { id } offer { id } } } }", { c: imported[0] }), "offerByCode") as {
      offer: unknown;
      code: { redeemedAt: string } & Record<string, unknown>;
    };
    expect(byCode.offer).to.deep.equal({ id: offerId, codeCount: 7, codesAvailable: 6 });
    expect(byCode.code).to.deep.include({ code: imported[0], redeemed: true, transaction: { id: t.id }, offer: { id: offerId } });
    expect(Date.parse(byCode.code.redeemedAt)).to.be.a("number").and.not.NaN;

    const codes = (redeemed: boolean) =>
      s.bas(s.a.users.viewer, "query($o: ID!, $r: Boolean) { offer(id: $o) { codes(first: 10, redeemed: $r) { nodes { code redeemed } } } }", { o: offerId, r: redeemed });
    const used = dataOf<{ codes: { nodes: unknown[] } }>(await codes(true), "offer").codes.nodes;
    const unused = dataOf<{ codes: { nodes: unknown[] } }>(await codes(false), "offer").codes.nodes;
    expect(used).to.deep.equal([{ code: imported[0], redeemed: true }]);
    expect(unused).to.have.length(6);

    // Codes are bearer values: the audit trail has the mutations, never a code.
    await s.flushAudit();
    const records = s.audited.filter((e) => e.action === "importCodes" || (e.action === "redeem" && e.targetIds.includes(t.id)));
    expect(records.map((e) => e.action).sort()).to.deep.equal(["importCodes", "importCodes", "redeem"]);
    for (const e of records) expect(JSON.stringify(e)).to.not.include(imported[0]);
    expect(records.find((e) => e.action === "importCodes")!.details).to.deep.include({ codesCsv: "[redacted]" });
  });
});
