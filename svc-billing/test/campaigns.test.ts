import { randomUUID } from "node:crypto";
import { status } from "@grpc/grpc-js";
import { CampaignState, type Campaign } from "@apgms/proto/apgms/billing/v1/campaign";
import { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import { expect } from "chai";
import type { CampaignAction } from "../src/domain/lifecycle.js";
import type { CampaignState as StoredState } from "../src/domain/model.js";
import { expectError, startHarness, type Harness } from "./harness.js";

const HOUR = 3_600_000;
const later = (ms = HOUR) => new Date(Date.now() + ms);

const STATES: StoredState[] = ["draft", "scheduled", "active", "paused", "ended"];
const PROTO_STATE: Record<StoredState, CampaignState> = {
  draft: CampaignState.CAMPAIGN_STATE_DRAFT,
  scheduled: CampaignState.CAMPAIGN_STATE_SCHEDULED,
  active: CampaignState.CAMPAIGN_STATE_ACTIVE,
  paused: CampaignState.CAMPAIGN_STATE_PAUSED,
  ended: CampaignState.CAMPAIGN_STATE_ENDED,
};

/** The lifecycle as campaign.proto states it: action → (from → to), and the event each announces. */
const LEGAL: Record<CampaignAction, { from: StoredState[]; to: StoredState; event?: string }> = {
  schedule: { from: ["draft"], to: "scheduled", event: "campaign.scheduled" },
  unschedule: { from: ["scheduled"], to: "draft" },
  activate: { from: ["draft", "scheduled", "paused"], to: "active", event: "campaign.activated" },
  pause: { from: ["active"], to: "paused", event: "campaign.paused" },
  end: { from: ["draft", "scheduled", "active", "paused"], to: "ended", event: "campaign.ended" },
};

describe("CampaignService", function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness("billing_campaigns");
  });
  after(async () => h?.stop());

  type Ctx = ReturnType<Harness["tenant"]>["ctx"];

  async function create(ctx: Ctx, extra: Partial<Parameters<Harness["campaigns"]["createCampaign"]>[0]> = {}): Promise<Campaign> {
    const { campaign } = await h.campaigns.createCampaign(
      { name: "Summer sale", description: "", currency: "EUR", budget: undefined, startTime: undefined, endTime: undefined, ...extra },
      ctx,
    );
    return campaign!;
  }

  /** Puts a campaign in `state` directly in the database (the tables' owner), as a fixture. */
  async function setState(tenantId: string, id: string, state: StoredState, startAt: Date | null = null) {
    await h.prisma.campaign.update({ where: { tenantId_id: { tenantId, id } }, data: { state, startAt } });
  }

  const stored = (tenantId: string, id: string) => h.prisma.campaign.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id } } });
  const events = (tenantId: string, aggregateId: string) =>
    h.prisma.outbox.findMany({ where: { tenantId, aggregateId }, orderBy: { seq: "asc" } });

  function call(action: CampaignAction, campaignId: string, ctx: Ctx) {
    switch (action) {
      case "schedule":
        return h.campaigns.scheduleCampaign({ campaignId, startTime: later(), endTime: undefined }, ctx);
      case "unschedule":
        return h.campaigns.unscheduleCampaign({ campaignId }, ctx);
      case "activate":
        return h.campaigns.activateCampaign({ campaignId }, ctx);
      case "pause":
        return h.campaigns.pauseCampaign({ campaignId }, ctx);
      case "end":
        return h.campaigns.endCampaign({ campaignId }, ctx);
    }
  }

  it("creates a DRAFT campaign and reads it back, alone and in batches (request order, unknown ids left out)", async () => {
    const t = h.tenant();
    const start = later();
    const a = await create(t.ctx, { name: " Spring ", description: "All of\nspring", budget: { spendMinor: 50_000 }, startTime: start, endTime: later(2 * HOUR) });
    expect(a).to.include({ name: "Spring", description: "All of\nspring", state: CampaignState.CAMPAIGN_STATE_DRAFT, currency: "EUR", tenantId: t.tenantId });
    expect(a.budget).to.deep.equal({ spendMinor: 50_000, redemptions: undefined });
    expect(a.startTime?.getTime()).to.equal(start.getTime());
    const b = await create(t.ctx, { name: "Yen", currency: "JPY", budget: { redemptions: 10 } });
    expect(b.budget).to.deep.equal({ spendMinor: undefined, redemptions: 10 });
    expect((await h.campaigns.getCampaign({ campaignId: a.id }, t.ctx)).campaign).to.deep.equal(a);
    const { campaigns } = await h.campaigns.batchGetCampaigns({ campaignIds: [b.id, randomUUID(), a.id.toUpperCase()] }, t.ctx);
    expect(campaigns.map((c) => c.id)).to.deep.equal([b.id, a.id]);
  });

  it("refuses bad input naming the field", async () => {
    const t = h.tenant();
    await expectError(create(t.ctx, { name: " " }), status.INVALID_ARGUMENT, "name");
    await expectError(create(t.ctx, { currency: "" }), status.INVALID_ARGUMENT, "currency");
    await expectError(create(t.ctx, { currency: "eur" }), status.INVALID_ARGUMENT, "currency");
    await expectError(create(t.ctx, { currency: "XYZ" }), status.INVALID_ARGUMENT, "currency");
    await expectError(create(t.ctx, { currency: "HRK" }), status.INVALID_ARGUMENT, "currency");
    await expectError(create(t.ctx, { budget: { spendMinor: 0 } }), status.INVALID_ARGUMENT, "budget.spend_minor");
    await expectError(create(t.ctx, { budget: { redemptions: -1 } }), status.INVALID_ARGUMENT, "budget.redemptions");
    await expectError(create(t.ctx, { budget: {} }), status.INVALID_ARGUMENT, "budget");
    await expectError(create(t.ctx, { startTime: later(2 * HOUR), endTime: later(HOUR) }), status.INVALID_ARGUMENT, "end_time");
    await expectError(create(t.ctx, { endTime: new Date(Date.now() - HOUR) }), status.INVALID_ARGUMENT, "end_time");
    await expectError(create(t.ctx, { description: "bell\u0007" }), status.INVALID_ARGUMENT, "description");
    await expectError(h.campaigns.getCampaign({ campaignId: "nope" }, t.ctx), status.INVALID_ARGUMENT, "campaign_id");
    await expectError(h.campaigns.batchGetCampaigns({ campaignIds: Array.from({ length: 501 }, () => randomUUID()) }, t.ctx), status.INVALID_ARGUMENT, "campaign_ids");
    await expectError(h.campaigns.listCampaigns({ page: undefined, states: [CampaignState.CAMPAIGN_STATE_UNSPECIFIED], nameContains: "" }, t.ctx), status.INVALID_ARGUMENT, "states[0]");
    expect(await h.prisma.campaign.count({ where: { tenantId: t.tenantId } })).to.equal(0);
  });

  describe("lifecycle", () => {
    for (const from of STATES) {
      for (const action of Object.keys(LEGAL) as CampaignAction[]) {
        const rule = LEGAL[action];
        const legal = rule.from.includes(from);
        it(`${from.toUpperCase()} --${action}--> ${legal ? rule.to.toUpperCase() : "refused, naming " + from.toUpperCase()}`, async () => {
          const t = h.tenant();
          const c = await create(t.ctx);
          await setState(t.tenantId, c.id, from, from === "scheduled" ? later() : null);
          if (legal) {
            const { campaign } = await call(action, c.id, t.ctx);
            expect(campaign?.state).to.equal(PROTO_STATE[rule.to]);
            expect((await stored(t.tenantId, c.id)).state).to.equal(rule.to);
            const written = await events(t.tenantId, c.id);
            expect(written.map((e) => e.eventType)).to.deep.equal(rule.event ? [rule.event] : []);
            if (rule.event) {
              const event = BillingEvent.decode(written[0]!.payload);
              expect(event).to.include({ tenantId: t.tenantId, type: rule.event, id: written[0]!.id });
              expect(event.campaign).to.include({ id: c.id, state: PROTO_STATE[rule.to] });
            }
          } else {
            const err = await expectError(call(action, c.id, t.ctx), status.FAILED_PRECONDITION);
            expect(err.details).to.equal(`campaign ${c.id} is ${from.toUpperCase()}: cannot ${action} it`);
            expect((await stored(t.tenantId, c.id)).state).to.equal(from);
            expect(await events(t.tenantId, c.id)).to.have.length(0);
          }
        });
      }
    }

    it("schedules with a future start (and an end after it), activating brings the start forward, ending sets the end", async () => {
      const t = h.tenant();
      const c = await create(t.ctx);
      await expectError(h.campaigns.scheduleCampaign({ campaignId: c.id, startTime: undefined, endTime: undefined }, t.ctx), status.INVALID_ARGUMENT, "start_time");
      await expectError(h.campaigns.scheduleCampaign({ campaignId: c.id, startTime: new Date(Date.now() - 1000), endTime: undefined }, t.ctx), status.INVALID_ARGUMENT, "start_time");
      await expectError(h.campaigns.scheduleCampaign({ campaignId: c.id, startTime: later(2 * HOUR), endTime: later(HOUR) }, t.ctx), status.INVALID_ARGUMENT, "end_time");
      const start = later();
      const end = later(5 * HOUR);
      const { campaign: scheduled } = await h.campaigns.scheduleCampaign({ campaignId: c.id, startTime: start, endTime: end }, t.ctx);
      expect(scheduled?.startTime?.getTime()).to.equal(start.getTime());
      expect(scheduled?.endTime?.getTime()).to.equal(end.getTime());
      const before = Date.now();
      const { campaign: active } = await h.campaigns.activateCampaign({ campaignId: c.id }, t.ctx);
      expect(active?.startTime?.getTime()).to.be.within(before - 1000, Date.now());
      const { campaign: ended } = await h.campaigns.endCampaign({ campaignId: c.id }, t.ctx);
      expect(ended?.endTime?.getTime()).to.be.within(before - 1000, Date.now());
    });

    it("refuses to activate a campaign whose end time has passed", async () => {
      const t = h.tenant();
      const c = await create(t.ctx);
      await h.prisma.campaign.update({ where: { tenantId_id: { tenantId: t.tenantId, id: c.id } }, data: { state: "paused", endAt: new Date(Date.now() - 1000) } });
      const err = await expectError(h.campaigns.activateCampaign({ campaignId: c.id }, t.ctx), status.FAILED_PRECONDITION);
      expect(err.details).to.match(/is PAUSED and its end time .* has passed/);
      expect((await stored(t.tenantId, c.id)).state).to.equal("paused");
    });

    it("racing transitions apply one at a time: states follow the lifecycle and each success writes its event once", async () => {
      const t = h.tenant();
      const c = await create(t.ctx);
      await setState(t.tenantId, c.id, "active");
      const actions: CampaignAction[] = Array.from({ length: 20 }, (_, i) => (["pause", "activate", "pause", "end"] as const)[i % 4]!);
      const results = await Promise.allSettled(actions.map((a) => call(a, c.id, t.ctx)));
      const succeeded = actions.filter((_, i) => results[i]!.status === "fulfilled");
      for (const r of results) {
        if (r.status === "rejected") expect((r.reason as { code: number }).code).to.equal(status.FAILED_PRECONDITION);
      }
      expect(succeeded.filter((a) => a === "end")).to.have.length(1);
      expect((await stored(t.tenantId, c.id)).state).to.equal("ended");

      const written = await events(t.tenantId, c.id);
      const count = (type: string) => written.filter((e) => e.eventType === type).length;
      expect(count("campaign.paused")).to.equal(succeeded.filter((a) => a === "pause").length);
      expect(count("campaign.activated")).to.equal(succeeded.filter((a) => a === "activate").length);
      expect(count("campaign.ended")).to.equal(1);
      // Replayed in commit order, the events are a legal path from ACTIVE ending in ENDED.
      let state: StoredState = "active";
      for (const e of written) {
        const action = (Object.keys(LEGAL) as CampaignAction[]).find((a) => LEGAL[a].event === e.eventType)!;
        expect(LEGAL[action].from, `${e.eventType} from ${state}`).to.include(state);
        state = LEGAL[action].to;
        expect(BillingEvent.decode(e.payload).campaign?.state).to.equal(PROTO_STATE[state]);
      }
      expect(state).to.equal("ended");
    });
  });

  describe("UpdateCampaign", () => {
    it("changes currency, budget kind and start time in DRAFT", async () => {
      const t = h.tenant();
      const c = await create(t.ctx, { budget: { spendMinor: 1_000 } });
      const start = later();
      const { campaign } = await h.campaigns.updateCampaign(
        { campaignId: c.id, currency: "USD", budget: { redemptions: 5 }, clearBudget: false, startTime: start, endTime: undefined, clearEndTime: false },
        t.ctx,
      );
      expect(campaign).to.include({ currency: "USD" });
      expect(campaign?.budget).to.deep.equal({ spendMinor: undefined, redemptions: 5 });
      expect(campaign?.startTime?.getTime()).to.equal(start.getTime());
      const { campaign: cleared } = await h.campaigns.updateCampaign(
        { campaignId: c.id, budget: undefined, clearBudget: true, startTime: undefined, endTime: undefined, clearEndTime: false },
        t.ctx,
      );
      expect(cleared?.budget).to.equal(undefined);
    });

    it("after DRAFT: name, description, end time and the budget's size only, never below what is used", async () => {
      const t = h.tenant();
      const c = await create(t.ctx, { budget: { spendMinor: 10_000 } });
      await setState(t.tenantId, c.id, "active");
      await h.prisma.campaign.update({ where: { tenantId_id: { tenantId: t.tenantId, id: c.id } }, data: { spentMinor: 4_000n } });
      const none = { budget: undefined, clearBudget: false, startTime: undefined, endTime: undefined, clearEndTime: false };
      const refused = async (patch: Partial<Parameters<Harness["campaigns"]["updateCampaign"]>[0]>, pattern: RegExp) => {
        const err = await expectError(h.campaigns.updateCampaign({ campaignId: c.id, ...none, ...patch }, t.ctx), status.FAILED_PRECONDITION);
        expect(err.details).to.match(pattern);
      };
      await refused({ currency: "USD" }, new RegExp(`^campaign ${c.id} is ACTIVE: cannot change its currency`));
      await refused({ budget: { redemptions: 10 } }, /is ACTIVE: cannot change its budget kind/);
      await refused({ clearBudget: true }, /is ACTIVE: cannot change its budget kind/);
      await refused({ startTime: later() }, /is ACTIVE: cannot change its start time/);
      await refused({ budget: { spendMinor: 3_999 } }, /3999 is less than the 4000 already given/);

      const end = later(3 * HOUR);
      const { campaign } = await h.campaigns.updateCampaign({ campaignId: c.id, ...none, name: "Renamed", description: "d", budget: { spendMinor: 4_000 }, endTime: end }, t.ctx);
      expect(campaign).to.include({ name: "Renamed", description: "d", state: CampaignState.CAMPAIGN_STATE_ACTIVE });
      expect(campaign?.budget).to.deep.equal({ spendMinor: 4_000, redemptions: undefined });
      expect(campaign?.endTime?.getTime()).to.equal(end.getTime());
      const { campaign: noEnd } = await h.campaigns.updateCampaign({ campaignId: c.id, ...none, clearEndTime: true }, t.ctx);
      expect(noEnd?.endTime).to.equal(undefined);

      await h.campaigns.endCampaign({ campaignId: c.id }, t.ctx);
      await refused({ name: "Too late" }, new RegExp(`^campaign ${c.id} is ENDED: cannot update it$`));
      await refused({ budget: { spendMinor: 20_000 } }, /is ENDED: cannot update it/);
      expect((await stored(t.tenantId, c.id)).name).to.equal("Renamed");
    });

    it("refuses a redemptions budget below the redemptions made, and a currency change once offers are priced in it", async () => {
      const t = h.tenant();
      const c = await create(t.ctx, { budget: { redemptions: 10 } });
      await h.prisma.campaign.update({ where: { tenantId_id: { tenantId: t.tenantId, id: c.id } }, data: { redemptionCount: 6n } });
      const none = { budget: undefined, clearBudget: false, startTime: undefined, endTime: undefined, clearEndTime: false };
      const low = await expectError(h.campaigns.updateCampaign({ campaignId: c.id, ...none, budget: { redemptions: 5 } }, t.ctx), status.FAILED_PRECONDITION);
      expect(low.details).to.match(/5 is less than the 6 redemptions/);
      await h.offers.createOffer(
        {
          campaignId: c.id, name: "Five off", value: { amountOff: { amountMinor: 500, currency: "EUR" }, maxDiscount: undefined }, codeKind: 1,
          sharedCode: "", maxRedemptions: 0, maxPerCustomer: 0, minOrder: undefined, startTime: undefined, endTime: undefined,
        },
        t.ctx,
      );
      const priced = await expectError(h.campaigns.updateCampaign({ campaignId: c.id, ...none, currency: "USD" }, t.ctx), status.FAILED_PRECONDITION);
      expect(priced.details).to.match(/has 1 offers with amounts in EUR: cannot change its currency/);
      expect((await stored(t.tenantId, c.id)).currency).to.equal("EUR");
    });
  });

  it("lists newest first, filtered by states and a case-insensitive name substring, page by page", async () => {
    const t = h.tenant();
    const made: Campaign[] = [];
    for (let i = 0; i < 7; i++) made.push(await create(t.ctx, { name: i % 2 ? `Winter ${i}` : `Summer ${i}` }));
    await setState(t.tenantId, made[1]!.id, "active");
    await setState(t.tenantId, made[4]!.id, "active");
    await setState(t.tenantId, made[5]!.id, "paused");

    const all: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const res = await h.campaigns.listCampaigns({ page: { pageSize: 3, pageToken }, states: [], nameContains: "" }, t.ctx);
      all.push(...res.campaigns.map((c) => c.id));
      pageToken = res.page?.nextPageToken ?? "";
      pages++;
    } while (pageToken);
    expect(pages).to.equal(3);
    expect(all).to.deep.equal(made.map((c) => c.id).reverse());

    const live = await h.campaigns.listCampaigns(
      { page: undefined, states: [CampaignState.CAMPAIGN_STATE_ACTIVE, CampaignState.CAMPAIGN_STATE_PAUSED], nameContains: "" },
      t.ctx,
    );
    expect(live.campaigns.map((c) => c.id)).to.deep.equal([made[5]!.id, made[4]!.id, made[1]!.id]);
    const winter = await h.campaigns.listCampaigns({ page: { pageSize: 2, pageToken: "" }, states: [], nameContains: "wINTER" }, t.ctx);
    expect(winter.campaigns.map((c) => c.name)).to.deep.equal(["Winter 5", "Winter 3"]);
    const next = winter.page?.nextPageToken ?? "";
    const rest = await h.campaigns.listCampaigns({ page: { pageSize: 2, pageToken: next }, states: [], nameContains: "wINTER" }, t.ctx);
    expect(rest.campaigns.map((c) => c.name)).to.deep.equal(["Winter 1"]);
    expect(rest.page?.nextPageToken).to.equal("");
    // A token is bound to its filters.
    await expectError(h.campaigns.listCampaigns({ page: { pageSize: 2, pageToken: next }, states: [], nameContains: "summer" }, t.ctx), status.INVALID_ARGUMENT, "page.page_token");
    expect((await h.campaigns.listCampaigns({ page: undefined, states: [], nameContains: "50%" }, t.ctx)).campaigns).to.have.length(0);
  });

  it("totals come from the campaign's counters: budget left, redemptions left and the share used", async () => {
    const t = h.tenant();
    const spend = await create(t.ctx, { budget: { spendMinor: 10_000 } });
    const uses = await create(t.ctx, { budget: { redemptions: 8 } });
    const open = await create(t.ctx);
    const counters = { spentMinor: 2_500n, refundedMinor: 300n, redemptionCount: 2n };
    for (const c of [spend, uses, open]) await h.prisma.campaign.update({ where: { tenantId_id: { tenantId: t.tenantId, id: c.id } }, data: counters });

    const { totals } = await h.campaigns.getCampaignTotals({ campaignId: spend.id }, t.ctx);
    expect(totals).to.deep.equal({
      campaignId: spend.id,
      redemptions: 2,
      discountGiven: { amountMinor: 2_500, currency: "EUR" },
      refunded: { amountMinor: 300, currency: "EUR" },
      budgetLeft: { amountMinor: 7_500, currency: "EUR" },
      redemptionsLeft: undefined,
      budgetUsedRatio: 0.25,
    });
    const batch = await h.campaigns.batchGetCampaignTotals({ campaignIds: [open.id, randomUUID(), uses.id] }, t.ctx);
    expect(batch.totals.map((x) => x.campaignId)).to.deep.equal([open.id, uses.id]);
    expect(batch.totals[0]).to.include({ budgetUsedRatio: 0, redemptionsLeft: undefined, budgetLeft: undefined });
    expect(batch.totals[1]).to.include({ redemptionsLeft: 6, budgetUsedRatio: 0.25, budgetLeft: undefined });
  });

  it("treats another tenant's campaign as not found in every RPC, and changes nothing", async () => {
    const a = h.tenant();
    const b = h.tenant();
    const theirs = await create(b.ctx, { budget: { spendMinor: 100 } });
    await h.campaigns.getCampaign({ campaignId: theirs.id }, b.ctx); // warm in b's cache
    const id = theirs.id;
    const none = { budget: undefined, clearBudget: false, startTime: undefined, endTime: undefined, clearEndTime: false };
    await expectError(h.campaigns.getCampaign({ campaignId: id }, a.ctx), status.NOT_FOUND);
    await expectError(h.campaigns.getCampaignTotals({ campaignId: id }, a.ctx), status.NOT_FOUND);
    await expectError(h.campaigns.updateCampaign({ campaignId: id, ...none, name: "Mine" }, a.ctx), status.NOT_FOUND);
    await expectError(h.campaigns.scheduleCampaign({ campaignId: id, startTime: later(), endTime: undefined }, a.ctx), status.NOT_FOUND);
    for (const action of ["unschedule", "activate", "pause", "end"] as const) await expectError(call(action, id, a.ctx), status.NOT_FOUND);
    expect((await h.campaigns.batchGetCampaigns({ campaignIds: [id] }, a.ctx)).campaigns).to.have.length(0);
    expect((await h.campaigns.batchGetCampaignTotals({ campaignIds: [id] }, a.ctx)).totals).to.have.length(0);
    expect((await h.campaigns.listCampaigns({ page: undefined, states: [], nameContains: "" }, a.ctx)).campaigns).to.have.length(0);

    const after = await stored(b.tenantId, id);
    expect(after).to.include({ name: "Summer sale", state: "draft" });
    expect(after.updatedAt.getTime()).to.equal(theirs.updateTime?.getTime());
    expect(await h.prisma.outbox.count({ where: { aggregateId: id } })).to.equal(0);
    expect((await h.campaigns.getCampaign({ campaignId: id }, b.ctx)).campaign).to.deep.equal(theirs);
  });

  it("reads through the cache and never serves a stale campaign after a write has returned", async () => {
    const t = h.tenant();
    const c = await create(t.ctx, { budget: { spendMinor: 1_000 } });
    await h.campaigns.getCampaign({ campaignId: c.id }, t.ctx);
    const hits = h.cache.stats().hits;
    await h.campaigns.getCampaign({ campaignId: c.id }, t.ctx);
    expect(h.cache.stats().hits, "the second read is a cache hit").to.be.greaterThan(hits);

    const none = { budget: undefined, clearBudget: false, startTime: undefined, endTime: undefined, clearEndTime: false };
    for (const name of ["First", "Second"]) {
      await h.campaigns.updateCampaign({ campaignId: c.id, ...none, name }, t.ctx);
      for (let i = 0; i < 2; i++) expect((await h.campaigns.getCampaign({ campaignId: c.id }, t.ctx)).campaign?.name).to.equal(name);
    }
    await h.campaigns.updateCampaign({ campaignId: c.id, ...none, budget: { spendMinor: 5_000 } }, t.ctx);
    for (let i = 0; i < 2; i++) {
      const { totals } = await h.campaigns.getCampaignTotals({ campaignId: c.id }, t.ctx);
      expect(totals?.budgetLeft?.amountMinor).to.equal(5_000);
    }
    await h.campaigns.activateCampaign({ campaignId: c.id }, t.ctx);
    for (let i = 0; i < 2; i++) {
      const { campaigns } = await h.campaigns.batchGetCampaigns({ campaignIds: [c.id] }, t.ctx);
      expect(campaigns[0]?.state).to.equal(CampaignState.CAMPAIGN_STATE_ACTIVE);
    }
    await h.campaigns.pauseCampaign({ campaignId: c.id }, t.ctx);
    for (let i = 0; i < 2; i++) expect((await h.campaigns.getCampaign({ campaignId: c.id }, t.ctx)).campaign?.state).to.equal(CampaignState.CAMPAIGN_STATE_PAUSED);
  });
});
