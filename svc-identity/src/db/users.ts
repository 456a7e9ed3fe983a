import { FailedPreconditionError, NotFoundError } from "@apgms/common";
import { Prisma, type Role, type Tenant, type User } from "../generated/prisma/client.js";
import { pageOrder } from "@apgms/common";
import type { IdentityChanges } from "../cache.js";
import { transaction, type Db } from "./client.js";
import { uniqueAs } from "./errors.js";
import { requireAccount } from "./accounts.js";
import { lockTenant } from "./tenants.js";
import { isUuid } from "../domain/validate.js";

export interface NewUser {
  accountId: string;
  email: string;
  displayName: string;
  role: Role;
  oidcIssuer: string;
  oidcSubject: string;
}

// Both constraints are per tenant: a conflict says nothing about other tenants.
const uniqueFields: Array<[string, string]> = [
  ["email", "email"],
  ["oidc", "oidc_subject"],
];

/** Creates a user in one of the tenant's accounts (another tenant's account is NOT_FOUND). */
export function createUser(db: Db, tenantId: string, input: NewUser, changes: IdentityChanges): Promise<User> {
  return uniqueAs(uniqueFields, () =>
    transaction(db, async (tx) => {
      await requireAccount(tx, tenantId, input.accountId);
      changes.account(tenantId, input.accountId); // its user count
      return tx.user.create({ data: { tenantId, ...input } });
    }),
  );
}

export function findUser(db: Db, tenantId: string, id: string): Promise<User | null> {
  return db.user.findFirst({ where: { id, tenantId } });
}

export async function requireUser(db: Db, tenantId: string, id: string): Promise<User> {
  const user = await findUser(db, tenantId, id);
  if (!user) throw new NotFoundError("user", id);
  return user;
}

export function findUserByEmail(db: Db, tenantId: string, email: string): Promise<User | null> {
  return db.user.findUnique({ where: { tenantId_email: { tenantId, email } } });
}

export interface UserChanges {
  displayName?: string;
  role?: Role;
}

async function assertAnotherOwner(db: Db, tenantId: string, userId: string, action: string): Promise<void> {
  const others = await db.user.count({ where: { tenantId, role: "owner", id: { not: userId } } });
  if (others === 0) throw new FailedPreconditionError(`cannot ${action} the tenant's last owner`);
}

/** Renames and/or changes the role; demoting the last owner is refused. */
export function updateUser(db: Db, tenantId: string, id: string, edit: UserChanges, changes: IdentityChanges): Promise<User> {
  return transaction(db, async (tx) => {
    await lockTenant(tx, tenantId);
    const user = await requireUser(tx, tenantId, id);
    if (user.role === "owner" && edit.role !== undefined && edit.role !== "owner") {
      await assertAnotherOwner(tx, tenantId, id, "demote");
    }
    if (edit.displayName === undefined && edit.role === undefined) return user;
    changes.user(tenantId, id);
    return tx.user.update({ where: { id }, data: edit });
  });
}

/** Deletes a user (sessions follow); deleting the last owner is refused. */
export function deleteUser(db: Db, tenantId: string, id: string, changes: IdentityChanges): Promise<void> {
  return transaction(db, async (tx) => {
    await lockTenant(tx, tenantId);
    const user = await requireUser(tx, tenantId, id);
    if (user.role === "owner") await assertAnotherOwner(tx, tenantId, id, "delete");
    changes.user(tenantId, id).account(tenantId, user.accountId);
    await tx.user.delete({ where: { id } });
  });
}

/**
 * The live user an OIDC identity is in `tenant` (an id or a slug), or in its
 * oldest live membership when no tenant is named; null when there is none.
 */
export async function resolveOidcSubject(
  db: Db,
  oidcIssuer: string,
  oidcSubject: string,
  tenant = "",
): Promise<{ user: User; tenant: Tenant } | null> {
  // One joined statement (the edge's hot path on a cache miss); the tenant filter is optional.
  const byId = tenant !== "" && isUuid(tenant) ? tenant.toLowerCase() : null;
  const bySlug = tenant !== "" && byId === null ? tenant : null;
  const rows = await db.$queryRaw<MembershipRow[]>`
    SELECT ${USER_COLUMNS}, ${TENANT_COLUMNS}
      FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id AND t.deleted_at IS NULL
     WHERE u.oidc_issuer = ${oidcIssuer} AND u.oidc_subject = ${oidcSubject}
       AND (${byId}::uuid IS NULL OR t.id = ${byId}::uuid)
       AND (${bySlug}::text IS NULL OR t.slug = ${bySlug}::text)
     ORDER BY u.created_at, u.id
     LIMIT 1`;
  return rows.length ? membershipOf(rows[0]) : null;
}

/** Every live tenant the identity is a user of, oldest membership first. */
export async function listMemberships(db: Db, oidcIssuer: string, oidcSubject: string): Promise<Array<{ user: User; tenant: Tenant }>> {
  const rows = await db.user.findMany({
    where: { oidcIssuer, oidcSubject, tenant: { deletedAt: null } },
    include: { tenant: true },
    orderBy: pageOrder,
    take: 500,
  });
  return rows.map(({ tenant, ...user }) => ({ user, tenant }));
}

// Raw statements name the columns of both tables the way the Prisma models do.
const USER_COLUMNS = Prisma.sql`u.id::text AS u_id, u.tenant_id::text AS u_tenant_id, u.account_id::text AS u_account_id, u.email AS u_email,
  u.display_name AS u_display_name, u.role::text AS u_role, u.oidc_issuer AS u_oidc_issuer, u.oidc_subject AS u_oidc_subject,
  u.created_at AS u_created_at, u.updated_at AS u_updated_at`;
const TENANT_COLUMNS = Prisma.sql`t.id::text AS t_id, t.name AS t_name, t.slug AS t_slug, t.deletion_protection AS t_deletion_protection,
  t.created_at AS t_created_at, t.updated_at AS t_updated_at, t.deleted_at AS t_deleted_at, t.purge_after AS t_purge_after`;

interface MembershipRow {
  u_id: string;
  u_tenant_id: string;
  u_account_id: string;
  u_email: string;
  u_display_name: string;
  u_role: Role;
  u_oidc_issuer: string;
  u_oidc_subject: string;
  u_created_at: Date;
  u_updated_at: Date;
  t_id: string;
  t_name: string;
  t_slug: string;
  t_deletion_protection: boolean;
  t_created_at: Date;
  t_updated_at: Date;
  t_deleted_at: Date | null;
  t_purge_after: Date | null;
}

function membershipOf(r: MembershipRow): { user: User; tenant: Tenant } {
  return {
    user: {
      id: r.u_id,
      tenantId: r.u_tenant_id,
      accountId: r.u_account_id,
      email: r.u_email,
      displayName: r.u_display_name,
      role: r.u_role,
      oidcIssuer: r.u_oidc_issuer,
      oidcSubject: r.u_oidc_subject,
      createdAt: r.u_created_at,
      updatedAt: r.u_updated_at,
    },
    tenant: {
      id: r.t_id,
      name: r.t_name,
      slug: r.t_slug,
      deletionProtection: r.t_deletion_protection,
      createdAt: r.t_created_at,
      updatedAt: r.t_updated_at,
      deletedAt: r.t_deleted_at,
      purgeAfter: r.t_purge_after,
    },
  };
}
