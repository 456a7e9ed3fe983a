import { AlreadyExistsError, FailedPreconditionError, InvalidArgumentError, NotFoundError } from "@apgms/common";
import type { Transaction as TransactionProto } from "@apgms/proto/apgms/billing/v1/transaction";
import type { TransactionRow } from "../domain/model.js";
import type { Tx } from "./client.js";
import { recordEvent } from "./outbox.js";
import { TRANSACTION_COLUMNS, transactionFromText, type TransactionTextRow } from "./redemption.js";

export interface RefundInput {
  tenantId: string;
  redemptionId: string;
  /** null: all that is left refundable. */
  amountMinor: number | null;
  /** The refund's currency when an amount is given: it must be the redemption's. */
  currency: string | null;
  reason: string;
  idempotencyKey: string | null;
  requestHash: string | null;
  refundId: string;
  now: Date;
}

export interface RefundResult {
  refund: TransactionRow;
  redemption: TransactionRow;
  replayed: boolean;
}

async function lockedTransaction(db: Tx, tenantId: string, id: string): Promise<TransactionRow | null> {
  const rows = await db.$queryRawUnsafe<TransactionTextRow[]>(
    `SELECT ${TRANSACTION_COLUMNS("t")} FROM billing.transactions t WHERE t.tenant_id = $1::uuid AND t.id = $2::uuid FOR UPDATE`,
    tenantId,
    id,
  );
  return rows[0] ? transactionFromText(rows[0]) : null;
}

async function byKey(db: Tx, tenantId: string, key: string): Promise<(TransactionRow & { requestHash: string | null }) | null> {
  const rows = await db.$queryRawUnsafe<Array<TransactionTextRow & { requestHash: string | null }>>(
    `SELECT ${TRANSACTION_COLUMNS("t")}, t.request_hash AS "requestHash" FROM billing.transactions t WHERE t.tenant_id = $1::uuid AND t.idempotency_key = $2`,
    tenantId,
    key,
  );
  return rows[0] ? { ...transactionFromText(rows[0]), requestHash: rows[0].requestHash } : null;
}

/**
 * Refunds part or all of a redemption's discount, in the caller's transaction
 * as the tenant. The redemption's row is locked first, so concurrent refunds
 * of one redemption queue and never refund more than its discount. A refund
 * in full releases what the redemption counted against: the offer's and the
 * customer's limits, the campaign's redemption budget and a unique code.
 */
export async function refundRedemption(db: Tx, input: RefundInput, toProto: (t: TransactionRow) => TransactionProto): Promise<RefundResult> {
  const { tenantId, redemptionId, idempotencyKey, requestHash, now } = input;
  if (idempotencyKey) {
    const first = await byKey(db, tenantId, idempotencyKey);
    if (first) {
      if (first.requestHash !== requestHash || first.kind !== "refund") {
        throw new AlreadyExistsError(`idempotency key ${JSON.stringify(idempotencyKey)} was used for another request`, "idempotency_key");
      }
      const redemption = await lockedTransaction(db, tenantId, first.redemptionId ?? "");
      return { refund: first, redemption: redemption!, replayed: true };
    }
  }

  const redemption = await lockedTransaction(db, tenantId, redemptionId);
  if (!redemption) throw new NotFoundError("transaction", redemptionId);
  if (redemption.kind !== "redemption") throw new FailedPreconditionError(`transaction ${redemptionId} is a refund; only a redemption can be refunded`, "NOT_A_REDEMPTION");
  if (input.currency !== null && input.currency !== redemption.currency) {
    throw new InvalidArgumentError("amount.currency", `must be the redemption's currency, ${redemption.currency}`);
  }
  const left = redemption.discountMinor - redemption.refundedMinor;
  if (left <= 0) throw new FailedPreconditionError(`transaction ${redemptionId} is already refunded in full`, "NOTHING_LEFT_TO_REFUND");
  const amount = input.amountMinor ?? left;
  if (amount > left) {
    throw new FailedPreconditionError(`only ${left} minor units of transaction ${redemptionId} are left refundable; ${amount} were asked`, "REFUND_EXCEEDS_REFUNDABLE");
  }
  const full = amount === left;

  let released = 0;
  if (full && redemption.code) {
    // A unique code becomes redeemable again; a shared code has nothing to release.
    released = await db.$executeRaw`UPDATE billing.codes SET redeemed_at = NULL, transaction_id = NULL
      WHERE tenant_id = ${tenantId}::uuid AND code = ${redemption.code} AND NOT shared AND transaction_id = ${redemptionId}::uuid`;
  }
  if (full) {
    await db.$executeRaw`UPDATE billing.offers SET redemption_count = redemption_count - 1,
        codes_redeemed = codes_redeemed - ${released}
      WHERE tenant_id = ${tenantId}::uuid AND id = ${redemption.offerId}::uuid`;
    await db.$executeRaw`UPDATE billing.customer_redemptions SET count = count - 1
      WHERE tenant_id = ${tenantId}::uuid AND offer_id = ${redemption.offerId}::uuid AND customer_ref = ${redemption.customerRef} AND count > 0`;
  }
  await db.$executeRaw`UPDATE billing.campaigns SET spent_minor = spent_minor - ${amount}, refunded_minor = refunded_minor + ${amount},
      redemption_count = redemption_count - ${full ? 1 : 0}
    WHERE tenant_id = ${tenantId}::uuid AND id = ${redemption.campaignId}::uuid`;
  const refundedTotal = redemption.refundedMinor + amount;
  const status = full ? "refunded" : "partially_refunded";
  await db.$executeRaw`UPDATE billing.transactions SET refunded_minor = ${refundedTotal}, status = ${status}::billing."TransactionStatus"
    WHERE tenant_id = ${tenantId}::uuid AND id = ${redemptionId}::uuid`;

  const refund: TransactionRow = {
    tenantId,
    id: input.refundId,
    kind: "refund",
    status: "completed",
    campaignId: redemption.campaignId,
    offerId: redemption.offerId,
    code: redemption.code,
    customerRef: redemption.customerRef,
    currency: redemption.currency,
    orderAmountMinor: null,
    discountMinor: amount,
    refundedMinor: 0,
    redemptionId,
    reason: input.reason,
    createdAt: now,
  };
  await db.transaction.create({
    data: {
      tenantId,
      id: refund.id,
      kind: "refund",
      status: "completed",
      campaignId: refund.campaignId,
      offerId: refund.offerId,
      code: refund.code,
      customerRef: refund.customerRef,
      currency: refund.currency,
      discountMinor: BigInt(amount),
      redemptionId,
      reason: refund.reason,
      idempotencyKey,
      requestHash,
      createdAt: now,
    },
  });
  await recordEvent(db, tenantId, redemption.campaignId, "transaction.refunded", { transaction: toProto(refund) });
  return { refund, redemption: { ...redemption, refundedMinor: refundedTotal, status }, replayed: false };
}
