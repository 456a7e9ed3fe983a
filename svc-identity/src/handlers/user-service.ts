import type { ServiceRegistration } from "@apgms/common";
import {
  UserServiceService,
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
import { createUser, deleteUser, listUsers, requireUser, updateUser } from "../db/users.js";
import { role } from "../domain/roles.js";
import * as v from "../domain/validate.js";
import { scoped, type HandlerDeps } from "./scope.js";
import { userToProto } from "./to-proto.js";

export function userService(deps: HandlerDeps): ServiceRegistration {
  const implementation: UserServiceServer = {
    createUser: scoped<CreateUserRequest, CreateUserResponse>(deps, "CreateUser", async (req, { tenantId, db }) => {
      const user = await createUser(db, tenantId, {
        accountId: v.uuid("account_id", req.accountId),
        email: v.email("email", req.email),
        displayName: v.name("display_name", req.displayName),
        role: role("role", req.role),
        oidcIssuer: v.issuerUrl("oidc_issuer", req.oidcIssuer),
        oidcSubject: v.text("oidc_subject", req.oidcSubject, 255),
      });
      return { user: userToProto(user) };
    }),

    getUser: scoped<GetUserRequest, GetUserResponse>(deps, "GetUser", async (req, { tenantId, db }) => {
      const user = await requireUser(db, tenantId, v.uuid("user_id", req.userId));
      return { user: userToProto(user) };
    }),

    listUsers: scoped<ListUsersRequest, ListUsersResponse>(deps, "ListUsers", async (req, { tenantId, pages, db }) => {
      const accountId = v.optionalUuid("account_id", req.accountId);
      const { users, nextPageToken } = await listUsers(db, tenantId, pages.read(req.page), accountId);
      return { users: users.map(userToProto), page: pages.next(nextPageToken) };
    }),

    updateUser: scoped<UpdateUserRequest, UpdateUserResponse>(deps, "UpdateUser", async (req, { tenantId, db }) => {
      const id = v.uuid("user_id", req.userId);
      const user = await updateUser(db, tenantId, id, {
        displayName: v.optionalName("display_name", req.displayName),
        role: req.role === undefined ? undefined : role("role", req.role),
      });
      return { user: userToProto(user) };
    }),

    deleteUser: scoped<DeleteUserRequest, DeleteUserResponse>(deps, "DeleteUser", async (req, { tenantId, db }) => {
      await deleteUser(db, tenantId, v.uuid("user_id", req.userId));
      return {};
    }),
  };
  return { name: "apgms.identity.v1.UserService", definition: UserServiceService, implementation };
}
