// Offers: hot reads (one statement through TenantReader, cached by the handlers), the list,
// and the writes in the call's transaction. An offer's money fields are in its campaign's
// currency, which lives on the campaign only.
import { randomUUID } from "node:crypto";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, slicePage, type Page } from "@apgms/common";
import type { BillingChanges } from "../cache.js";
import { OFFER_TIMES, type CodeKind, type OfferRow } from "../domain/model.js";
import { changedWindow } from "../domain/validate.js";
import type { Prisma } from "../generated/prisma/client.js";
import type { Tx } from "./client.js";
import { offerRow } from "./rows.js";
import { dates, ms, num, txQuery, type Raw, type TenantQuery } from "./sql.js";

// The shared code is read only for a SHARED offer: CASE evaluates its subquery on demand, so an
// offer with 100,000 unique codes does not scan them for it.
const OFFER = `o.tenant_id AS "tenantId", o.id, o.campaign_id AS "campaignId", o.name, o.value_kind::text AS "valueKind",
  o.percent_bps AS "percentBps", ${num("o.amount_off_minor", "amountOffMinor")}, ${num("o.max_discount_minor", "maxDiscountMinor")},
  o.code_kind::text AS "codeKind",
  CASE WHEN o.code_kind = 'shared' THEN
    (SELECT k.code FROM billing.codes k WHERE k.tenant_id = o.tenant_id AND k.offer_id = o.id AND k.shared LIMIT 1) END AS "sharedCode",
  ${num("o.max_redemptions", "maxRedemptions")}, ${num("o.max_per_customer", "maxPerCustomer")}, ${num("o.min_order_minor", "minOrderMinor")},
  ${ms("o.start_at", "startAt")}, ${ms("o.end_at", "endAt")}, o.enabled, ${num("o.redemption_count", "redemptionCount")},
  ${num("o.code_count", "codeCount")}, ${num("o.codes_redeemed", "codesRedeemed")}, ${ms("o.created_at", "createdAt")}, ${ms("o.updated_at", "updatedAt")}`;

type RawOffer = Raw<OfferRow, (typeof OFFER_TIMES)[number]>;
const asOffer = (row: RawOffer): OfferRow => dates<OfferRow, (typeof OFFER_TIMES)[number]>(row, OFFER_TIMES);

export async function readOffer(q: TenantQuery, tenantId: string, id: string): Promise<OfferRow | null> {
  const rows = await q<RawOffer>(`SELECT ${OFFER} FROM billing.offers o WHERE o.tenant_id = $1 AND o.id = $2`, [tenantId, id]);
  return rows[0] ? asOffer(rows[0]) : null;
}

export async function readOffers(q: TenantQuery, tenantId: string, ids: readonly string[]): Promise<Map<string, OfferRow>> {
  const rows = await q<RawOffer>(`SELECT ${OFFER} FROM billing.offers o WHERE o.tenant_id = $1 AND o.id = ANY($2::uuid[])`, [tenantId, ids]);
  return new Map(rows.map((r) => [r.id, asOffer(r)]));
}

/** A page of the tenant's offers (optionally one campaign's), newest first; no campaign check. */
export async function offerPage(q: TenantQuery, tenantId: string, page: Page, campaignId?: string) {
  const values: unknown[] = [tenantId];
  let where = "o.tenant_id = $1";
  if (campaignId) {
    values.push(campaignId);
    where += ` AND o.campaign_id = $${values.length}::uuid`;
  }
  if (page.after) {
    values.push(page.after.createdAt, page.after.id);
    where += ` AND (o.created_at, o.id) < ($${values.length - 1}::timestamptz, $${values.length}::uuid)`;
  }
  values.push(page.size + 1);
  const rows = await q<RawOffer>(`SELECT ${OFFER} FROM billing.offers o WHERE ${where} ORDER BY o.created_at DESC, o.id DESC LIMIT $${values.length}`, values);
  const { items, nextPageToken } = slicePage(rows.map(asOffer), page.size);
  return { offers: items, nextPageToken };
}

export type OfferValueInput = { kind: "percent"; bps: number; maxDiscountMinor?: number } | { kind: "amount"; amountOffMinor: number };

export interface NewOffer {
  campaignId: string;
  name: string;
  value: OfferValueInput;
  codeKind: CodeKind;
  /** CODE_KIND_SHARED: normalized (domain/codes.ts). */
  sharedCode?: string;
  maxRedemptions: number;
  maxPerCustomer: number;
  minOrderMinor?: number;
  startAt?: Date;
  endAt?: Date;
}

const big = (n: number | undefined): bigint | null => (n === undefined ? null : BigInt(n));

/** Creates the offer and, for a SHARED one, its code (ALREADY_EXISTS when the tenant already has that code). */
export async function createOffer(db: Tx, tenantId: string, input: NewOffer): Promise<OfferRow> {
  const { value } = input;
  const created = await db.offer.create({
    data: {
      tenantId,
      id: randomUUID(),
      campaignId: input.campaignId,
      name: input.name,
      valueKind: value.kind,
      percentBps: value.kind === "percent" ? value.bps : null,
      amountOffMinor: value.kind === "amount" ? BigInt(value.amountOffMinor) : null,
      maxDiscountMinor: value.kind === "percent" ? big(value.maxDiscountMinor) : null,
      codeKind: input.codeKind,
      maxRedemptions: BigInt(input.maxRedemptions),
      maxPerCustomer: BigInt(input.maxPerCustomer),
      minOrderMinor: big(input.minOrderMinor),
      startAt: input.startAt ?? null,
      endAt: input.endAt ?? null,
    },
  });
  let sharedCode: string | null = null;
  if (input.codeKind === "shared" && input.sharedCode) {
    // ON CONFLICT DO NOTHING: a taken code is answered, not a unique violation that aborts the transaction.
    const { count } = await db.code.createMany({ data: [{ tenantId, code: input.sharedCode, offerId: created.id, shared: true }], skipDuplicates: true });
    if (count === 0) throw new AlreadyExistsError(`shared_code: ${input.sharedCode} is already a code of this tenant`, "shared_code");
    sharedCode = input.sharedCode;
  }
  return offerRow(created, sharedCode);
}

/** The offer, locked until the transaction ends. NOT_FOUND in another tenant. */
export async function lockOffer(db: Tx, tenantId: string, id: string): Promise<OfferRow> {
  const rows = await txQuery<RawOffer>(db, `SELECT ${OFFER} FROM billing.offers o WHERE o.tenant_id = $1::uuid AND o.id = $2::uuid FOR UPDATE OF o`, tenantId, id);
  if (!rows[0]) throw new NotFoundError("offer", id);
  return asOffer(rows[0]);
}

/** The offer as the write transaction sees it, without a lock. NOT_FOUND in another tenant. */
export async function findOffer(db: Tx, tenantId: string, id: string): Promise<OfferRow> {
  const rows = await txQuery<RawOffer>(db, `SELECT ${OFFER} FROM billing.offers o WHERE o.tenant_id = $1::uuid AND o.id = $2::uuid`, tenantId, id);
  if (!rows[0]) throw new NotFoundError("offer", id);
  return asOffer(rows[0]);
}

export interface OfferPatch {
  name?: string;
  maxRedemptions?: number;
  maxPerCustomer?: number;
  enabled?: boolean;
  startAt?: Date;
  /** null: remove the end time. */
  endAt?: Date | null;
}

/** UpdateOffer under the offer's row lock: a limit may not drop below what is already used (0 lifts it). */
export async function updateOffer(db: Tx, tenantId: string, id: string, patch: OfferPatch, changes: BillingChanges): Promise<OfferRow> {
  const row = await lockOffer(db, tenantId, id);
  const data: Prisma.OfferUpdateInput = {};
  if (patch.name !== undefined && patch.name !== row.name) data.name = patch.name;
  if (patch.enabled !== undefined && patch.enabled !== row.enabled) data.enabled = patch.enabled;
  if (patch.maxRedemptions !== undefined && patch.maxRedemptions !== row.maxRedemptions) {
    if (patch.maxRedemptions > 0 && patch.maxRedemptions < row.redemptionCount) {
      throw new FailedPreconditionError(`max_redemptions: ${patch.maxRedemptions} is less than the ${row.redemptionCount} redemptions offer ${id} already has`);
    }
    data.maxRedemptions = BigInt(patch.maxRedemptions);
  }
  if (patch.maxPerCustomer !== undefined && patch.maxPerCustomer !== row.maxPerCustomer) {
    if (patch.maxPerCustomer > 0) {
      const most = await mostByOneCustomer(db, tenantId, id);
      if (patch.maxPerCustomer < most) {
        throw new FailedPreconditionError(`max_per_customer: ${patch.maxPerCustomer} is less than the ${most} redemptions one customer already has of offer ${id}`);
      }
    }
    data.maxPerCustomer = BigInt(patch.maxPerCustomer);
  }
  if (patch.startAt !== undefined && patch.startAt.getTime() !== row.startAt?.getTime()) data.startAt = patch.startAt;
  if (patch.endAt !== undefined && patch.endAt?.getTime() !== row.endAt?.getTime()) data.endAt = patch.endAt;
  if (data.startAt !== undefined || data.endAt !== undefined) {
    const start = data.startAt !== undefined ? (data.startAt as Date) : row.startAt;
    const end = data.endAt !== undefined ? (data.endAt as Date | null) : row.endAt;
    changedWindow(start, end, data.endAt !== undefined);
  }
  if (Object.keys(data).length === 0) return row;
  changes.offer(tenantId, id);
  const updated = await db.offer.update({ where: { tenantId_id: { tenantId, id } }, data });
  return offerRow(updated, row.sharedCode);
}

async function mostByOneCustomer(db: Tx, tenantId: string, offerId: string): Promise<number> {
  const { _max } = await db.customerRedemption.aggregate({ where: { tenantId, offerId }, _max: { count: true } });
  return _max.count === null ? 0 : Number(_max.count);
}

/** Counts `added` new codes on the offer (an atomic increment: no lock held while codes are made). */
export async function addCodeCount(db: Tx, tenantId: string, offerId: string, added: number, changes: BillingChanges): Promise<void> {
  changes.offer(tenantId, offerId);
  await db.offer.update({ where: { tenantId_id: { tenantId, id: offerId } }, data: { codeCount: { increment: BigInt(added) } } });
}
