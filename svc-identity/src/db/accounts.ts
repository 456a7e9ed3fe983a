import { FailedPreconditionError, NotFoundError } from "@apgms/common";
import type { Account } from "../generated/prisma/client.js";
import { afterCursor, pageOrder, slicePage, type Page } from "@apgms/common";
import type { IdentityChanges } from "../cache.js";
import { transaction, type Db } from "./client.js";
import { lockTenant } from "./tenants.js";

export interface AccountWithCount extends Account {
  userCount: number;
}

const withUserCount = { _count: { select: { users: true } } } as const;

function flatten(row: Account & { _count: { users: number } }): AccountWithCount {
  const { _count, ...account } = row;
  return { ...account, userCount: _count.users };
}

export async function createAccount(db: Db, tenantId: string, name: string): Promise<AccountWithCount> {
  const account = await db.account.create({ data: { tenantId, name } });
  return { ...account, userCount: 0 };
}

export async function findAccount(db: Db, tenantId: string, id: string): Promise<AccountWithCount | null> {
  const row = await db.account.findFirst({ where: { id, tenantId }, include: withUserCount });
  return row ? flatten(row) : null;
}

export async function requireAccount(db: Db, tenantId: string, id: string): Promise<AccountWithCount> {
  const account = await findAccount(db, tenantId, id);
  if (!account) throw new NotFoundError("account", id);
  return account;
}

/** By name, for the seed (names are not unique; the oldest wins). */
export function findAccountByName(db: Db, tenantId: string, name: string): Promise<Account | null> {
  return db.account.findFirst({ where: { tenantId, name }, orderBy: pageOrder });
}

export async function listAccounts(db: Db, tenantId: string, page: Page) {
  const rows = await db.account.findMany({
    where: { tenantId, ...afterCursor(page.after) },
    orderBy: pageOrder,
    take: page.size + 1,
    include: withUserCount,
  });
  const { items, nextPageToken } = slicePage(rows, page.size);
  return { accounts: items.map(flatten), nextPageToken };
}

export async function renameAccount(db: Db, tenantId: string, id: string, name: string | undefined, changes: IdentityChanges): Promise<AccountWithCount> {
  if (name !== undefined) {
    changes.account(tenantId, id);
    const { count } = await db.account.updateMany({ where: { id, tenantId }, data: { name } });
    if (count === 0) throw new NotFoundError("account", id);
  }
  return requireAccount(db, tenantId, id);
}

/**
 * Deletes an account. With users it is refused unless `cascade`, which deletes
 * them too (their sessions follow by foreign key) — but never the tenant's last owner.
 */
export function deleteAccount(db: Db, tenantId: string, id: string, cascade: boolean, changes: IdentityChanges): Promise<number> {
  return transaction(db, async (tx) => {
    await lockTenant(tx, tenantId);
    const account = await requireAccount(tx, tenantId, id);
    if (account.userCount > 0) {
      if (!cascade) throw new FailedPreconditionError(`account has ${account.userCount} users; delete them or ask for the cascade`);
      const ownersElsewhere = await tx.user.count({ where: { tenantId, role: "owner", accountId: { not: id } } });
      if (ownersElsewhere === 0) throw new FailedPreconditionError("deleting this account would remove the tenant's last owner");
    }
    const users = await tx.user.findMany({ where: { tenantId, accountId: id }, select: { id: true } });
    changes.account(tenantId, id).user(tenantId, ...users.map((u) => u.id));
    const { count } = await tx.user.deleteMany({ where: { tenantId, accountId: id } });
    await tx.account.delete({ where: { id } });
    return count;
  });
}
