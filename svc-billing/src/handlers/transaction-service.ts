import { randomUUID } from "node:crypto";
import { AlreadyExistsError, FailedPreconditionError, NotFoundError, serverStream, unary, type ServiceRegistration } from "@apgms/common";
import { text, uuid } from "@apgms/common/validate";
import { BillingEvent } from "@apgms/proto/apgms/billing/v1/events";
import {
  TransactionServiceService,
  type ExportTransactionsRequest,
  type ExportTransactionsResponse,
  type GetTransactionRequest,
  type GetTransactionResponse,
  type ListTransactionsRequest,
  type ListTransactionsResponse,
  type RedeemRequest,
  type RedeemResponse,
  type RefundTransactionRequest,
  type RefundTransactionResponse,
  type TransactionServiceServer,
  type ValidateRedemptionRequest,
  type ValidateRedemptionResponse,
} from "@apgms/proto/apgms/billing/v1/transaction";
import { writing } from "../cache.js";
import { callRedeem, codeTerms, offerTerms, type RedeemCall, type RedeemOutcome } from "../db/redemption.js";
import { refundRedemption } from "../db/refunds.js";
import { readCampaign } from "../db/campaigns.js";
import { exportBatch, listTransactions, transactionById, type TransactionFilter } from "../db/transactions.js";
import { discountFor } from "../domain/discount.js";
import type { TransactionRow } from "../domain/model.js";
import { idempotencyKey, money, redemptionInput, requestHash, type RedemptionInput } from "../domain/redemption-input.js";
import { transactionFilter } from "../domain/transaction-filter.js";
import { announceThreshold } from "./budget-threshold.js";
import { scoped, scopedRead, tenantIdOf, type HandlerDeps, type TenantQuery } from "./scope.js";
import { refusalToProto, transactionToProto } from "./transaction-to-proto.js";

const EXPORT_BATCH = 500;
/** Postgres's codes for a deadlock and a serialization failure: the statement is safe to run again. */
const RETRYABLE = new Set(["40P01", "40001"]);
const IDEMPOTENCY_CONSTRAINT = "transactions_tenant_id_idempotency_key_key";

function pgError(err: unknown): { code?: string; constraint?: string } {
  return typeof err === "object" && err !== null ? (err as { code?: string; constraint?: string }) : {};
}

/** billing.redeem() again after a deadlock, or after a racing call with the same idempotency key won (the retry then replays it). */
async function redeemWithRetry(q: TenantQuery, call: RedeemCall): Promise<RedeemOutcome> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await callRedeem(q, call);
    } catch (err) {
      const { code, constraint } = pgError(err);
      const retry = RETRYABLE.has(code ?? "") || (code === "23505" && constraint === IDEMPOTENCY_CONSTRAINT);
      if (!retry || attempt >= 3) throw err;
    }
  }
}

export function transactionService(deps: HandlerDeps): ServiceRegistration {
  const queryAs = (tenantId: string): TenantQuery => (text, values) => deps.reader.query(tenantId, text, values);

  /** The offer a redemption targets and its immutable terms: one cache read (a miss: one statement). */
  async function resolve(tenantId: string, q: TenantQuery, input: RedemptionInput) {
    const { code, offerId } = input.target;
    const terms =
      code !== undefined
        ? await deps.cache.codeTerms.get(tenantId, code, () => codeTerms(q, tenantId, code))
        : await deps.cache.offerTerms.get(tenantId, offerId, () => offerTerms(q, tenantId, offerId));
    if (!terms) throw code !== undefined ? new NotFoundError("code", code) : new NotFoundError("offer", offerId);
    return { terms, code: code ?? null, discount: discountFor(terms, input.orderMinor) };
  }

  /** A filter naming a campaign or offer the tenant does not have is NOT_FOUND, as everywhere another tenant's id is. */
  async function requireFilterTargets(tenantId: string, q: TenantQuery, filter: TransactionFilter): Promise<void> {
    const { campaignId, offerId } = filter;
    if (campaignId && !(await deps.cache.campaigns.get(tenantId, campaignId, () => readCampaign(q, tenantId, campaignId)))) throw new NotFoundError("campaign", campaignId);
    if (offerId && !(await deps.cache.offerTerms.get(tenantId, offerId, () => offerTerms(q, tenantId, offerId)))) throw new NotFoundError("offer", offerId);
  }

  const implementation: TransactionServiceServer = {
    validateRedemption: unary<ValidateRedemptionRequest, ValidateRedemptionResponse>(deps.logger, "ValidateRedemption", async (req, ctx) => {
      const tenantId = tenantIdOf(ctx);
      const input = redemptionInput(req);
      const q = queryAs(tenantId);
      const { terms, code, discount } = await resolve(tenantId, q, input);
      const outcome = await callRedeem(q, {
        tenantId,
        transactionId: randomUUID(),
        offerId: terms.offerId,
        code,
        customerRef: input.customerRef,
        orderMinor: input.orderMinor,
        currency: input.currency,
        discountMinor: discount,
        idempotencyKey: null,
        requestHash: null,
        eventId: randomUUID(),
        event: new Uint8Array(),
        now: new Date(),
        dryRun: true,
      });
      if (outcome.outcome === "not_found") throw new NotFoundError(outcome.message);
      const base = { campaignId: terms.campaignId, offerId: terms.offerId };
      if (outcome.outcome === "refused") return { ...base, valid: false, discount: undefined, reason: refusalToProto(outcome.refusal), message: outcome.message };
      return { ...base, valid: true, discount: { amountMinor: discount, currency: input.currency }, reason: refusalToProto("UNSPECIFIED"), message: "" };
    }),

    redeem: unary<RedeemRequest, RedeemResponse>(deps.logger, "Redeem", async (req, ctx) => {
      const tenantId = tenantIdOf(ctx);
      const input = redemptionInput(req);
      const key = idempotencyKey(req.idempotencyKey);
      const q = queryAs(tenantId);
      const { terms, code, discount } = await resolve(tenantId, q, input);
      const now = new Date();
      const transaction: TransactionRow = {
        tenantId,
        id: randomUUID(),
        kind: "redemption",
        status: "completed",
        campaignId: terms.campaignId,
        offerId: terms.offerId,
        code,
        customerRef: input.customerRef,
        currency: input.currency,
        orderAmountMinor: input.orderMinor,
        discountMinor: discount,
        refundedMinor: 0,
        redemptionId: null,
        reason: "",
        createdAt: now,
      };
      const eventId = randomUUID();
      const event = BillingEvent.encode({ id: eventId, tenantId, type: "transaction.created", occurTime: now, transaction: transactionToProto(transaction) }).finish();
      const outcome = await writing(deps.cache, async (changes) => {
        const result = await redeemWithRetry(q, {
          tenantId,
          transactionId: transaction.id,
          offerId: terms.offerId,
          code,
          customerRef: input.customerRef,
          orderMinor: input.orderMinor,
          currency: input.currency,
          discountMinor: discount,
          idempotencyKey: key,
          requestHash: key ? requestHash("Redeem", { target: input.target, customerRef: input.customerRef, orderMinor: input.orderMinor, currency: input.currency }) : null,
          eventId,
          event,
          now,
          dryRun: false,
        });
        if (result.outcome === "ok") changes.campaign(tenantId, terms.campaignId).offer(tenantId, terms.offerId);
        return result;
      });
      if (outcome.outcome === "ok") deps.outbox.wake();
      switch (outcome.outcome) {
        case "ok":
        case "replayed":
          if (outcome.thresholdPending > 0) await announceThreshold(deps, tenantId, terms.campaignId);
          return { transaction: transactionToProto(outcome.transaction) };
        case "key_conflict":
          throw new AlreadyExistsError(`idempotency key ${JSON.stringify(key)} was used for a different redemption (transaction ${outcome.transaction.id})`, "idempotency_key");
        case "refused":
          throw new FailedPreconditionError(outcome.message, outcome.refusal);
        case "not_found":
          throw new NotFoundError(outcome.message);
        default:
          throw new Error("billing.redeem answered a dry run's outcome");
      }
    }),

    refundTransaction: scoped<RefundTransactionRequest, RefundTransactionResponse>(deps, "RefundTransaction", async (req, { tenantId, db, changes }) => {
      const redemptionId = uuid("transaction_id", req.transactionId);
      const amount = req.amount ? money("amount", req.amount) : null;
      const key = idempotencyKey(req.idempotencyKey);
      const reason = req.reason === "" ? "" : text("reason", req.reason, 500);
      const result = await refundRedemption(
        db,
        {
          tenantId,
          redemptionId,
          amountMinor: amount?.amountMinor ?? null,
          currency: amount?.currency ?? null,
          reason,
          idempotencyKey: key,
          requestHash: key ? requestHash("RefundTransaction", { redemptionId, amount, reason }) : null,
          refundId: randomUUID(),
          now: new Date(),
        },
        transactionToProto,
      );
      changes.campaign(tenantId, result.redemption.campaignId).offer(tenantId, result.redemption.offerId);
      return { refund: transactionToProto(result.refund), redemption: transactionToProto(result.redemption) };
    }),

    getTransaction: scopedRead<GetTransactionRequest, GetTransactionResponse>(deps, "GetTransaction", async (req, { tenantId, q }) => {
      const id = uuid("transaction_id", req.transactionId);
      const found = await transactionById(q, tenantId, id);
      if (!found) throw new NotFoundError("transaction", id);
      return { transaction: transactionToProto(found) };
    }),

    listTransactions: scopedRead<ListTransactionsRequest, ListTransactionsResponse>(deps, "ListTransactions", async (req, { tenantId, q, pages }) => {
      const page = pages.read(req.page);
      const filter = transactionFilter(req.filter);
      await requireFilterTargets(tenantId, q, filter);
      const rows = await listTransactions(q, tenantId, filter, page);
      const items = rows.slice(0, page.size);
      const last = items[items.length - 1];
      const end = rows.length > page.size && last ? { last: { createdAt: last.createdAt, id: last.id } } : undefined;
      return { transactions: items.map(transactionToProto), page: pages.next(end) };
    }),

    exportTransactions: serverStream<ExportTransactionsRequest, ExportTransactionsResponse>(deps.logger, "ExportTransactions", async (req, ctx, write) => {
      const tenantId = tenantIdOf(ctx);
      const filter = transactionFilter(req.filter);
      const q = queryAs(tenantId);
      await requireFilterTargets(tenantId, q, filter);
      let after: { createdAt: Date; id: string } | undefined;
      for (;;) {
        const rows = await exportBatch(q, tenantId, filter, after, EXPORT_BATCH);
        if (rows.length === 0) return;
        await write({ transactions: rows.map(transactionToProto) });
        const last = rows[rows.length - 1]!;
        after = { createdAt: last.createdAt, id: last.id };
        if (rows.length < EXPORT_BATCH) return;
      }
    }),
  };
  return { name: "apgms.billing.v1.TransactionService", definition: TransactionServiceService, implementation };
}
