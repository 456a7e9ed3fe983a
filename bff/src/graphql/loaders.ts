import type { Account } from "@apgms/proto/apgms/identity/v1/account";
import type { User } from "@apgms/proto/apgms/identity/v1/user";
import type { IdentityClients } from "../identity-clients.js";
import type { Loaders } from "./context.js";

/** Per-request memoised lookups, so a list of users with their account fetches each account once. */
export function createLoaders(identity: IdentityClients): Loaders {
  const accounts = new Map<string, Promise<Account>>();
  const users = new Map<string, Promise<User>>();
  const memo = <T>(cache: Map<string, Promise<T>>, id: string, load: () => Promise<T>) => {
    let p = cache.get(id);
    if (!p) cache.set(id, (p = load()));
    return p;
  };
  return {
    account: (id) => memo(accounts, id, async () => (await identity.accounts.getAccount({ accountId: id })).account!),
    user: (id) => memo(users, id, async () => (await identity.users.getUser({ userId: id })).user!),
  };
}
