import DataLoader from "dataloader";
import type { PageRequest } from "@apgms/proto/apgms/common/v1/pagination";
import type { Account } from "@apgms/proto/apgms/identity/v1/account";
import type { ListUsersResponse, User } from "@apgms/proto/apgms/identity/v1/user";
import type { IdentityClients } from "../identity-clients.js";
import type { Loaders } from "./context.js";

/** A batch function for an API without batch reads: one call per key, all in the same tick, errors per key. */
const each =
  <K, V>(load: (key: K) => Promise<V>) =>
  (keys: readonly K[]): Promise<Array<V | Error>> =>
    Promise.all(keys.map((key) => load(key).catch((err: Error) => err)));

/**
 * Per-request loaders (DataLoader): however many fields of a response ask for
 * an account, a user or a page of an account's users, each is fetched once.
 * The heaviest document the limits allow (a page of users, each user's
 * account, and that account's users) costs one ListUsers per distinct
 * account instead of one per user. Users that a page brought are not fetched
 * again by id.
 */
export function createLoaders(identity: IdentityClients): Loaders {
  const user = new DataLoader<string, User>(each(async (userId) => (await identity.users.getUser({ userId })).user!));
  const account = new DataLoader<string, Account>(each(async (accountId) => (await identity.accounts.getAccount({ accountId })).account!));
  const accountUsers = new DataLoader<{ accountId: string; page: PageRequest }, ListUsersResponse, string>(
    each(async ({ accountId, page }) => {
      const res = await identity.users.listUsers({ accountId, page });
      for (const u of res.users) user.prime(u.id, u);
      return res;
    }),
    { cacheKeyFn: ({ accountId, page }) => `${accountId}\n${page.pageSize}\n${page.pageToken}` },
  );
  return {
    account: (id) => account.load(id),
    user: (id) => user.load(id),
    accountUsers: (accountId, page) => accountUsers.load({ accountId, page }),
  };
}
