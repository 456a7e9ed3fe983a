import { InvalidArgumentError } from "@apgms/common";
import { CUSTOMER_REF_MAX } from "./redemption-input.js";
import { text, uuid } from "@apgms/common/validate";
import { TransactionKind, type TransactionFilter as TransactionFilterProto } from "@apgms/proto/apgms/billing/v1/transaction";
import type { TransactionFilter } from "../db/transactions.js";
import { kindFromProto, statusFromProto } from "../handlers/transaction-to-proto.js";

/** A list's or an export's filter, validated; unset fields filter nothing. */
export function transactionFilter(f: TransactionFilterProto | undefined): TransactionFilter {
  if (!f) return {};
  const out: TransactionFilter = {};
  if (f.campaignId) out.campaignId = uuid("filter.campaign_id", f.campaignId);
  if (f.offerId) out.offerId = uuid("filter.offer_id", f.offerId);
  if (f.statuses.length) {
    out.statuses = f.statuses.map((s, i) => {
      const status = statusFromProto(s);
      if (!status) throw new InvalidArgumentError(`filter.statuses[${i}]`, "is not a transaction status");
      return status;
    });
  }
  if (f.kind !== TransactionKind.TRANSACTION_KIND_UNSPECIFIED) {
    const kind = kindFromProto(f.kind);
    if (!kind) throw new InvalidArgumentError("filter.kind", "is not a transaction kind");
    out.kind = kind;
  }
  if (f.customerRef) out.customerRef = text("filter.customer_ref", f.customerRef, CUSTOMER_REF_MAX);
  if (f.startTime) out.from = f.startTime;
  if (f.endTime) out.to = f.endTime;
  if (out.from && out.to && out.from >= out.to) throw new InvalidArgumentError("filter.end_time", "must be after start_time");
  return out;
}
