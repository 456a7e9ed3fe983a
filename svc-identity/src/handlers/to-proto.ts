import type { Account } from "@apgms/proto/apgms/identity/v1/account";
import type { ApiKey } from "@apgms/proto/apgms/identity/v1/api_key";
import type { Session } from "@apgms/proto/apgms/identity/v1/session";
import type { Tenant } from "@apgms/proto/apgms/identity/v1/tenant";
import type { User } from "@apgms/proto/apgms/identity/v1/user";
import type * as db from "../generated/prisma/client.js";
import type { AccountWithCount } from "../db/accounts.js";
import type { ApiKeyView } from "../db/api-keys.js";
import { roleToProto } from "../domain/roles.js";

const time = (d: Date | null): Date | undefined => d ?? undefined;

export function tenantToProto(t: db.Tenant): Tenant {
  return {
    id: t.id,
    name: t.name,
    slug: t.slug,
    deletionProtection: t.deletionProtection,
    createTime: t.createdAt,
    updateTime: t.updatedAt,
    deleteTime: time(t.deletedAt),
    purgeTime: time(t.purgeAfter),
  };
}

export function accountToProto(a: AccountWithCount): Account {
  return {
    id: a.id,
    tenantId: a.tenantId,
    name: a.name,
    userCount: a.userCount,
    createTime: a.createdAt,
    updateTime: a.updatedAt,
  };
}

export function userToProto(u: db.User): User {
  return {
    id: u.id,
    tenantId: u.tenantId,
    accountId: u.accountId,
    email: u.email,
    displayName: u.displayName,
    role: roleToProto(u.role),
    oidcIssuer: u.oidcIssuer,
    oidcSubject: u.oidcSubject,
    createTime: u.createdAt,
    updateTime: u.updatedAt,
  };
}

export function sessionToProto(s: db.Session): Session {
  return {
    id: s.id,
    tenantId: s.tenantId,
    userId: s.userId,
    sessionKey: s.sessionKey,
    userAgent: s.userAgent,
    ip: s.ip,
    createTime: s.createdAt,
    lastSeenTime: s.lastSeenAt,
    expireTime: time(s.expiresAt),
    revokeTime: time(s.revokedAt),
  };
}

export function apiKeyToProto(k: ApiKeyView): ApiKey {
  return {
    id: k.id,
    tenantId: k.tenantId,
    name: k.name,
    prefix: k.prefix,
    scopes: k.scopes,
    createTime: k.createdAt,
    expireTime: time(k.expiresAt),
    revokeTime: time(k.revokedAt),
    lastUsedTime: time(k.lastUsedAt),
    rotations: k.rotations.map((r) => ({
      oldPrefix: r.oldPrefix,
      newPrefix: r.newPrefix,
      rotateTime: r.rotatedAt,
      graceEndTime: r.graceUntil,
      actor: r.actor,
    })),
  };
}
