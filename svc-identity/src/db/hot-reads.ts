// The reads a cache miss or a list makes on every request: one statement each,
// in raw SQL through TenantReader (one round trip under row-level security; see
// docs/architecture.md, "Prisma or raw SQL"). Columns are aliased to the Prisma
// models' field names so the rows ARE those types once their timestamps are
// Dates (`dates`); writes stay on Prisma.
import type { Tenant, User } from "../generated/prisma/client.js";
import type { Page } from "@apgms/common";
import { slicePage } from "@apgms/common";
import type { AccountWithCount } from "./accounts.js";

/** One statement as the call's tenant (TenantReader.query bound to it). */
export type TenantQuery = <R>(text: string, values?: unknown[]) => Promise<R[]>;

/**
 * A timestamp column as whole epoch milliseconds (float8; floor, as pg's own parser truncates),
 * made a Date by `dates`: pg's text parsing of a timestamptz costs ~0.9 µs here, this ~0.2 µs,
 * and a page of 50 users has 100 of them.
 */
const ms = (column: string, alias: string) => `floor(extract(epoch FROM ${column}) * 1000)::float8 AS "${alias}"`;

const USER = `u.id, u.tenant_id AS "tenantId", u.account_id AS "accountId", u.email, u.display_name AS "displayName",
  u.role::text AS role, u.oidc_issuer AS "oidcIssuer", u.oidc_subject AS "oidcSubject",
  ${ms("u.created_at", "createdAt")}, ${ms("u.updated_at", "updatedAt")}`;

const ACCOUNT = `a.id, a.tenant_id AS "tenantId", a.name, ${ms("a.created_at", "createdAt")}, ${ms("a.updated_at", "updatedAt")},
  (SELECT count(*)::int FROM identity.users c WHERE c.account_id = a.id) AS "userCount"`;

const TENANT = `t.id, t.name, t.slug, t.deletion_protection AS "deletionProtection", ${ms("t.created_at", "createdAt")},
  ${ms("t.updated_at", "updatedAt")}, ${ms("t.deleted_at", "deletedAt")}, ${ms("t.purge_after", "purgeAfter")}`;

/** A row as read: `T` with its Date fields as epoch milliseconds (null stays null). */
type Raw<T, K extends keyof T> = Omit<T, K> & { [F in K]: null extends T[F] ? number | null : number };

/** Turns the row's epoch-millisecond fields into Dates, in place: the row becomes a `T`. */
function dates<T, K extends keyof T>(row: Raw<T, K>, fields: readonly K[]): T {
  const record = row as Record<K, unknown>;
  for (const field of fields) {
    const value = record[field];
    if (typeof value === "number") record[field] = new Date(value);
  }
  return row as unknown as T;
}

const TIMES = ["createdAt", "updatedAt"] as const;
const TENANT_TIMES = [...TIMES, "deletedAt", "purgeAfter"] as const;
type Times = (typeof TIMES)[number];
type TenantTimes = (typeof TENANT_TIMES)[number];

type UserRow = Raw<User, Times>;
const asUser = (row: UserRow): User => dates<User, Times>(row, TIMES);
const asAccount = (row: Raw<AccountWithCount, Times>): AccountWithCount => dates<AccountWithCount, Times>(row, TIMES);

// Each statement names its tenant too, though row-level security already limits it: the
// (tenant_id, …) indexes serve it, and a reader misused as another tenant finds nothing.

/** The tenant unless it does not exist or is soft-deleted (the liveness check of every call). */
export async function liveTenantRow(q: TenantQuery, tenantId: string): Promise<Tenant | null> {
  const rows = await q<Raw<Tenant, TenantTimes>>(`SELECT ${TENANT} FROM identity.tenants t WHERE t.id = $1 AND t.deleted_at IS NULL`, [tenantId]);
  return rows[0] ? dates<Tenant, TenantTimes>(rows[0], TENANT_TIMES) : null;
}

export async function userRow(q: TenantQuery, tenantId: string, id: string): Promise<User | null> {
  const rows = await q<UserRow>(`SELECT ${USER} FROM identity.users u WHERE u.tenant_id = $1 AND u.id = $2`, [tenantId, id]);
  return rows[0] ? asUser(rows[0]) : null;
}

export async function userRows(q: TenantQuery, tenantId: string, ids: readonly string[]): Promise<Map<string, User>> {
  const rows = await q<UserRow>(`SELECT ${USER} FROM identity.users u WHERE u.tenant_id = $1 AND u.id = ANY($2::uuid[])`, [tenantId, ids]);
  return new Map(rows.map((r) => [r.id, asUser(r)]));
}

export async function accountRow(q: TenantQuery, tenantId: string, id: string): Promise<AccountWithCount | null> {
  const rows = await q<Raw<AccountWithCount, Times>>(`SELECT ${ACCOUNT} FROM identity.accounts a WHERE a.tenant_id = $1 AND a.id = $2`, [tenantId, id]);
  return rows[0] ? asAccount(rows[0]) : null;
}

export async function accountRows(q: TenantQuery, tenantId: string, ids: readonly string[]): Promise<Map<string, AccountWithCount>> {
  const rows = await q<Raw<AccountWithCount, Times>>(`SELECT ${ACCOUNT} FROM identity.accounts a WHERE a.tenant_id = $1 AND a.id = ANY($2::uuid[])`, [tenantId, ids]);
  return new Map(rows.map((r) => [r.id, asAccount(r)]));
}

/**
 * A page of the tenant's users (optionally one account's), in (createdAt, id) order; no account
 * check. One statement per shape (filter or not, cursor or not), not `$n IS NULL OR …`: each shape
 * then gets its own plan, an index range scan on (tenant_id, created_at, id).
 */
export async function userPage(q: TenantQuery, tenantId: string, page: Page, accountId?: string) {
  const values: unknown[] = [tenantId];
  let where = "u.tenant_id = $1";
  if (accountId) {
    values.push(accountId);
    where += ` AND u.account_id = $${values.length}`;
  }
  if (page.after) {
    values.push(page.after.createdAt, page.after.id);
    where += ` AND (u.created_at, u.id) > ($${values.length - 1}, $${values.length})`;
  }
  values.push(page.size + 1);
  const rows = await q<UserRow>(`SELECT ${USER} FROM identity.users u WHERE ${where} ORDER BY u.created_at, u.id LIMIT $${values.length}`, values);
  const { items, nextPageToken } = slicePage(rows.map(asUser), page.size);
  return { users: items, nextPageToken };
}
