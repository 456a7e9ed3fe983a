import { FailedPreconditionError, NotFoundError } from "@apgms/common";
import type { Role, Tenant, User } from "../generated/prisma/client.js";
import { afterCursor, pageOrder, slicePage, type Page } from "../domain/pagination.js";
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
export function createUser(db: Db, tenantId: string, input: NewUser): Promise<User> {
  return uniqueAs(uniqueFields, () =>
    transaction(db, async (tx) => {
      await requireAccount(tx, tenantId, input.accountId);
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

export async function listUsers(db: Db, tenantId: string, page: Page, accountId?: string) {
  if (accountId) await requireAccount(db, tenantId, accountId);
  const rows = await db.user.findMany({
    where: { tenantId, ...(accountId ? { accountId } : {}), ...afterCursor(page.after) },
    orderBy: pageOrder,
    take: page.size + 1,
  });
  const { items, nextPageToken } = slicePage(rows, page.size);
  return { users: items, nextPageToken };
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
export function updateUser(db: Db, tenantId: string, id: string, changes: UserChanges): Promise<User> {
  return transaction(db, async (tx) => {
    await lockTenant(tx, tenantId);
    const user = await requireUser(tx, tenantId, id);
    if (user.role === "owner" && changes.role !== undefined && changes.role !== "owner") {
      await assertAnotherOwner(tx, tenantId, id, "demote");
    }
    if (changes.displayName === undefined && changes.role === undefined) return user;
    return tx.user.update({ where: { id }, data: changes });
  });
}

/** Deletes a user (sessions follow); deleting the last owner is refused. */
export function deleteUser(db: Db, tenantId: string, id: string): Promise<void> {
  return transaction(db, async (tx) => {
    await lockTenant(tx, tenantId);
    const user = await requireUser(tx, tenantId, id);
    if (user.role === "owner") await assertAnotherOwner(tx, tenantId, id, "delete");
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
  const which = tenant === "" ? {} : isUuid(tenant) ? { id: tenant.toLowerCase() } : { slug: tenant };
  const row = await db.user.findFirst({
    where: { oidcIssuer, oidcSubject, tenant: { deletedAt: null, ...which } },
    include: { tenant: true },
    orderBy: pageOrder,
  });
  if (!row) return null;
  const { tenant: t, ...user } = row;
  return { user, tenant: t };
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
