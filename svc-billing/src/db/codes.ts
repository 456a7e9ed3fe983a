// Codes: every code of a tenant, shared or unique, under the primary key (tenant_id, code),
// which is what makes a code unique in its tenant however many calls race. Bulk inserts are
// one set-based statement per chunk (unnest of a text array, ON CONFLICT DO NOTHING), and
// what a chunk did not insert is what collided.
import { FailedPreconditionError } from "@apgms/common";
import { likePattern, randomCodes, type CodePattern } from "../domain/codes.js";
import type { Tx } from "./client.js";
import { dates, ms, txQuery, type Raw, type TenantQuery } from "./sql.js";

export interface CodeRow {
  code: string;
  offerId: string;
  shared: boolean;
  redeemedAt: Date | null;
  transactionId: string | null;
}

const CODE = `k.code, k.offer_id AS "offerId", k.shared, ${ms("k.redeemed_at", "redeemedAt")}, k.transaction_id AS "transactionId"`;
const CODE_TIMES = ["redeemedAt"] as const;
type RawCode = Raw<CodeRow, (typeof CODE_TIMES)[number]>;
const asCode = (row: RawCode): CodeRow => dates<CodeRow, (typeof CODE_TIMES)[number]>(row, CODE_TIMES);

/** Rows per INSERT: a 25,000-element array parameter keeps each statement's memory modest. */
const CHUNK = 25_000;
/** Rounds of regenerating collided codes before giving up (with 100x headroom, one or two suffice). */
const MAX_ROUNDS = 20;

/** A code (normalized) of the tenant, shared or unique. */
export async function findCode(q: TenantQuery, tenantId: string, code: string): Promise<CodeRow | null> {
  const rows = await q<RawCode>(`SELECT ${CODE} FROM billing.codes k WHERE k.tenant_id = $1 AND k.code = $2`, [tenantId, code]);
  return rows[0] ? asCode(rows[0]) : null;
}

/** A page of an offer's unique codes in code order (the (tenant_id, offer_id, code) index), after `after`. */
export async function codePage(q: TenantQuery, tenantId: string, offerId: string, size: number, after?: string, redeemed?: boolean) {
  const values: unknown[] = [tenantId, offerId];
  let where = "k.tenant_id = $1 AND k.offer_id = $2::uuid AND NOT k.shared";
  if (redeemed !== undefined) where += redeemed ? " AND k.redeemed_at IS NOT NULL" : " AND k.redeemed_at IS NULL";
  if (after !== undefined) {
    values.push(after);
    where += ` AND k.code > $${values.length}`;
  }
  values.push(size + 1);
  const rows = await q<RawCode>(`SELECT ${CODE} FROM billing.codes k WHERE ${where} ORDER BY k.code LIMIT $${values.length}`, values);
  const codes = rows.slice(0, size).map(asCode);
  return { codes, last: rows.length > size ? codes[codes.length - 1]?.code : undefined };
}

/** Inserts `codes` (distinct, normalized) for the offer; returns those inserted: the others were already codes of the tenant. */
export async function insertCodes(db: Tx, tenantId: string, offerId: string, codes: readonly string[]): Promise<string[]> {
  const inserted: string[] = [];
  for (let i = 0; i < codes.length; i += CHUNK) {
    const rows = await txQuery<{ code: string }>(
      db,
      `INSERT INTO billing.codes (tenant_id, code, offer_id)
         SELECT $1::uuid, c, $2::uuid FROM unnest($3::text[]) AS c
       ON CONFLICT DO NOTHING RETURNING code`,
      tenantId,
      offerId,
      codes.slice(i, i + CHUNK),
    );
    for (const r of rows) inserted.push(r.code);
  }
  return inserted;
}

/** How many codes of the tenant the pattern could also make (they count against its room). */
export async function countCodesLike(db: Tx, tenantId: string, p: CodePattern): Promise<number> {
  const rows = await txQuery<{ n: number }>(
    db,
    `SELECT count(*)::float8 AS n FROM billing.codes k WHERE k.tenant_id = $1::uuid AND length(k.code) = $2 AND k.code LIKE $3`,
    tenantId,
    p.pattern.length,
    likePattern(p),
  );
  return rows[0]?.n ?? 0;
}

/**
 * `count` new codes of the pattern for the offer: random codes are inserted set-based, and as
 * many as collided (with the tenant's codes or each other) are made again, until all are made.
 */
export async function generateCodes(db: Tx, tenantId: string, offerId: string, p: CodePattern, count: number): Promise<string[]> {
  const made: string[] = [];
  for (let round = 0; made.length < count; round++) {
    if (round === MAX_ROUNDS) {
      throw new FailedPreconditionError(`made only ${made.length} of ${count} codes after ${MAX_ROUNDS} rounds of collisions: widen the pattern`);
    }
    const fresh = randomCodes(p, count - made.length);
    made.push(...(await insertCodes(db, tenantId, offerId, fresh)));
  }
  return made;
}
