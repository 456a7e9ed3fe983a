import { FailedPreconditionError, NotFoundError } from "@apgms/common";
import type { PrismaClient, Role, Tenant, User } from "../generated/prisma/client.js";
import { afterCursor, pageOrder, slicePage, type Page } from "../domain/pagination.js";
import type { Db } from "./client.js";
import { uniqueAs } from "./errors.js";
import { requireAccount } from "./accounts.js";
import { lockTenant } from "./tenants.js";

export interface NewUser {
  accountId: string;
  email: string;
  displayName: string;
  role: Role;
  oidcIssuer: string;
  oidcSubject: string;
}

const uniqueFields: Array<[string, string]> = [
  ["email", "email"],
  ["oidc", "oidc_subject"],
];

/** Creates a user in one of the tenant's accounts (another tenant's account is NOT_FOUND). */
export function createUser(prisma: PrismaClient, tenantId: string, input: NewUser): Promise<User> {
  return uniqueAs(uniqueFields, () =>
    prisma.$transaction(async (tx) => {
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
export function updateUser(prisma: PrismaClient, tenantId: string, id: string, changes: UserChanges): Promise<User> {
  return prisma.$transaction(async (tx) => {
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
export function deleteUser(prisma: PrismaClient, tenantId: string, id: string): Promise<void> {
  return prisma.$transaction(async (tx) => {
    await lockTenant(tx, tenantId);
    const user = await requireUser(tx, tenantId, id);
    if (user.role === "owner") await assertAnotherOwner(tx, tenantId, id, "delete");
    await tx.user.delete({ where: { id } });
  });
}

/** The user linked to an OIDC identity, with its tenant, when both are live. */
export async function resolveOidcSubject(db: Db, oidcIssuer: string, oidcSubject: string): Promise<{ user: User; tenant: Tenant } | null> {
  const row = await db.user.findUnique({
    where: { oidcIssuer_oidcSubject: { oidcIssuer, oidcSubject } },
    include: { tenant: true },
  });
  if (!row || row.tenant.deletedAt !== null) return null;
  const { tenant, ...user } = row;
  return { user, tenant };
}
