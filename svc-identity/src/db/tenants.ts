import { randomUUID } from "node:crypto";
import { FailedPreconditionError, InvalidArgumentError, NotFoundError, withTenant } from "@apgms/common";
import type { Account, Role, Tenant, User } from "../generated/prisma/client.js";
import type { IdentityChanges } from "../cache.js";
import { transaction, type Db, type Tx } from "./client.js";
import { uniqueAs } from "./errors.js";

export interface NewOwner {
  email: string;
  displayName: string;
  oidcIssuer: string;
  oidcSubject: string;
}

export interface NewTenant {
  name: string;
  slug: string;
  accountName: string;
  owner: NewOwner;
}

export interface ProvisionedTenant {
  tenant: Tenant;
  account: Account;
  owner: User;
}

const OWNER: Role = "owner";

/**
 * Tenant, first account and owner user, all or nothing. The id is chosen here,
 * so the whole creation runs scoped to the new tenant: it needs no platform scope.
 */
export function createTenant(db: Db, input: NewTenant): Promise<ProvisionedTenant> {
  const fields: Array<[string, string]> = [["slug", "slug"]];
  const id = randomUUID();
  return uniqueAs(fields, () =>
    withTenant<Tx, ProvisionedTenant>(db, id, async (tx) => {
      const tenant = await tx.tenant.create({ data: { id, name: input.name, slug: input.slug } });
      const account = await tx.account.create({ data: { tenantId: tenant.id, name: input.accountName } });
      const owner = await tx.user.create({
        data: { tenantId: tenant.id, accountId: account.id, role: OWNER, ...input.owner },
      });
      return { tenant, account, owner };
    }),
  );
}

/** The tenant unless it does not exist or is soft-deleted. */
export function findLiveTenant(db: Db, id: string): Promise<Tenant | null> {
  return db.tenant.findFirst({ where: { id, deletedAt: null } });
}

export async function requireLiveTenant(db: Db, id: string): Promise<Tenant> {
  const tenant = await findLiveTenant(db, id);
  if (!tenant) throw new NotFoundError("tenant", id);
  return tenant;
}

/** By slug, deleted or not (slugs stay taken until the purge). */
export function findTenantBySlug(db: Db, slug: string): Promise<Tenant | null> {
  return db.tenant.findUnique({ where: { slug } });
}

export interface TenantChanges {
  name?: string;
  deletionProtection?: boolean;
}

export async function updateTenant(db: Db, id: string, edit: TenantChanges, changes: IdentityChanges): Promise<Tenant> {
  if (edit.name === undefined && edit.deletionProtection === undefined) return requireLiveTenant(db, id);
  changes.tenant(id);
  const { count } = await db.tenant.updateMany({ where: { id, deletedAt: null }, data: edit });
  if (count === 0) throw new NotFoundError("tenant", id);
  return requireLiveTenant(db, id);
}

/**
 * Soft-deletes at once (users and keys stop resolving) and schedules the purge.
 * Refused while deletion protection is on or unless `confirmation` is the slug.
 */
export function softDeleteTenant(db: Db, id: string, confirmation: string, retentionDays: number, changes: IdentityChanges): Promise<Tenant> {
  return transaction(db, async (tx) => {
    await lockTenant(tx, id);
    const tenant = await requireLiveTenant(tx, id);
    if (tenant.deletionProtection) throw new FailedPreconditionError("tenant has deletion protection on; turn it off first");
    if (confirmation !== tenant.slug) throw new InvalidArgumentError("confirmation", "must equal the tenant's slug");
    const now = new Date();
    const purgeAfter = new Date(now.getTime() + retentionDays * 86_400_000);
    changes.tenant(id);
    return tx.tenant.update({ where: { id }, data: { deletedAt: now, purgeAfter } });
  });
}

export interface OwnerIdentity {
  oidcIssuer: string;
  oidcSubject: string;
}

const ownedBy = (o: OwnerIdentity) => ({ users: { some: { role: OWNER, oidcIssuer: o.oidcIssuer, oidcSubject: o.oidcSubject } } });

/** Soft-deleted tenants still inside their retention window where the identity is an owner. */
export function listRestorableTenants(db: Db, owner: OwnerIdentity, now = new Date()): Promise<Tenant[]> {
  return db.tenant.findMany({
    where: { deletedAt: { not: null }, purgeAfter: { gt: now }, ...ownedBy(owner) },
    orderBy: [{ deletedAt: "desc" }, { id: "asc" }],
    take: 100,
  });
}

/**
 * Undoes a soft delete, for one of the tenant's owners, before the purge. The
 * tenant comes back with deletion protection on again. Anyone else, or a
 * tenant that is live, purged or past its window, gets NOT_FOUND.
 */
export function restoreTenant(db: Db, id: string, owner: OwnerIdentity, changes: IdentityChanges): Promise<Tenant> {
  return transaction(db, async (tx) => {
    await lockTenant(tx, id);
    const tenant = await tx.tenant.findFirst({ where: { id, deletedAt: { not: null }, purgeAfter: { gt: new Date() }, ...ownedBy(owner) } });
    if (!tenant) throw new NotFoundError("deleted tenant", id);
    changes.tenant(id);
    return tx.tenant.update({ where: { id }, data: { deletedAt: null, purgeAfter: null, deletionProtection: true } });
  });
}

/**
 * Deletes for good up to `limit` soft-deleted tenants whose window has ended;
 * every row of theirs follows by foreign key. Safe to run on several replicas
 * at once (a tenant another run is purging is skipped).
 */
export async function purgeDeletedTenants(db: Db, limit: number, changes: IdentityChanges): Promise<string[]> {
  const rows = await db.$queryRaw<Array<{ id: string }>>`
    DELETE FROM identity.tenants WHERE id IN (
      SELECT id FROM identity.tenants
       WHERE deleted_at IS NOT NULL AND purge_after <= now()
       ORDER BY purge_after LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id::text AS id`;
  // A soft-deleted tenant is not cached (only live ones are); this only covers a racing restore.
  for (const r of rows) changes.tenant(r.id);
  return rows.map((r) => r.id);
}

/**
 * Serializes the transactions that change a tenant's owners or its life
 * (last-owner rules, deletion) until the transaction ends.
 */
export async function lockTenant(db: Db, tenantId: string): Promise<void> {
  await db.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`identity.tenant:${tenantId}`}, 0))`;
}
