import { NotFoundError, type ServiceRegistration } from "@apgms/common";
import {
  UserServiceService,
  type BatchGetUsersRequest,
  type BatchGetUsersResponse,
  type CreateUserRequest,
  type CreateUserResponse,
  type DeleteUserRequest,
  type DeleteUserResponse,
  type GetUserRequest,
  type GetUserResponse,
  type ListUsersRequest,
  type ListUsersResponse,
  type UpdateUserRequest,
  type UpdateUserResponse,
  type UserServiceServer,
} from "@apgms/proto/apgms/identity/v1/user";
import { createUser, deleteUser, updateUser } from "../db/users.js";
import { accountRow, userPage, userRow, userRows } from "../db/hot-reads.js";
import { role } from "../domain/roles.js";
import { BATCH_MAX } from "../domain/validate.js";
import * as v from "../domain/validate.js";
import { scoped, scopedRead, type HandlerDeps } from "./scope.js";
import { userToProto } from "./to-proto.js";

export function userService(deps: HandlerDeps): ServiceRegistration {
  const implementation: UserServiceServer = {
    createUser: scoped<CreateUserRequest, CreateUserResponse>(deps, "CreateUser", async (req, { tenantId, db, changes }) => {
      const user = await createUser(db, tenantId, {
        accountId: v.uuid("account_id", req.accountId),
        email: v.email("email", req.email),
        displayName: v.name("display_name", req.displayName),
        role: role("role", req.role),
        oidcIssuer: v.issuerUrl("oidc_issuer", req.oidcIssuer),
        oidcSubject: v.text("oidc_subject", req.oidcSubject, 255),
      }, changes);
      return { user: userToProto(user) };
    }),

    getUser: scopedRead<GetUserRequest, GetUserResponse>(deps, "GetUser", async (req, { tenantId, cache, q }) => {
      const id = v.uuid("user_id", req.userId);
      const user = await cache.users.get(tenantId, id, () => userRow(q, tenantId, id));
      if (!user) throw new NotFoundError("user", id);
      return { user: userToProto(user) };
    }),

    batchGetUsers: scopedRead<BatchGetUsersRequest, BatchGetUsersResponse>(deps, "BatchGetUsers", async (req, { tenantId, cache, q }) => {
      const ids = v.uuids("user_ids", req.userIds, BATCH_MAX);
      const users = await cache.users.getMany(tenantId, ids, (missing) => userRows(q, tenantId, missing));
      return { users: [...users.values()].map(userToProto) };
    }),

    listUsers: scopedRead<ListUsersRequest, ListUsersResponse>(deps, "ListUsers", async (req, { tenantId, pages, cache, q }) => {
      const accountId = v.optionalUuid("account_id", req.accountId);
      const page = pages.read(req.page);
      // An account filter names an account of the tenant (else NOT_FOUND); checked beside the page query.
      const [account, { users, nextPageToken }] = await Promise.all([
        accountId ? cache.accounts.get(tenantId, accountId, () => accountRow(q, tenantId, accountId)) : undefined,
        userPage(q, tenantId, page, accountId),
      ]);
      if (accountId && !account) throw new NotFoundError("account", accountId);
      return { users: users.map(userToProto), page: pages.next(nextPageToken) };
    }),

    updateUser: scoped<UpdateUserRequest, UpdateUserResponse>(deps, "UpdateUser", async (req, { tenantId, db, changes }) => {
      const id = v.uuid("user_id", req.userId);
      const edit = {
        displayName: v.optionalName("display_name", req.displayName),
        role: req.role === undefined ? undefined : role("role", req.role),
      };
      const user = await updateUser(db, tenantId, id, edit, changes);
      return { user: userToProto(user) };
    }),

    deleteUser: scoped<DeleteUserRequest, DeleteUserResponse>(deps, "DeleteUser", async (req, { tenantId, db, changes }) => {
      await deleteUser(db, tenantId, v.uuid("user_id", req.userId), changes);
      return {};
    }),
  };
  return { name: "apgms.identity.v1.UserService", definition: UserServiceService, implementation };
}
