import type { CampaignState } from "@apgms/proto/apgms/billing/v1/campaign";
import { TransactionKind, type TransactionStatus } from "@apgms/proto/apgms/billing/v1/transaction";
import type { GraphQLContext } from "../../context.js";
import { forbidden } from "../../errors.js";
import { connection, pageRequest, type PageArgs } from "../../pagination.js";
import { can, requireAction } from "../../permissions.js";
import { redemptionIn, type RedemptionArgs } from "./inputs.js";

type Id = { id: string };

export interface TransactionArgs extends PageArgs {
  campaignId?: string | null;
  offerId?: string | null;
  statuses?: TransactionStatus[] | null;
  kind?: TransactionKind | null;
  customerRef?: string | null;
  from?: Date | null;
  to?: Date | null;
}

export const queryResolvers = {
  campaign: (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:read");
    return ctx.billingLoaders.campaign(id);
  },

  campaigns: async (_: unknown, args: PageArgs & { states?: CampaignState[] | null; nameContains?: string | null }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:read");
    const res = await ctx.billing.campaigns.listCampaigns({ page: pageRequest(args), states: args.states ?? [], nameContains: args.nameContains ?? "" });
    ctx.billingLoaders.remember({ campaigns: res.campaigns });
    return connection(res.campaigns, res.page);
  },

  offer: (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:read");
    return ctx.billingLoaders.offer(id);
  },

  offerByCode: async (_: unknown, { code }: { code: string }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:read");
    const res = await ctx.billing.offers.getOfferByCode({ code });
    ctx.billingLoaders.remember({ offers: [res.offer!] });
    return { offer: res.offer, code: res.code ?? null };
  },

  offers: async (_: unknown, args: PageArgs & { campaignId?: string | null }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:read");
    const res = await ctx.billing.offers.listOffers({ page: pageRequest(args), campaignId: args.campaignId ?? "" });
    ctx.billingLoaders.remember({ offers: res.offers });
    return connection(res.offers, res.page);
  },

  transaction: (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:read");
    return ctx.billingLoaders.transaction(id);
  },

  transactions: async (_: unknown, args: TransactionArgs, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:read");
    const res = await ctx.billing.transactions.listTransactions({
      page: pageRequest(args),
      filter: {
        campaignId: args.campaignId ?? "",
        offerId: args.offerId ?? "",
        statuses: args.statuses ?? [],
        kind: args.kind ?? TransactionKind.TRANSACTION_KIND_UNSPECIFIED,
        customerRef: args.customerRef ?? "",
        startTime: args.from ?? undefined,
        endTime: args.to ?? undefined,
      },
    });
    ctx.billingLoaders.remember({ transactions: res.transactions });
    return connection(res.transactions, res.page);
  },

  campaignTotals: (_: unknown, { campaignId }: { campaignId: string }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "billing:read");
    return ctx.billingLoaders.totals(campaignId);
  },

  /** A reader may ask, and so may a checkout key that may redeem (billing:redeem). */
  validateRedemption: async (_: unknown, { input }: { input: RedemptionArgs }, ctx: GraphQLContext) => {
    if (!can(ctx.principal, "billing:read") && !can(ctx.principal, "billing:redeem")) throw forbidden("not allowed: billing:read or billing:redeem");
    return ctx.billing.transactions.validateRedemption(redemptionIn(input));
  },
};
