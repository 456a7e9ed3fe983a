import { RefusalReason, TransactionKind, TransactionStatus, type Transaction } from "@apgms/proto/apgms/billing/v1/transaction";
import type { TransactionRow } from "../domain/model.js";

const KIND: Record<TransactionRow["kind"], TransactionKind> = {
  redemption: TransactionKind.TRANSACTION_KIND_REDEMPTION,
  refund: TransactionKind.TRANSACTION_KIND_REFUND,
};

const STATUS: Record<TransactionRow["status"], TransactionStatus> = {
  completed: TransactionStatus.TRANSACTION_STATUS_COMPLETED,
  partially_refunded: TransactionStatus.TRANSACTION_STATUS_PARTIALLY_REFUNDED,
  refunded: TransactionStatus.TRANSACTION_STATUS_REFUNDED,
};

export function transactionToProto(t: TransactionRow): Transaction {
  const money = (amountMinor: number) => ({ amountMinor, currency: t.currency });
  return {
    id: t.id,
    tenantId: t.tenantId,
    kind: KIND[t.kind],
    status: STATUS[t.status],
    campaignId: t.campaignId,
    offerId: t.offerId,
    code: t.code ?? "",
    customerRef: t.customerRef,
    orderAmount: t.orderAmountMinor === null ? undefined : money(t.orderAmountMinor),
    discount: money(t.discountMinor),
    refunded: t.kind === "redemption" ? money(t.refundedMinor) : undefined,
    redemptionId: t.redemptionId ?? "",
    reason: t.reason,
    createTime: t.createdAt,
  };
}

export function kindFromProto(kind: TransactionKind): TransactionRow["kind"] | undefined {
  return (Object.keys(KIND) as Array<TransactionRow["kind"]>).find((k) => KIND[k] === kind);
}

export function statusFromProto(status: TransactionStatus): TransactionRow["status"] | undefined {
  return (Object.keys(STATUS) as Array<TransactionRow["status"]>).find((s) => STATUS[s] === status);
}

/** billing.redeem()'s refusal name ("OFFER_LIMIT_REACHED") as the proto enum. */
export function refusalToProto(refusal: string): RefusalReason {
  const value = RefusalReason[`REFUSAL_REASON_${refusal}` as keyof typeof RefusalReason];
  return typeof value === "number" ? value : RefusalReason.REFUSAL_REASON_UNSPECIFIED;
}
