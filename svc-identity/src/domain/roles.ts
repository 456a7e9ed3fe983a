import { InvalidArgumentError } from "@apgms/common";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import type { Role as DbRole } from "../generated/prisma/client.js";

const toDb: Partial<Record<Role, DbRole>> = {
  [Role.ROLE_OWNER]: "owner",
  [Role.ROLE_ADMIN]: "admin",
  [Role.ROLE_ANALYST]: "analyst",
  [Role.ROLE_VIEWER]: "viewer",
};

const fromDb: Record<DbRole, Role> = {
  owner: Role.ROLE_OWNER,
  admin: Role.ROLE_ADMIN,
  analyst: Role.ROLE_ANALYST,
  viewer: Role.ROLE_VIEWER,
};

/** A role from a request; ROLE_UNSPECIFIED and unknown numbers are refused. */
export function role(field: string, value: Role): DbRole {
  const r = toDb[value];
  if (!r) throw new InvalidArgumentError(field, "must be one of ROLE_OWNER, ROLE_ADMIN, ROLE_ANALYST, ROLE_VIEWER");
  return r;
}

export function roleToProto(value: DbRole): Role {
  return fromDb[value];
}
