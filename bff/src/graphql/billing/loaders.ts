import DataLoader from "dataloader";
import type { Campaign, CampaignTotals } from "@apgms/proto/apgms/billing/v1/campaign";
import type { ListCodesResponse, ListOffersResponse, Offer } from "@apgms/proto/apgms/billing/v1/offer";
import type { Transaction } from "@apgms/proto/apgms/billing/v1/transaction";
import type { PageRequest } from "@apgms/proto/apgms/common/v1/pagination";
import type { BillingClients } from "../../billing-clients.js";
import { BATCH_SIZE, byId, notFound } from "../batch-load.js";

export interface BillingLoaders {
  campaign(id: string): Promise<Campaign>;
  offer(id: string): Promise<Offer>;
  totals(campaignId: string): Promise<CampaignTotals>;
  /** By id, one GetTransaction each (svc-billing has no BatchGetTransactions); the same id once per request. */
  transaction(id: string): Promise<Transaction>;
  /** One page of a campaign's offers. */
  campaignOffers(campaignId: string, page: PageRequest): Promise<ListOffersResponse>;
  /** One page of an offer's codes. */
  offerCodes(offerId: string, page: PageRequest, redeemed: boolean | undefined): Promise<ListCodesResponse>;
  /** What a list or a mutation already returned: later fields asking for it by id reuse it (a mutation's result replaces a stale one). */
  remember(value: { campaigns?: Campaign[]; offers?: Offer[]; transactions?: Transaction[] }): void;
  /** After a redemption or refund: the campaign's totals (and offer's counts) are read again if asked for. */
  forget(value: { campaignId?: string; offerId?: string }): void;
}

/**
 * Per-request loaders (DataLoader) over svc-billing's BatchGet RPCs: a page of
 * transactions with their campaign and offer is three gRPC calls (the list,
 * one BatchGetCampaigns, one BatchGetOffers), a page of campaigns with their
 * totals two, however long the page.
 */
export function createBillingLoaders(billing: BillingClients): BillingLoaders {
  const campaign = new DataLoader<string, Campaign>(
    byId(
      async (campaignId) => (await billing.campaigns.getCampaign({ campaignId })).campaign!,
      async (campaignIds) => (await billing.campaigns.batchGetCampaigns({ campaignIds })).campaigns,
      (id) => notFound("campaign", id),
    ),
    { maxBatchSize: BATCH_SIZE },
  );
  const offer = new DataLoader<string, Offer>(
    byId(
      async (offerId) => (await billing.offers.getOffer({ offerId })).offer!,
      async (offerIds) => (await billing.offers.batchGetOffers({ offerIds })).offers,
      (id) => notFound("offer", id),
    ),
    { maxBatchSize: BATCH_SIZE },
  );
  const totals = new DataLoader<string, CampaignTotals>(
    byId(
      async (campaignId) => (await billing.campaigns.getCampaignTotals({ campaignId })).totals!,
      async (campaignIds) => (await billing.campaigns.batchGetCampaignTotals({ campaignIds })).totals,
      (id) => notFound("campaign", id),
      (t) => t.campaignId,
    ),
    { maxBatchSize: BATCH_SIZE },
  );
  const transaction = new DataLoader<string, Transaction>((ids) =>
    Promise.all(ids.map((transactionId) => billing.transactions.getTransaction({ transactionId }).then((r) => r.transaction!, (err: Error) => err))),
  );
  const campaignOffers = new DataLoader<{ campaignId: string; page: PageRequest }, ListOffersResponse, string>(
    (keys) =>
      Promise.all(
        keys.map(({ campaignId, page }) =>
          billing.offers.listOffers({ campaignId, page }).then((res) => {
            remember({ offers: res.offers });
            return res;
          }, (err: Error) => err),
        ),
      ),
    { cacheKeyFn: ({ campaignId, page }) => `${campaignId}\n${page.pageSize}\n${page.pageToken}` },
  );
  const offerCodes = new DataLoader<{ offerId: string; page: PageRequest; redeemed: boolean | undefined }, ListCodesResponse, string>(
    (keys) => Promise.all(keys.map(({ offerId, page, redeemed }) => billing.offers.listCodes({ offerId, page, redeemed }).catch((err: Error) => err))),
    { cacheKeyFn: ({ offerId, page, redeemed }) => `${offerId}\n${page.pageSize}\n${page.pageToken}\n${String(redeemed)}` },
  );
  const put = <V>(loader: DataLoader<string, V>, id: string, v: V) => loader.clear(id).prime(id, v);
  function remember({ campaigns = [], offers = [], transactions = [] }: Parameters<BillingLoaders["remember"]>[0]): void {
    for (const c of campaigns) put(campaign, c.id, c);
    for (const o of offers) put(offer, o.id, o);
    for (const t of transactions) put(transaction, t.id, t);
  }
  return {
    campaign: (id) => campaign.load(id),
    offer: (id) => offer.load(id),
    totals: (campaignId) => totals.load(campaignId),
    transaction: (id) => transaction.load(id),
    campaignOffers: (campaignId, page) => campaignOffers.load({ campaignId, page }),
    offerCodes: (offerId, page, redeemed) => offerCodes.load({ offerId, page, redeemed }),
    remember,
    forget({ campaignId, offerId }) {
      if (campaignId) totals.clear(campaignId);
      if (offerId) offer.clear(offerId);
    },
  };
}
