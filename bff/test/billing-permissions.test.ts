import { expect } from "chai";
import { dataOf, errorCode } from "./stack.js";
import { getBillingStack, unique, type BillingStack } from "./billing-stack.js";

const ORDER = { amountMinor: 2_000, currency: "EUR" };
const VALIDATE = "query($i: RedemptionInput!) { validateRedemption(input: $i) { valid discount { amountMinor } } }";
const REDEEM = "mutation($i: RedeemInput!) { redeem(input: $i) { id discount { amountMinor } campaign { name } offer { name } } }";
const CREATE_CAMPAIGN = 'mutation { createCampaign(input: { name: "nope", currency: "EUR" }) { id } }';

/**
 * Billing's role rules and API-key scopes at the edge: viewers and analysts
 * read, admins and owners write and redeem; a key with billing:redeem alone
 * (a partner's checkout) validates and redeems and does nothing else.
 */
describe("billing permissions at the edge", function () {
  this.timeout(60_000);
  let s: BillingStack;
  let campaignId: string;
  let offerId: string;
  let code: string;
  let redemptionId: string;

  const rowCounts = async () =>
    (
      await s.billingPg.query(
        "select (select count(*) from billing.campaigns where tenant_id = $1)::int c, (select count(*) from billing.offers where tenant_id = $1)::int o, (select count(*) from billing.transactions where tenant_id = $1)::int t, (select count(*) from billing.codes where tenant_id = $1)::int k",
        [s.a.id],
      )
    ).rows[0] as Record<string, number>;

  async function createKey(scopes: string[]): Promise<string> {
    const res = await s.bas(s.a.users.owner, "mutation($n: String!, $s: [String!]!) { createApiKey(input: { name: $n, scopes: $s }) { secret } }", { n: unique("key"), s: scopes });
    return dataOf<{ secret: string }>(res, "createApiKey").secret;
  }

  before(async () => {
    s = await getBillingStack();
    const owner = s.a.users.owner;
    code = unique("PERM").toUpperCase();
    campaignId = dataOf<{ id: string }>(await s.bas(owner, 'mutation { createCampaign(input: { name: "Perms", currency: "EUR" }) { id } }'), "createCampaign").id;
    offerId = dataOf<{ id: string }>(
      await s.bas(owner, "mutation($i: CreateOfferInput!) { createOffer(input: $i) { id } }", {
        i: { campaignId, name: "Perm offer", value: { amountOff: { amountMinor: 300, currency: "EUR" } }, codeKind: "SHARED", sharedCode: code },
      }),
      "createOffer",
    ).id;
    dataOf(await s.bas(owner, "mutation($id: ID!) { activateCampaign(id: $id) { id } }", { id: campaignId }), "activateCampaign");
    redemptionId = dataOf<{ id: string }>(await s.bas(owner, REDEEM, { i: { code, customerRef: "owner", orderAmount: ORDER } }), "redeem").id;
  });

  for (const role of ["viewer", "analyst"] as const) {
    it(`lets a ${role} read and validate, and refuses every write and redeem with FORBIDDEN, changing nothing`, async () => {
      const user = s.a.users[role];
      const read = await s.bas(
        user,
        `query($c: ID!, $o: ID!, $t: ID!, $i: RedemptionInput!) {
          campaign(id: $c) { name totals { redemptions } offers { nodes { id codes { nodes { code } } } } }
          campaigns { nodes { id } } offer(id: $o) { name } offers { nodes { id } } transaction(id: $t) { id }
          transactions { nodes { id } } campaignTotals(campaignId: $c) { redemptions } validateRedemption(input: $i) { valid }
        }`,
        { c: campaignId, o: offerId, t: redemptionId, i: { code, customerRef: role, orderAmount: ORDER } },
      );
      expect(read.body.errors, JSON.stringify(read.body.errors)).to.equal(undefined);
      expect(dataOf<{ valid: boolean }>(read, "validateRedemption").valid).to.equal(true);

      const before = await rowCounts();
      for (const [query, variables] of [
        [CREATE_CAMPAIGN, {}],
        ['mutation($id: ID!) { updateCampaign(id: $id, input: { name: "x" }) { id } }', { id: campaignId }],
        ["mutation($id: ID!) { pauseCampaign(id: $id) { id } }", { id: campaignId }],
        ["mutation($id: ID!) { endCampaign(id: $id) { id } }", { id: campaignId }],
        ['mutation($c: ID!) { createOffer(input: { campaignId: $c, name: "x", value: { percentOffBps: 100 }, codeKind: NONE }) { id } }', { c: campaignId }],
        ["mutation($id: ID!) { updateOffer(id: $id, input: { enabled: false }) { id } }", { id: offerId }],
        ["mutation($o: ID!) { generateCodes(offerId: $o, count: 1) { generated } }", { o: offerId }],
        ['mutation($o: ID!) { importCodes(offerId: $o, codesCsv: "X1") { imported } }', { o: offerId }],
        [REDEEM, { i: { code, customerRef: role, orderAmount: ORDER } }],
        ["mutation($id: ID!) { refundTransaction(id: $id) { refund { id } } }", { id: redemptionId }],
      ] as const) {
        expect(errorCode(await s.bas(user, query, variables)), query).to.equal("FORBIDDEN");
      }
      expect(await rowCounts()).to.deep.equal(before);
    });
  }

  it("lets an API key with only billing:redeem validate and redeem, and read the transaction's campaign and offer", async () => {
    const apiKey = await createKey(["billing:redeem"]);
    const valid = await s.bgql(VALIDATE, { i: { code, customerRef: "checkout-1", orderAmount: ORDER } }, { apiKey });
    expect(dataOf(valid, "validateRedemption")).to.deep.equal({ valid: true, discount: { amountMinor: 300 } });
    const redeemed = await s.bgql(REDEEM, { i: { code, customerRef: "checkout-1", orderAmount: ORDER, idempotencyKey: unique("order") } }, { apiKey });
    expect(dataOf<Record<string, unknown>>(redeemed, "redeem")).to.deep.include({ discount: { amountMinor: 300 }, campaign: { name: "Perms" }, offer: { name: "Perm offer" } });
    const me = await s.bgql("{ me { kind scopes } }", {}, { apiKey });
    expect(dataOf(me, "me")).to.deep.equal({ kind: "API_KEY", scopes: ["billing:redeem"] });
  });

  it("refuses a billing:redeem key everything else: campaigns, reads, refunds, identity, and walking from its redemption to codes", async () => {
    const apiKey = await createKey(["billing:redeem"]);
    const before = await rowCounts();
    for (const [query, variables] of [
      [CREATE_CAMPAIGN, {}],
      ['mutation($c: ID!) { createOffer(input: { campaignId: $c, name: "x", value: { percentOffBps: 100 }, codeKind: NONE }) { id } }', { c: campaignId }],
      ["mutation($o: ID!) { generateCodes(offerId: $o, count: 1) { generated } }", { o: offerId }],
      ["mutation($id: ID!) { refundTransaction(id: $id) { refund { id } } }", { id: redemptionId }],
      ["query($c: ID!) { campaign(id: $c) { id } }", { c: campaignId }],
      ["{ campaigns { nodes { id } } }", {}],
      ["query($t: ID!) { transaction(id: $t) { id } }", { t: redemptionId }],
      ["{ transactions { nodes { id } } }", {}],
      ["query($c: String!) { offerByCode(code: $c) { offer { id } } }", { c: code }],
      ["{ tenant { id } }", {}],
    ] as const) {
      expect(errorCode(await s.bgql(query, variables, { apiKey })), query).to.equal("FORBIDDEN");
    }
    const walk = await s.bgql(
      "mutation($i: RedeemInput!) { redeem(input: $i) { id campaign { name offers { nodes { codes { nodes { code } } } } } } }",
      { i: { code, customerRef: "checkout-2", orderAmount: ORDER } },
      { apiKey },
    );
    expect(walk.body.errors?.map((e) => [e.extensions?.code, e.path?.join(".")])).to.deep.equal([["FORBIDDEN", "redeem.campaign.offers"]]);
    // The redemption itself went through (one transaction more); nothing else changed.
    expect(await rowCounts()).to.deep.equal({ ...before, t: before.t! + 1 });
  });

  it("gives billing:read reads only and billing:write campaign changes and refunds, neither redeem", async () => {
    const reader = await createKey(["billing:read"]);
    expect(errorCode(await s.bgql("{ campaigns { nodes { id } } }", {}, { apiKey: reader }))).to.equal(undefined);
    expect(errorCode(await s.bgql(CREATE_CAMPAIGN, {}, { apiKey: reader }))).to.equal("FORBIDDEN");
    expect(errorCode(await s.bgql(REDEEM, { i: { code, customerRef: "r", orderAmount: ORDER } }, { apiKey: reader }))).to.equal("FORBIDDEN");

    const writer = await createKey(["billing:write"]);
    const created = await s.bgql('mutation { createCampaign(input: { name: "by key", currency: "EUR" }) { id } }', {}, { apiKey: writer });
    expect(errorCode(created)).to.equal(undefined);
    expect(errorCode(await s.bgql("{ campaigns { nodes { id } } }", {}, { apiKey: writer }))).to.equal(undefined);
    expect(errorCode(await s.bgql(REDEEM, { i: { code, customerRef: "w", orderAmount: ORDER } }, { apiKey: writer }))).to.equal("FORBIDDEN");
    const refund = await s.bgql("mutation($id: ID!) { refundTransaction(id: $id, amount: { amountMinor: 100, currency: \"EUR\" }) { redemption { status } } }", { id: redemptionId }, { apiKey: writer });
    expect(dataOf(refund, "refundTransaction")).to.deep.equal({ redemption: { status: "PARTIALLY_REFUNDED" } });
  });

  it("refuses an unknown billing scope when a key is created, and shows a user's billing rights in me.scopes", async () => {
    const res = await s.bas(s.a.users.owner, 'mutation { createApiKey(input: { name: "bad", scopes: ["billing:everything"] }) { secret } }');
    expect(res.body.errors?.[0]?.extensions).to.deep.include({ code: "BAD_USER_INPUT", field: "scopes" });
    expect(dataOf(await s.bas(s.a.users.viewer, "{ me { scopes } }"), "me")).to.deep.equal({ scopes: ["identity:read", "billing:read"] });
    expect(dataOf(await s.bas(s.a.users.admin, "{ me { scopes } }"), "me")).to.deep.equal({ scopes: ["identity:read", "identity:write", "billing:read", "billing:write", "billing:redeem", "insights:read", "events:write"] });
  });
});
