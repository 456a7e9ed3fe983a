import type { Account } from "@apgms/proto/apgms/identity/v1/account";
import type { ApiKey } from "@apgms/proto/apgms/identity/v1/api_key";
import { InvitationState, type Invitation } from "@apgms/proto/apgms/identity/v1/invitation";
import type { Session } from "@apgms/proto/apgms/identity/v1/session";
import type { Tenant } from "@apgms/proto/apgms/identity/v1/tenant";
import type { User } from "@apgms/proto/apgms/identity/v1/user";
import type * as db from "../generated/prisma/client.js";
import type { AccountWithCount } from "../db/accounts.js";
import type { ApiKeyView } from "../db/api-keys.js";
import { stateOf } from "../db/invitations.js";
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

const invitationStates = {
  pending: InvitationState.INVITATION_STATE_PENDING,
  accepted: InvitationState.INVITATION_STATE_ACCEPTED,
  revoked: InvitationState.INVITATION_STATE_REVOKED,
  expired: InvitationState.INVITATION_STATE_EXPIRED,
} as const;

export function invitationToProto(i: db.Invitation): Invitation {
  return {
    id: i.id,
    tenantId: i.tenantId,
    accountId: i.accountId,
    email: i.email,
    role: roleToProto(i.role),
    displayName: i.displayName,
    state: invitationStates[stateOf(i)],
    createdBy: i.createdBy,
    createTime: i.createdAt,
    expireTime: i.expiresAt,
    acceptTime: time(i.acceptedAt),
    acceptedUserId: i.acceptedUserId ?? "",
    revokeTime: time(i.revokedAt),
    sendCount: i.sendCount,
    lastSendTime: i.lastSentAt,
  };
}
