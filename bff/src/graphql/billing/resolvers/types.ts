import type { Campaign, CampaignTotals } from "@apgms/proto/apgms/billing/v1/campaign";
import type { Offer, OfferCode, OfferValue } from "@apgms/proto/apgms/billing/v1/offer";
import type { Transaction, ValidateRedemptionResponse } from "@apgms/proto/apgms/billing/v1/transaction";
import type { GraphQLContext } from "../../context.js";
import { connection, pageRequest, type PageArgs } from "../../pagination.js";
import { requireAction } from "../../permissions.js";
import { MinorUnits } from "../../scalars.js";
import { billingEnums, budget, money, orNull, timeOrNull } from "../to-graphql.js";

/**
 * Field resolvers mapping billing's proto messages onto the GraphQL types.
 * The object an answer names (a transaction's campaign and offer, an offer's
 * campaign) is part of that answer; what goes beyond it (a campaign's offers
 * and totals, an offer's codes, the transaction behind a code or a refund)
 * needs billing:read, so a checkout key (billing:redeem) cannot walk from its
 * redemption to the tenant's codes.
 */
export const typeResolvers = {
  MinorUnits,
  ...billingEnums,
  Campaign: {
    budget,
    startsAt: (c: Campaign) => timeOrNull(c.startTime),
    endsAt: (c: Campaign) => timeOrNull(c.endTime),
    createdAt: (c: Campaign) => c.createTime,
    updatedAt: (c: Campaign) => c.updateTime,
    totals: (c: Campaign, _: unknown, ctx: GraphQLContext) => {
      requireAction(ctx.principal, "billing:read");
      return ctx.billingLoaders.totals(c.id);
    },
    offers: async (c: Campaign, args: PageArgs, ctx: GraphQLContext) => {
      requireAction(ctx.principal, "billing:read");
      const res = await ctx.billingLoaders.campaignOffers(c.id, pageRequest(args));
      return connection(res.offers, res.page);
    },
  },
  CampaignTotals: {
    campaign: (t: CampaignTotals, _: unknown, ctx: GraphQLContext) => ctx.billingLoaders.campaign(t.campaignId),
    discountGiven: (t: CampaignTotals) => money(t.discountGiven),
    refunded: (t: CampaignTotals) => money(t.refunded),
    budgetLeft: (t: CampaignTotals) => money(t.budgetLeft),
    redemptionsLeft: (t: CampaignTotals) => t.redemptionsLeft ?? null,
  },
  OfferValue: {
    percentOffBps: (v: OfferValue) => v.percentOffBps ?? null,
    amountOff: (v: OfferValue) => money(v.amountOff),
    maxDiscount: (v: OfferValue) => money(v.maxDiscount),
  },
  Offer: {
    campaign: (o: Offer, _: unknown, ctx: GraphQLContext) => ctx.billingLoaders.campaign(o.campaignId),
    value: (o: Offer) => o.value ?? {},
    sharedCode: (o: Offer) => orNull(o.sharedCode),
    maxRedemptions: (o: Offer) => orNull(o.maxRedemptions),
    maxPerCustomer: (o: Offer) => orNull(o.maxPerCustomer),
    minOrder: (o: Offer) => money(o.minOrder),
    startsAt: (o: Offer) => timeOrNull(o.startTime),
    endsAt: (o: Offer) => timeOrNull(o.endTime),
    createdAt: (o: Offer) => o.createTime,
    updatedAt: (o: Offer) => o.updateTime,
    codes: async (o: Offer, args: PageArgs & { redeemed?: boolean | null }, ctx: GraphQLContext) => {
      requireAction(ctx.principal, "billing:read");
      const res = await ctx.billingLoaders.offerCodes(o.id, pageRequest(args), args.redeemed ?? undefined);
      return connection(res.codes, res.page);
    },
  },
  OfferCode: {
    offer: (c: OfferCode, _: unknown, ctx: GraphQLContext) => ctx.billingLoaders.offer(c.offerId),
    transaction: (c: OfferCode, _: unknown, ctx: GraphQLContext) => {
      if (!c.transactionId) return null;
      requireAction(ctx.principal, "billing:read");
      return ctx.billingLoaders.transaction(c.transactionId);
    },
    redeemedAt: (c: OfferCode) => timeOrNull(c.redeemTime),
  },
  Transaction: {
    campaign: (t: Transaction, _: unknown, ctx: GraphQLContext) => ctx.billingLoaders.campaign(t.campaignId),
    offer: (t: Transaction, _: unknown, ctx: GraphQLContext) => ctx.billingLoaders.offer(t.offerId),
    code: (t: Transaction) => orNull(t.code),
    orderAmount: (t: Transaction) => money(t.orderAmount),
    discount: (t: Transaction) => money(t.discount),
    refunded: (t: Transaction) => money(t.refunded),
    redemption: (t: Transaction, _: unknown, ctx: GraphQLContext) => {
      if (!t.redemptionId) return null;
      requireAction(ctx.principal, "billing:read");
      return ctx.billingLoaders.transaction(t.redemptionId);
    },
    reason: (t: Transaction) => orNull(t.reason),
    createdAt: (t: Transaction) => t.createTime,
  },
  RedemptionValidation: {
    discount: (v: ValidateRedemptionResponse) => money(v.discount),
    reason: (v: ValidateRedemptionResponse) => orNull(v.reason),
    message: (v: ValidateRedemptionResponse) => orNull(v.message),
    campaign: (v: ValidateRedemptionResponse, _: unknown, ctx: GraphQLContext) => (v.campaignId ? ctx.billingLoaders.campaign(v.campaignId) : null),
    offer: (v: ValidateRedemptionResponse, _: unknown, ctx: GraphQLContext) => (v.offerId ? ctx.billingLoaders.offer(v.offerId) : null),
  },
};
