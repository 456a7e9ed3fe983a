import DataLoader from "dataloader";
import { NotFoundError, toServiceError } from "@apgms/common/errors";
import type { PageRequest } from "@apgms/proto/apgms/common/v1/pagination";
import type { Account } from "@apgms/proto/apgms/identity/v1/account";
import type { ListUsersResponse, User } from "@apgms/proto/apgms/identity/v1/user";
import type { IdentityClients } from "../identity-clients.js";
import type { Loaders } from "./context.js";

/** The most ids one BatchGet… call carries (the services take up to 500). */
export const BATCH_SIZE = 500;

/** What the service would have answered for this id alone (NOT_FOUND), as the gRPC error the edge maps. */
function notFound(kind: string, id: string): Error {
  const status = toServiceError(new NotFoundError(kind, id));
  return Object.assign(new Error(`${status.code} ${status.details}`), status);
}

/**
 * A DataLoader batch function over a Get (one key) and a BatchGet (several):
 * a lone id costs the same call as before, a list's related objects one call
 * in all. Ids the batch left out fail alone, with the NOT_FOUND the Get would
 * have given; an error of the whole call fails every key.
 */
function byId<V extends { id: string }>(
  get: (id: string) => Promise<V>,
  batchGet: (ids: string[]) => Promise<V[]>,
  missing: (id: string) => Error,
) {
  return async (ids: readonly string[]): Promise<Array<V | Error>> => {
    if (ids.length === 1) return [await get(ids[0]!).catch((err: Error) => err)];
    const found = new Map((await batchGet([...ids])).map((v) => [v.id, v]));
    return ids.map((id) => found.get(id) ?? missing(id));
  };
}

/**
 * Per-request loaders (DataLoader): however many fields of a response ask for
 * an account, a user or a page of an account's users, each is fetched once,
 * and the accounts (or users) a list refers to come in one BatchGet call: a
 * page of 50 users with their accounts is two gRPC calls. Users that a page
 * brought are not fetched again by id.
 */
export function createLoaders(identity: IdentityClients): Loaders {
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
