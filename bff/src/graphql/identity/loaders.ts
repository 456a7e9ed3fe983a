import DataLoader from "dataloader";
import type { PageRequest } from "@apgms/proto/apgms/common/v1/pagination";
import type { Account } from "@apgms/proto/apgms/identity/v1/account";
import type { ListUsersResponse, User } from "@apgms/proto/apgms/identity/v1/user";
import type { IdentityClients } from "../../identity-clients.js";
import { BATCH_SIZE, byId, notFound } from "../batch-load.js";

export interface IdentityLoaders {
  account(id: string): Promise<Account>;
  user(id: string): Promise<User>;
  /** One page of an account's users. */
  accountUsers(accountId: string, page: PageRequest): Promise<ListUsersResponse>;
}

/**
 * Per-request loaders (DataLoader): however many fields of a response ask for
 * an account, a user or a page of an account's users, each is fetched once,
 * and the accounts (or users) a list refers to come in one BatchGet call: a
 * page of 50 users with their accounts is two gRPC calls. Users that a page
 * brought are not fetched again by id.
 */
export function createIdentityLoaders(identity: IdentityClients): IdentityLoaders {
  const user = new DataLoader<string, User>(
    byId(
      async (userId) => (await identity.users.getUser({ userId })).user!,
      async (userIds) => (await identity.users.batchGetUsers({ userIds })).users,
      (id) => notFound("user", id),
    ),
    { maxBatchSize: BATCH_SIZE },
  );
  const account = new DataLoader<string, Account>(
    byId(
      async (accountId) => (await identity.accounts.getAccount({ accountId })).account!,
      async (accountIds) => (await identity.accounts.batchGetAccounts({ accountIds })).accounts,
      (id) => notFound("account", id),
    ),
    { maxBatchSize: BATCH_SIZE },
  );
  const accountUsers = new DataLoader<{ accountId: string; page: PageRequest }, ListUsersResponse, string>(
    (keys) =>
      Promise.all(
        keys.map(({ accountId, page }) =>
          identity.users.listUsers({ accountId, page }).then((res) => {
            for (const u of res.users) user.prime(u.id, u);
            return res;
          }, (err: Error) => err),
        ),
      ),
    { cacheKeyFn: ({ accountId, page }) => `${accountId}\n${page.pageSize}\n${page.pageToken}` },
  );
  return {
    account: (id) => account.load(id),
    user: (id) => user.load(id),
    accountUsers: (accountId, page) => accountUsers.load({ accountId, page }),
  };
}
