import type { CodeKind, OfferValueKind, TransactionKind, TransactionStatus } from "../generated/prisma/client.js";
import type { TransactionRow } from "../domain/model.js";
import type { TenantQuery } from "./sql.js";

/** An offer's terms a redemption needs before it runs: none of them changes once the offer exists, so they cache without invalidation. */
export interface OfferTerms {
  offerId: string;
  campaignId: string;
  valueKind: OfferValueKind;
  percentBps: number | null;
  amountOffMinor: number | null;
  maxDiscountMinor: number | null;
  codeKind: CodeKind;
}


/** A bigint column read as text (pg's default for int8), as a number; amounts stay far below 2^53. */
export function int(value: string | number): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe integer: ${value}`);
  return n;
}

const optInt = (value: string | number | null): number | null => (value === null ? null : int(value));

type TermsRow = Omit<OfferTerms, "amountOffMinor" | "maxDiscountMinor"> & { amountOffMinor: string | null; maxDiscountMinor: string | null };

const TERMS = `o.id AS "offerId", o.campaign_id AS "campaignId", o.value_kind AS "valueKind", o.percent_bps AS "percentBps",
  o.amount_off_minor AS "amountOffMinor", o.max_discount_minor AS "maxDiscountMinor", o.code_kind AS "codeKind"`;

const terms = (row: TermsRow | undefined): OfferTerms | null =>
  row ? { ...row, amountOffMinor: optInt(row.amountOffMinor), maxDiscountMinor: optInt(row.maxDiscountMinor) } : null;

export async function offerTerms(q: TenantQuery, tenantId: string, offerId: string): Promise<OfferTerms | null> {
  const [row] = await q<TermsRow>(`SELECT ${TERMS} FROM billing.offers o WHERE o.tenant_id = $1 AND o.id = $2`, [tenantId, offerId]);
  return terms(row);
}

/** The terms of the offer a code belongs to (a code never moves to another offer). */
export async function codeTerms(q: TenantQuery, tenantId: string, code: string): Promise<OfferTerms | null> {
  const [row] = await q<TermsRow>(
    `SELECT ${TERMS} FROM billing.codes c JOIN billing.offers o ON o.tenant_id = c.tenant_id AND o.id = c.offer_id WHERE c.tenant_id = $1 AND c.code = $2`,
    [tenantId, code],
  );
  return terms(row);
}

export interface RedeemCall {
  tenantId: string;
  transactionId: string;
  offerId: string;
  code: string | null;
  customerRef: string;
  orderMinor: number;
  currency: string;
  discountMinor: number;
  idempotencyKey: string | null;
  requestHash: string | null;
  eventId: string;
  event: Uint8Array;
  now: Date;
  dryRun: boolean;
}

export type RedeemOutcome =
  | { outcome: "ok" | "replayed"; transaction: TransactionRow; thresholdPending: number }
  | { outcome: "valid" }
  | { outcome: "refused"; refusal: string; message: string }
  | { outcome: "key_conflict"; transaction: TransactionRow }
  | { outcome: "not_found"; message: string };

interface RedeemResultRow {
  outcome: "ok" | "valid" | "replayed" | "refused" | "key_conflict" | "not_found";
  refusal: string | null;
  message: string | null;
  thresholdPending: number;
  id: string | null;
  kind: TransactionKind;
  status: TransactionStatus;
  campaignId: string;
  offerId: string;
  code: string | null;
  customerRef: string;
  currency: string;
  orderAmountMinor: string | null;
  discountMinor: string;
  refundedMinor: string;
  redemptionId: string | null;
  reason: string;
  createdAt: Date;
}

/** The columns of a transactions row (alias `t`) as a TransactionRow's fields (bigints as text). */
export const TRANSACTION_COLUMNS = (t: string) => `${t}.tenant_id AS "tenantId", ${t}.id, ${t}.kind, ${t}.status, ${t}.campaign_id AS "campaignId", ${t}.offer_id AS "offerId",
  ${t}.code, ${t}.customer_ref AS "customerRef", ${t}.currency, ${t}.order_amount_minor AS "orderAmountMinor", ${t}.discount_minor AS "discountMinor",
  ${t}.refunded_minor AS "refundedMinor", ${t}.redemption_id AS "redemptionId", ${t}.reason, ${t}.created_at AS "createdAt"`;

export type TransactionTextRow = Omit<TransactionRow, "orderAmountMinor" | "discountMinor" | "refundedMinor"> & {
  orderAmountMinor: string | number | null;
  discountMinor: string | number;
  refundedMinor: string | number;
};

export function transactionFromText(r: TransactionTextRow): TransactionRow {
  return { ...r, orderAmountMinor: optInt(r.orderAmountMinor), discountMinor: int(r.discountMinor), refundedMinor: int(r.refundedMinor) };
}

const REDEEM_SQL = `SELECT r.outcome, r.refusal, r.message, r.threshold_pending AS "thresholdPending", ${TRANSACTION_COLUMNS("(r.tx)")}
  FROM billing.redeem($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) r`;

/** Runs billing.redeem() as the tenant: one statement, one round trip (the function does the locking, the checks and the writes). */
export async function callRedeem(q: TenantQuery, c: RedeemCall): Promise<RedeemOutcome> {
  const [row] = await q<RedeemResultRow>(REDEEM_SQL, [
    c.tenantId,
    c.transactionId,
    c.offerId,
    c.code,
    c.customerRef,
    c.orderMinor,
    c.currency,
    c.discountMinor,
    c.idempotencyKey,
    c.requestHash,
    c.eventId,
    Buffer.from(c.event),
    c.now,
    c.dryRun,
  ]);
  if (!row) throw new Error("billing.redeem returned no row");
  switch (row.outcome) {
    case "ok":
    case "replayed":
      return { outcome: row.outcome, transaction: transactionFromText({ ...row, tenantId: c.tenantId, id: row.id! }), thresholdPending: row.thresholdPending };
    case "key_conflict":
      return { outcome: row.outcome, transaction: transactionFromText({ ...row, tenantId: c.tenantId, id: row.id! }) };
    case "refused":
      return { outcome: "refused", refusal: row.refusal ?? "UNSPECIFIED", message: row.message ?? "refused" };
    case "not_found":
      return { outcome: "not_found", message: row.message ?? "not found" };
    default:
      return { outcome: "valid" };
  }
}
