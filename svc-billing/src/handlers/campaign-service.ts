import { InvalidArgumentError, NotFoundError, type ServiceRegistration } from "@apgms/common";
import {
  CampaignServiceService,
  type CampaignServiceServer,
  type ListCampaignsRequest,
  type ListCampaignsResponse,
  type UpdateCampaignRequest,
  type UpdateCampaignResponse,
} from "@apgms/proto/apgms/billing/v1/campaign";
import { campaignPage, createCampaign, readCampaign, readCampaigns, transitionCampaign, transitionEvent, updateCampaign, type CampaignPatch, type Schedule } from "../db/campaigns.js";
import { recordEvent } from "../db/outbox.js";
import type { CampaignAction } from "../domain/lifecycle.js";
import type { CampaignRow, CampaignState } from "../domain/model.js";
import { currency } from "../domain/money.js";
import * as v from "../domain/validate.js";
import { campaignToProto, stateFromProto, totalsToProto } from "./catalog-to-proto.js";
import { scoped, scopedRead, type HandlerDeps, type ReadScope, type Scope } from "./scope.js";

/** A campaign through the read cache, or NOT_FOUND (also for another tenant's id). */
async function cachedCampaign({ tenantId, cache, q }: ReadScope, id: string): Promise<CampaignRow> {
  const campaign = await cache.campaigns.get(tenantId, id, () => readCampaign(q, tenantId, id));
  if (!campaign) throw new NotFoundError("campaign", id);
  return campaign;
}

/** Campaigns by id through the read cache, in the order asked; missing ones left out. */
async function cachedCampaigns({ tenantId, cache, q }: ReadScope, field: string, ids: readonly string[]): Promise<CampaignRow[]> {
  const wanted = v.uuids(field, ids, v.BATCH_MAX);
  const found = await cache.campaigns.getMany(tenantId, wanted, (missing) => readCampaigns(q, tenantId, missing));
  return wanted.flatMap((id) => found.get(id) ?? []);
}

/** A lifecycle transition and its outbox event, in the call's transaction. */
async function transition({ tenantId, db, changes }: Scope, campaignId: string, action: CampaignAction, schedule?: Schedule) {
  const id = v.uuid("campaign_id", campaignId);
  const row = await transitionCampaign(db, tenantId, id, action, changes, schedule);
  const campaign = campaignToProto(row);
  const event = transitionEvent(action);
  if (event) await recordEvent(db, tenantId, id, event, { campaign });
  return { campaign };
}

function states(field: string, values: readonly number[]): CampaignState[] {
  return [
    ...new Set(
      values.map((value, i) => {
        const state = stateFromProto(value);
        if (!state) throw new InvalidArgumentError(`${field}[${i}]`, "is not a campaign state");
        return state;
      }),
    ),
  ];
}

function patchOf(req: UpdateCampaignRequest): CampaignPatch {
  if (req.budget && req.clearBudget) throw new InvalidArgumentError("clear_budget", "cannot be set with budget");
  if (req.endTime && req.clearEndTime) throw new InvalidArgumentError("clear_end_time", "cannot be set with end_time");
  return {
    name: v.optionalName("name", req.name),
    description: req.description === undefined ? undefined : v.description("description", req.description),
    currency: req.currency === undefined ? undefined : currency("currency", req.currency),
    budget: req.clearBudget ? null : v.budget("budget", req.budget),
    startAt: v.time("start_time", req.startTime),
    endAt: req.clearEndTime ? null : v.futureTime("end_time", req.endTime),
  };
}

export function campaignService(deps: HandlerDeps): ServiceRegistration {
  const implementation: CampaignServiceServer = {
    createCampaign: scoped(deps, "CreateCampaign", async (req, { tenantId, db }) => {
      const startAt = v.time("start_time", req.startTime);
      const endAt = v.futureTime("end_time", req.endTime);
      v.windowEnd("end_time", startAt, endAt);
      const campaign = await createCampaign(db, tenantId, {
        name: v.name("name", req.name),
        description: v.description("description", req.description),
        currency: currency("currency", req.currency),
        budget: v.budget("budget", req.budget),
        startAt,
        endAt,
      });
      return { campaign: campaignToProto(campaign) };
    }),

    getCampaign: scopedRead(deps, "GetCampaign", async (req, scope) => ({
      campaign: campaignToProto(await cachedCampaign(scope, v.uuid("campaign_id", req.campaignId))),
    })),

    batchGetCampaigns: scopedRead(deps, "BatchGetCampaigns", async (req, scope) => ({
      campaigns: (await cachedCampaigns(scope, "campaign_ids", req.campaignIds)).map(campaignToProto),
    })),

    listCampaigns: scopedRead<ListCampaignsRequest, ListCampaignsResponse>(deps, "ListCampaigns", async (req, { tenantId, pages, q }) => {
      const page = pages.read(req.page);
      const nameContains = req.nameContains.trim() === "" ? undefined : v.text("name_contains", req.nameContains);
      const { campaigns, nextPageToken } = await campaignPage(q, tenantId, page, { states: states("states", req.states), nameContains });
      return { campaigns: campaigns.map(campaignToProto), page: pages.next(nextPageToken) };
    }),

    updateCampaign: scoped<UpdateCampaignRequest, UpdateCampaignResponse>(deps, "UpdateCampaign", async (req, { tenantId, db, changes }) => {
      const id = v.uuid("campaign_id", req.campaignId);
      const campaign = await updateCampaign(db, tenantId, id, patchOf(req), changes);
      return { campaign: campaignToProto(campaign) };
    }),

    scheduleCampaign: scoped(deps, "ScheduleCampaign", async (req, scope) => {
      const startAt = v.futureTime("start_time", req.startTime);
      if (!startAt) throw new InvalidArgumentError("start_time", "is required");
      const endAt = v.time("end_time", req.endTime);
      v.windowEnd("end_time", startAt, endAt);
      return transition(scope, req.campaignId, "schedule", { startAt, endAt });
    }),

    unscheduleCampaign: scoped(deps, "UnscheduleCampaign", (req, scope) => transition(scope, req.campaignId, "unschedule")),
    activateCampaign: scoped(deps, "ActivateCampaign", (req, scope) => transition(scope, req.campaignId, "activate")),
    pauseCampaign: scoped(deps, "PauseCampaign", (req, scope) => transition(scope, req.campaignId, "pause")),
    endCampaign: scoped(deps, "EndCampaign", (req, scope) => transition(scope, req.campaignId, "end")),

    getCampaignTotals: scopedRead(deps, "GetCampaignTotals", async (req, scope) => ({
      totals: totalsToProto(await cachedCampaign(scope, v.uuid("campaign_id", req.campaignId))),
    })),

    batchGetCampaignTotals: scopedRead(deps, "BatchGetCampaignTotals", async (req, scope) => ({
      totals: (await cachedCampaigns(scope, "campaign_ids", req.campaignIds)).map(totalsToProto),
    })),
  };
  return { name: "apgms.billing.v1.CampaignService", definition: CampaignServiceService, implementation };
}
