import type { Account } from "@apgms/proto/apgms/identity/v1/account";
import type { ApiKey, ApiKeyRotation } from "@apgms/proto/apgms/identity/v1/api_key";
import type { Session } from "@apgms/proto/apgms/identity/v1/session";
import { InvitationState, type Invitation } from "@apgms/proto/apgms/identity/v1/invitation";
import type { User } from "@apgms/proto/apgms/identity/v1/user";
import type { GraphQLContext } from "../../context.js";
import { can } from "../../permissions.js";
import { connection, pageRequest, type PageArgs } from "../../pagination.js";

/** Field resolvers mapping proto messages onto the GraphQL types. */
export const typeResolvers = {
  PrincipalKind: { USER: "user", API_KEY: "apiKey" },
  InvitationState: {
    PENDING: InvitationState.INVITATION_STATE_PENDING,
    ACCEPTED: InvitationState.INVITATION_STATE_ACCEPTED,
    REVOKED: InvitationState.INVITATION_STATE_REVOKED,
    EXPIRED: InvitationState.INVITATION_STATE_EXPIRED,
  },
  Invitation: {
    account: (i: Invitation, _: unknown, ctx: GraphQLContext) => ctx.loaders.account(i.accountId),
    createdAt: (i: Invitation) => i.createTime,
    expiresAt: (i: Invitation) => i.expireTime,
    lastSentAt: (i: Invitation) => i.lastSendTime,
    acceptedAt: (i: Invitation) => i.acceptTime ?? null,
    acceptedUserId: (i: Invitation) => i.acceptedUserId || null,
    revokedAt: (i: Invitation) => i.revokeTime ?? null,
  },
  Account: {
    createdAt: (a: Account) => a.createTime,
    updatedAt: (a: Account) => a.updateTime,
    users: async (a: Account, args: PageArgs, ctx: GraphQLContext) => {
      const res = await ctx.loaders.accountUsers(a.id, pageRequest(args));
      return connection(res.users, res.page);
    },
  },
  User: {
    createdAt: (u: User) => u.createTime,
    updatedAt: (u: User) => u.updateTime,
    account: (u: User, _: unknown, ctx: GraphQLContext) => ctx.loaders.account(u.accountId),
  },
  Session: {
    createdAt: (s: Session) => s.createTime,
    lastSeenAt: (s: Session) => s.lastSeenTime,
    expiresAt: (s: Session) => s.expireTime ?? null,
    revokedAt: (s: Session) => s.revokeTime ?? null,
    user: (s: Session, _: unknown, ctx: GraphQLContext) => ctx.loaders.user(s.userId),
    current: (s: Session, _: unknown, ctx: GraphQLContext) => ctx.principal.kind === "user" && ctx.principal.sessionId === s.id,
  },
  ApiKey: {
    createdAt: (k: ApiKey) => k.createTime,
    expiresAt: (k: ApiKey) => k.expireTime ?? null,
    revokedAt: (k: ApiKey) => k.revokeTime ?? null,
    lastUsedAt: (k: ApiKey) => k.lastUsedTime ?? null,
  },
  ApiKeyRotation: {
    rotatedAt: (r: ApiKeyRotation) => r.rotateTime,
    graceEndsAt: (r: ApiKeyRotation) => r.graceEndTime,
  },
  Me: {
    user: (_: unknown, __: unknown, ctx: GraphQLContext) => (ctx.principal.kind === "user" ? ctx.principal.user : null),
    role: (_: unknown, __: unknown, ctx: GraphQLContext) => (ctx.principal.kind === "user" ? ctx.principal.role : null),
    apiKey: (_: unknown, __: unknown, ctx: GraphQLContext) => (ctx.principal.kind === "apiKey" ? ctx.principal.apiKey : null),
    scopes: (_: unknown, __: unknown, ctx: GraphQLContext) => {
      const p = ctx.principal;
      if (p.kind === "apiKey") return p.scopes;
      return (["identity:read", "identity:write", "billing:read", "billing:write", "billing:redeem", "insights:read", "events:write"] as const).filter((s) => can(p, s));
    },
  },
};
