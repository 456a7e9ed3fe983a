import type { Campaign } from "@apgms/proto/apgms/billing/v1/campaign";
import type { CodeKind, Offer } from "@apgms/proto/apgms/billing/v1/offer";
import type { Money } from "@apgms/proto/apgms/common/v1/money";
import type { GraphQLContext } from "../../context.js";
import { requireAction } from "../../permissions.js";
import { budgetIn, moneyIn, type Nullable, offerValueIn, opt, redemptionIn, type OfferValueArgs, type RedemptionArgs } from "./inputs.js";

type Id = { id: string };

export interface CampaignInput {
  name: string;
  description: string;
  currency: string;
  budget: { spendMinor?: number | null; redemptions?: number | null };
  startsAt: Date;
  endsAt: Date;
}

export interface OfferInput {
  campaignId: string;
  name: string;
  value: OfferValueArgs;
  codeKind: CodeKind;
  sharedCode: string;
  maxRedemptions: number;
  maxPerCustomer: number;
  minOrder: Money;
  startsAt: Date;
  endsAt: Date;
}

/** A mutation's campaign or offer replaces what this request's loaders hold for it. */
function changedCampaign(ctx: GraphQLContext, campaign: Campaign | undefined): Campaign | undefined {
  if (campaign) ctx.billingLoaders.remember({ campaigns: [campaign] });
  return campaign;
}

function changedOffer(ctx: GraphQLContext, offer: Offer | undefined): Offer | undefined {
  if (offer) ctx.billingLoaders.remember({ offers: [offer] });
  return offer;
}

type Transition = "unscheduleCampaign" | "activateCampaign" | "pauseCampaign" | "endCampaign";

/** The lifecycle steps that take nothing but the campaign. */
function transition(rpc: Transition) {
  return async (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:write");
    return changedCampaign(ctx, (await ctx.billing.campaigns[rpc]({ campaignId: id })).campaign);
  };
}

export const mutationResolvers = {
  createCampaign: async (_: unknown, { input }: { input: Nullable<CampaignInput> & { name: string; currency: string } }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:write");
    const res = await ctx.billing.campaigns.createCampaign({
      name: input.name,
      description: input.description ?? "",
      currency: input.currency,
      budget: budgetIn(input.budget),
      startTime: opt(input.startsAt),
      endTime: opt(input.endsAt),
    });
    return changedCampaign(ctx, res.campaign);
  },

  updateCampaign: async (
    _: unknown,
    { id, input }: Id & { input: Nullable<CampaignInput & { clearBudget: boolean; clearEndsAt: boolean }> },
    ctx: GraphQLContext,
  ) => {
    requireAction(ctx.principal, "billing:write");
    const res = await ctx.billing.campaigns.updateCampaign({
      campaignId: id,
      name: opt(input.name),
      description: opt(input.description),
      currency: opt(input.currency),
      budget: budgetIn(input.budget),
      clearBudget: input.clearBudget ?? false,
      startTime: opt(input.startsAt),
      endTime: opt(input.endsAt),
      clearEndTime: input.clearEndsAt ?? false,
    });
    return changedCampaign(ctx, res.campaign);
  },

  scheduleCampaign: async (_: unknown, { id, startsAt, endsAt }: Id & { startsAt: Date; endsAt?: Date | null }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:write");
    const res = await ctx.billing.campaigns.scheduleCampaign({ campaignId: id, startTime: startsAt, endTime: opt(endsAt) });
    return changedCampaign(ctx, res.campaign);
  },

  unscheduleCampaign: transition("unscheduleCampaign"),
  activateCampaign: transition("activateCampaign"),
  pauseCampaign: transition("pauseCampaign"),
  endCampaign: transition("endCampaign"),

  createOffer: async (_: unknown, { input }: { input: Nullable<OfferInput> & Pick<OfferInput, "campaignId" | "name" | "value" | "codeKind"> }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:write");
    const res = await ctx.billing.offers.createOffer({
      campaignId: input.campaignId,
      name: input.name,
      value: offerValueIn(input.value),
      codeKind: input.codeKind,
      sharedCode: input.sharedCode ?? "",
      maxRedemptions: input.maxRedemptions ?? 0,
      maxPerCustomer: input.maxPerCustomer ?? 0,
      minOrder: moneyIn(input.minOrder),
      startTime: opt(input.startsAt),
      endTime: opt(input.endsAt),
    });
    return changedOffer(ctx, res.offer);
  },

  updateOffer: async (
    _: unknown,
    { id, input }: Id & { input: Nullable<{ name: string; maxRedemptions: number; maxPerCustomer: number; enabled: boolean; startsAt: Date; endsAt: Date; clearEndsAt: boolean }> },
    ctx: GraphQLContext,
  ) => {
    requireAction(ctx.principal, "billing:write");
    const res = await ctx.billing.offers.updateOffer({
      offerId: id,
      name: opt(input.name),
      maxRedemptions: opt(input.maxRedemptions),
      maxPerCustomer: opt(input.maxPerCustomer),
      enabled: opt(input.enabled),
      startTime: opt(input.startsAt),
      endTime: opt(input.endsAt),
      clearEndTime: input.clearEndsAt ?? false,
    });
    return changedOffer(ctx, res.offer);
  },

  generateCodes: async (
    _: unknown,
    args: { offerId: string; count: number; pattern?: string | null; charset?: string | null },
    ctx: GraphQLContext,
  ) => {
    requireAction(ctx.principal, "billing:write");
    const res = await ctx.billing.offers.generateCodes({ offerId: args.offerId, count: args.count, pattern: args.pattern ?? "", charset: args.charset ?? "" });
    ctx.billingLoaders.forget({ offerId: args.offerId });
    return { generated: res.generated, sample: res.sample };
  },

  /** The argument is codesCsv, not csv: the audit trail redacts what is named like a code, and these are bearer codes. */
  importCodes: async (_: unknown, { offerId, codesCsv }: { offerId: string; codesCsv: string }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:write");
    const res = await ctx.billing.offers.importCodes({ offerId, csv: Buffer.from(codesCsv, "utf8") });
    ctx.billingLoaders.forget({ offerId });
    return { imported: res.imported };
  },

  redeem: async (_: unknown, { input }: { input: RedemptionArgs & { idempotencyKey?: string | null } }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:redeem");
    const res = await ctx.billing.transactions.redeem({ ...redemptionIn(input), idempotencyKey: input.idempotencyKey ?? "" });
    const t = res.transaction!;
    ctx.billingLoaders.forget({ campaignId: t.campaignId, offerId: t.offerId });
    ctx.billingLoaders.remember({ transactions: [t] });
    return t;
  },

  refundTransaction: async (
    _: unknown,
    args: Id & { amount?: Money | null; reason?: string | null; idempotencyKey?: string | null },
    ctx: GraphQLContext,
  ) => {
    requireAction(ctx.principal, "billing:write");
    const res = await ctx.billing.transactions.refundTransaction({
      transactionId: args.id,
      amount: moneyIn(args.amount),
      reason: args.reason ?? "",
      idempotencyKey: args.idempotencyKey ?? "",
    });
    const redemption = res.redemption!;
    ctx.billingLoaders.forget({ campaignId: redemption.campaignId, offerId: redemption.offerId });
    ctx.billingLoaders.remember({ transactions: [res.refund!, redemption] });
    return { refund: res.refund, redemption };
  },
};
