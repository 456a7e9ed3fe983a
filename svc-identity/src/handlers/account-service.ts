import { NotFoundError, type ServiceRegistration } from "@apgms/common";
import {
  AccountServiceService,
  type AccountServiceServer,
  type BatchGetAccountsRequest,
  type BatchGetAccountsResponse,
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
import { createAccount, deleteAccount, listAccounts, renameAccount } from "../db/accounts.js";
import { accountRow, accountRows } from "../db/hot-reads.js";
import * as v from "../domain/validate.js";
import { BATCH_MAX } from "../domain/validate.js";
import { scoped, scopedRead, type HandlerDeps } from "./scope.js";
import { accountToProto } from "./to-proto.js";

export function accountService(deps: HandlerDeps): ServiceRegistration {
  const implementation: AccountServiceServer = {
    createAccount: scoped<CreateAccountRequest, CreateAccountResponse>(deps, "CreateAccount", async (req, { tenantId, db }) => {
      const account = await createAccount(db, tenantId, v.name("name", req.name));
      return { account: accountToProto(account) };
    }),

    getAccount: scopedRead<GetAccountRequest, GetAccountResponse>(deps, "GetAccount", async (req, { tenantId, cache, q }) => {
      const id = v.uuid("account_id", req.accountId);
      const account = await cache.accounts.get(tenantId, id, () => accountRow(q, tenantId, id));
      if (!account) throw new NotFoundError("account", id);
      return { account: accountToProto(account) };
    }),

    batchGetAccounts: scopedRead<BatchGetAccountsRequest, BatchGetAccountsResponse>(deps, "BatchGetAccounts", async (req, { tenantId, cache, q }) => {
      const ids = v.uuids("account_ids", req.accountIds, BATCH_MAX);
      const accounts = await cache.accounts.getMany(tenantId, ids, (missing) => accountRows(q, tenantId, missing));
      return { accounts: [...accounts.values()].map(accountToProto) };
    }),

    listAccounts: scopedRead<ListAccountsRequest, ListAccountsResponse>(deps, "ListAccounts", async (req, { tenantId, pages, read }) => {
      const page = pages.read(req.page);
      const { accounts, nextPageToken } = await read((db) => listAccounts(db, tenantId, page));
      return { accounts: accounts.map(accountToProto), page: pages.next(nextPageToken) };
    }),

    updateAccount: scoped<UpdateAccountRequest, UpdateAccountResponse>(deps, "UpdateAccount", async (req, { tenantId, db, changes }) => {
      const id = v.uuid("account_id", req.accountId);
      const account = await renameAccount(db, tenantId, id, v.optionalName("name", req.name), changes);
      return { account: accountToProto(account) };
    }),

    deleteAccount: scoped<DeleteAccountRequest, DeleteAccountResponse>(deps, "DeleteAccount", async (req, { tenantId, db, changes }) => {
      const deletedUsers = await deleteAccount(db, tenantId, v.uuid("account_id", req.accountId), req.cascade, changes);
      return { deletedUsers };
    }),
  };
  return { name: "apgms.identity.v1.AccountService", definition: AccountServiceService, implementation };
}
