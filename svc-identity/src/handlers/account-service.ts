import type { ServiceRegistration } from "@apgms/common";
import {
  AccountServiceService,
  type AccountServiceServer,
  type CreateAccountRequest,
  type CreateAccountResponse,
  type DeleteAccountRequest,
  type DeleteAccountResponse,
  type GetAccountRequest,
  type GetAccountResponse,
  type ListAccountsRequest,
  type ListAccountsResponse,
  type UpdateAccountRequest,
  type UpdateAccountResponse,
} from "@apgms/proto/apgms/identity/v1/account";
import { createAccount, deleteAccount, listAccounts, renameAccount, requireAccount } from "../db/accounts.js";
import * as v from "../domain/validate.js";
import { scoped, type HandlerDeps } from "./scope.js";
import { accountToProto } from "./to-proto.js";

export function accountService(deps: HandlerDeps): ServiceRegistration {
  const implementation: AccountServiceServer = {
    createAccount: scoped<CreateAccountRequest, CreateAccountResponse>(deps, "CreateAccount", async (req, { tenantId, db }) => {
      const account = await createAccount(db, tenantId, v.name("name", req.name));
      return { account: accountToProto(account) };
    }),

    getAccount: scoped<GetAccountRequest, GetAccountResponse>(deps, "GetAccount", async (req, { tenantId, db }) => {
      const account = await requireAccount(db, tenantId, v.uuid("account_id", req.accountId));
      return { account: accountToProto(account) };
    }),

    listAccounts: scoped<ListAccountsRequest, ListAccountsResponse>(deps, "ListAccounts", async (req, { tenantId, pages, db }) => {
      const { accounts, nextPageToken } = await listAccounts(db, tenantId, pages.read(req.page));
      return { accounts: accounts.map(accountToProto), page: pages.next(nextPageToken) };
    }),

    updateAccount: scoped<UpdateAccountRequest, UpdateAccountResponse>(deps, "UpdateAccount", async (req, { tenantId, db }) => {
      const id = v.uuid("account_id", req.accountId);
      const account = await renameAccount(db, tenantId, id, v.optionalName("name", req.name));
      return { account: accountToProto(account) };
    }),

    deleteAccount: scoped<DeleteAccountRequest, DeleteAccountResponse>(deps, "DeleteAccount", async (req, { tenantId, db }) => {
      const deletedUsers = await deleteAccount(db, tenantId, v.uuid("account_id", req.accountId), req.cascade);
      return { deletedUsers };
    }),
  };
  return { name: "apgms.identity.v1.AccountService", definition: AccountServiceService, implementation };
}
