import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError, PageTokenCodec, type ServiceRegistration } from "@apgms/common";
import {
  OfferServiceService,
  type CreateOfferRequest,
  type OfferServiceServer,
  type OfferValue,
  type UpdateOfferRequest,
} from "@apgms/proto/apgms/billing/v1/offer";
import { lockCampaign, readCampaign, readCampaigns } from "../db/campaigns.js";
import { codePage, countCodesLike, findCode, generateCodes, insertCodes } from "../db/codes.js";
import { addCodeCount, createOffer, findOffer, offerPage, readOffer, readOffers, updateOffer, type NewOffer, type OfferPatch, type OfferValueInput } from "../db/offers.js";
import type { Tx } from "../db/client.js";
import { nameLines, parseCodeCsv } from "../domain/code-csv.js";
import { assertRoom, code, CODE_MAX, codePattern, MAX_CODES_PER_CALL, normalizeCode } from "../domain/codes.js";
import { refusedIn } from "../domain/lifecycle.js";
import type { CampaignRow, OfferRow } from "../domain/model.js";
import { moneyIn } from "../domain/money.js";
import * as v from "../domain/validate.js";
import { codeToProto, codeKindFromProto, offerNeedsCurrency, offerToProto } from "./catalog-to-proto.js";
import { codePages } from "./code-pages.js";
import { scoped, scopedRead, type HandlerDeps, type ReadScope } from "./scope.js";

/** GenerateCodes answers with at most this many of the codes it made. */
export const SAMPLE_MAX = 1_000;

/** An offer through the read cache, or NOT_FOUND (also for another tenant's id). */
async function cachedOffer({ tenantId, cache, q }: ReadScope, id: string): Promise<OfferRow> {
  const offer = await cache.offers.get(tenantId, id, () => readOffer(q, tenantId, id));
  if (!offer) throw new NotFoundError("offer", id);
  return offer;
}

/**
 * The offers as proto: their money fields are in their campaigns' currencies, read through
 * the campaign cache (one batched read), and only for offers that have money fields.
 */
async function offersToProto({ tenantId, cache, q }: ReadScope, offers: readonly OfferRow[]) {
  const ids = [...new Set(offers.filter(offerNeedsCurrency).map((o) => o.campaignId))];
  const campaigns = ids.length === 0 ? new Map<string, CampaignRow>() : await cache.campaigns.getMany(tenantId, ids, (missing) => readCampaigns(q, tenantId, missing));
  return offers.map((o) => offerToProto(o, campaigns.get(o.campaignId)?.currency ?? ""));
}

/** The offer's money fields need its campaign's currency: read in the write transaction. */
async function currencyOf(db: Tx, tenantId: string, offer: OfferRow): Promise<string> {
  if (!offerNeedsCurrency(offer)) return "";
  const campaign = await db.campaign.findUnique({ where: { tenantId_id: { tenantId, id: offer.campaignId } }, select: { currency: true } });
  return campaign?.currency ?? "";
}

/** CreateOffer's input that does not depend on the campaign. */
function offerShape(req: CreateOfferRequest): Omit<NewOffer, "value" | "minOrderMinor"> {
  const codeKind = codeKindFromProto(req.codeKind);
  if (!codeKind) throw new InvalidArgumentError("code_kind", "is required: NONE, SHARED or UNIQUE");
  let sharedCode: string | undefined;
  if (codeKind === "shared") sharedCode = code("shared_code", req.sharedCode);
  else if (req.sharedCode.trim() !== "") throw new InvalidArgumentError("shared_code", "is only for CODE_KIND_SHARED offers");
  const startAt = v.time("start_time", req.startTime);
  const endAt = v.time("end_time", req.endTime);
  v.windowEnd("end_time", startAt, endAt);
  return {
    campaignId: v.uuid("campaign_id", req.campaignId),
    name: v.name("name", req.name),
    codeKind,
    sharedCode,
    maxRedemptions: v.limit("max_redemptions", req.maxRedemptions),
    maxPerCustomer: v.limit("max_per_customer", req.maxPerCustomer),
    startAt,
    endAt,
  };
}

/** The offer's value, its money in the campaign's currency. */
function offerValue(value: OfferValue | undefined, currency: string): OfferValueInput {
  if (!value || (value.percentOffBps === undefined && value.amountOff === undefined)) {
    throw new InvalidArgumentError("value", "set percent_off_bps or amount_off");
  }
  if (value.percentOffBps !== undefined && value.amountOff !== undefined) throw new InvalidArgumentError("value", "set percent_off_bps or amount_off, not both");
  if (value.amountOff !== undefined) {
    if (value.maxDiscount) throw new InvalidArgumentError("value.max_discount", "applies only to percent_off_bps");
    return { kind: "amount", amountOffMinor: moneyIn("value.amount_off", value.amountOff, currency) };
  }
  return {
    kind: "percent",
    bps: v.percentBps("value.percent_off_bps", value.percentOffBps ?? 0),
    maxDiscountMinor: value.maxDiscount ? moneyIn("value.max_discount", value.maxDiscount, currency) : undefined,
  };
}

function patchOf(req: UpdateOfferRequest): OfferPatch {
  if (req.endTime && req.clearEndTime) throw new InvalidArgumentError("clear_end_time", "cannot be set with end_time");
  return {
    name: v.optionalName("name", req.name),
    maxRedemptions: req.maxRedemptions === undefined ? undefined : v.limit("max_redemptions", req.maxRedemptions),
    maxPerCustomer: req.maxPerCustomer === undefined ? undefined : v.limit("max_per_customer", req.maxPerCustomer),
    enabled: req.enabled,
    startAt: v.time("start_time", req.startTime),
    endAt: req.clearEndTime ? null : v.time("end_time", req.endTime),
  };
}

/** The UNIQUE offer codes are added to, with its campaign not ENDED. */
async function offerTakingCodes(db: Tx, tenantId: string, id: string): Promise<OfferRow> {
  const offer = await findOffer(db, tenantId, id);
  if (offer.codeKind !== "unique") {
    throw new FailedPreconditionError(`offer ${id} is CODE_KIND_${offer.codeKind.toUpperCase()}: codes are added to CODE_KIND_UNIQUE offers only`);
  }
  // Read, not locked: a lock held while 100,000 codes are inserted would stall the campaign's redemptions.
  const campaign = await db.campaign.findUnique({ where: { tenantId_id: { tenantId, id: offer.campaignId } }, select: { state: true } });
  if (campaign?.state === "ended") throw refusedIn(offer.campaignId, campaign.state, "add codes to its offers");
  return offer;
}

export function offerService(deps: HandlerDeps): ServiceRegistration {
  const codec = new PageTokenCodec(deps.config.PAGE_TOKEN_SECRET);

  const implementation: OfferServiceServer = {
    createOffer: scoped(deps, "CreateOffer", async (req, { tenantId, db }) => {
      const shape = offerShape(req);
      // Shared: EndCampaign waits for this offer's transaction, and no offer appears in an ENDED campaign.
      const campaign = await lockCampaign(db, tenantId, shape.campaignId, "share");
      if (campaign.state === "ended") throw refusedIn(campaign.id, campaign.state, "add offers to it");
      const value = offerValue(req.value, campaign.currency);
      const minOrderMinor = req.minOrder ? moneyIn("min_order", req.minOrder, campaign.currency) : undefined;
      const offer = await createOffer(db, tenantId, { ...shape, value, minOrderMinor });
      return { offer: offerToProto(offer, campaign.currency) };
    }),

    getOffer: scopedRead(deps, "GetOffer", async (req, scope) => {
      const offer = await cachedOffer(scope, v.uuid("offer_id", req.offerId));
      const [proto] = await offersToProto(scope, [offer]);
      return { offer: proto };
    }),

    batchGetOffers: scopedRead(deps, "BatchGetOffers", async (req, scope) => {
      const ids = v.uuids("offer_ids", req.offerIds, v.BATCH_MAX);
      const found = await scope.cache.offers.getMany(scope.tenantId, ids, (missing) => readOffers(scope.q, scope.tenantId, missing));
      return { offers: await offersToProto(scope, ids.flatMap((id) => found.get(id) ?? [])) };
    }),

    getOfferByCode: scopedRead(deps, "GetOfferByCode", async (req, scope) => {
      const wanted = normalizeCode(v.text("code", req.code, CODE_MAX));
      const found = await findCode(scope.q, scope.tenantId, wanted);
      if (!found) throw new NotFoundError("code", wanted);
      const offer = await cachedOffer(scope, found.offerId);
      const [proto] = await offersToProto(scope, [offer]);
      return { offer: proto, code: found.shared ? undefined : codeToProto(found) };
    }),

    listOffers: scopedRead(deps, "ListOffers", async (req, scope) => {
      const page = scope.pages.read(req.page);
      const campaignId = v.optionalUuid("campaign_id", req.campaignId);
      // A filter naming no campaign of the tenant is NOT_FOUND, as everywhere another tenant's id is.
      if (campaignId && !(await scope.cache.campaigns.get(scope.tenantId, campaignId, () => readCampaign(scope.q, scope.tenantId, campaignId)))) {
        throw new NotFoundError("campaign", campaignId);
      }
      const { offers, nextPageToken } = await offerPage(scope.q, scope.tenantId, page, campaignId);
      return { offers: await offersToProto(scope, offers), page: scope.pages.next(nextPageToken) };
    }),

    updateOffer: scoped(deps, "UpdateOffer", async (req, { tenantId, db, changes }) => {
      const id = v.uuid("offer_id", req.offerId);
      const offer = await updateOffer(db, tenantId, id, patchOf(req), changes);
      return { offer: offerToProto(offer, await currencyOf(db, tenantId, offer)) };
    }),

    generateCodes: scoped(deps, "GenerateCodes", async (req, { tenantId, db, changes }) => {
      const id = v.uuid("offer_id", req.offerId);
      if (!Number.isInteger(req.count) || req.count < 1 || req.count > MAX_CODES_PER_CALL) {
        throw new InvalidArgumentError("count", `must be 1..${MAX_CODES_PER_CALL}`);
      }
      const pattern = codePattern("pattern", req.pattern, "charset", req.charset);
      await offerTakingCodes(db, tenantId, id);
      assertRoom("pattern", pattern, await countCodesLike(db, tenantId, pattern), req.count);
      const made = await generateCodes(db, tenantId, id, pattern, req.count);
      await addCodeCount(db, tenantId, id, made.length, changes);
      return { generated: made.length, sample: made.slice(0, SAMPLE_MAX) };
    }),

    importCodes: scoped(deps, "ImportCodes", async (req, { tenantId, db, changes }) => {
      const id = v.uuid("offer_id", req.offerId);
      const rows = parseCodeCsv("csv", req.csv);
      await offerTakingCodes(db, tenantId, id);
      const inserted = new Set(await insertCodes(db, tenantId, id, rows.map((r) => r.code)));
      if (inserted.size < rows.length) {
        // Thrown inside the transaction: it rolls back, and not one code of the file is kept.
        const taken = rows.filter((r) => !inserted.has(r.code)).map((r) => `line ${r.line}: ${r.code}`);
        throw new AlreadyExistsError(`csv: ${taken.length} codes are already codes of this tenant: ${nameLines(taken)}`, "csv");
      }
      await addCodeCount(db, tenantId, id, rows.length, changes);
      return { imported: rows.length };
    }),

    listCodes: scopedRead(deps, "ListCodes", async (req, scope) => {
      const id = v.uuid("offer_id", req.offerId);
      const pages = codePages(codec, scope.tenantId, req);
      const page = pages.read(req.page);
      await cachedOffer(scope, id);
      const { codes, last } = await codePage(scope.q, scope.tenantId, id, page.size, page.after, req.redeemed);
      return { codes: codes.map(codeToProto), page: pages.next(last) };
    }),
  };
  return { name: "apgms.billing.v1.OfferService", definition: OfferServiceService, implementation };
}
