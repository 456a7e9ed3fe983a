import type { Cursor, Page } from "@apgms/common";
import type { TransactionKind, TransactionStatus } from "../generated/prisma/client.js";
import type { TransactionRow } from "../domain/model.js";
import type { TenantQuery } from "./sql.js";
import { TRANSACTION_COLUMNS, transactionFromText, type TransactionTextRow } from "./redemption.js";

export interface TransactionFilter {
  campaignId?: string;
  offerId?: string;
  statuses?: TransactionStatus[];
  kind?: TransactionKind;
  customerRef?: string;
  from?: Date;
  to?: Date;
}

export async function transactionById(q: TenantQuery, tenantId: string, id: string): Promise<TransactionRow | null> {
  const [row] = await q<TransactionTextRow>(`SELECT ${TRANSACTION_COLUMNS("t")} FROM billing.transactions t WHERE t.tenant_id = $1 AND t.id = $2`, [tenantId, id]);
  return row ? transactionFromText(row) : null;
}

/**
 * The WHERE clause of a filter, as text and values from $2 on ($1 is the
 * tenant). Each combination of filters is its own statement text, so each is
 * prepared with a plan that fits it.
 */
function filterSql(f: TransactionFilter, values: unknown[]): string {
  const where = ["t.tenant_id = $1"];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace("?", `$${values.length}`));
  };
  if (f.campaignId) add("t.campaign_id = ?", f.campaignId);
  if (f.offerId) add("t.offer_id = ?", f.offerId);
  if (f.statuses?.length) add("t.status = ANY(?::billing.\"TransactionStatus\"[])", f.statuses);
  if (f.kind) add("t.kind = ?::billing.\"TransactionKind\"", f.kind);
  if (f.customerRef) add("t.customer_ref = ?", f.customerRef);
  if (f.from) add("t.created_at >= ?", f.from);
  if (f.to) add("t.created_at < ?", f.to);
  return where.join(" AND ");
}

/** A page of transactions, newest first, and one more row when there is a next page. */
export async function listTransactions(q: TenantQuery, tenantId: string, filter: TransactionFilter, page: Page): Promise<TransactionRow[]> {
  const values: unknown[] = [tenantId];
  let where = filterSql(filter, values);
  if (page.after) {
    values.push(page.after.createdAt, page.after.id);
    where += ` AND (t.created_at, t.id) < ($${values.length - 1}, $${values.length})`;
  }
  values.push(page.size + 1);
  const rows = await q<TransactionTextRow>(
    `SELECT ${TRANSACTION_COLUMNS("t")} FROM billing.transactions t WHERE ${where} ORDER BY t.created_at DESC, t.id DESC LIMIT $${values.length}`,
    values,
  );
  return rows.map(transactionFromText);
}

/** Oldest first, `size` rows after `after`: the export's keyset walk (each batch one indexed statement). */
export async function exportBatch(q: TenantQuery, tenantId: string, filter: TransactionFilter, after: Cursor | undefined, size: number): Promise<TransactionRow[]> {
  const values: unknown[] = [tenantId];
  let where = filterSql(filter, values);
  if (after) {
    values.push(after.createdAt, after.id);
    where += ` AND (t.created_at, t.id) > ($${values.length - 1}, $${values.length})`;
  }
  values.push(size);
  const rows = await q<TransactionTextRow>(
    `SELECT ${TRANSACTION_COLUMNS("t")} FROM billing.transactions t WHERE ${where} ORDER BY t.created_at, t.id LIMIT $${values.length}`,
    values,
  );
  return rows.map(transactionFromText);
}
