import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { GraphQLError } from "graphql";
import type { GraphQLContext } from "../../context.js";
import { badInput, forbidden } from "../../errors.js";
import { NotFoundError } from "@apgms/common/errors";
import { can, requireAction } from "../../permissions.js";

type Id = { id: string };
type Nullable<T> = { [K in keyof T]?: T[K] | null };
const opt = <T>(v: T | null | undefined): T | undefined => (v === null ? undefined : v);

async function requireOwnerForOwners(ctx: GraphQLContext, roles: Array<Role | undefined>): Promise<void> {
  if (roles.includes(Role.ROLE_OWNER) && !can(ctx.principal, "owners:manage")) {
    throw forbidden("only an owner can grant, change or remove the owner role");
  }
}

async function* allUsers(ctx: GraphQLContext, accountId: string) {
  for (let pageToken = ""; ; ) {
    const res = await ctx.identity.users.listUsers({ accountId, page: { pageSize: 200, pageToken } });
    yield* res.users;
    pageToken = res.page?.nextPageToken ?? "";
    if (!pageToken) return;
  }
}

export const mutationResolvers = {
  updateTenant: async (_: unknown, { input }: { input: Nullable<{ name: string; deletionProtection: boolean }> }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "tenant:manage");
    const res = await ctx.identity.tenants.updateTenant({
      tenantId: ctx.principal.tenant.id,
      name: opt(input.name),
      deletionProtection: opt(input.deletionProtection),
    });
    await ctx.auth.forgetTenant(ctx.principal.tenant.id);
    return res.tenant;
  },

  deleteTenant: async (_: unknown, { confirmation }: { confirmation: string }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "tenant:manage");
    const res = await ctx.identity.tenants.deleteTenant({ tenantId: ctx.principal.tenant.id, confirmation });
    // Every cached credential of the tenant goes at once: its very next request is refused.
    await ctx.auth.forgetTenant(ctx.principal.tenant.id);
    return res.tenant;
  },

  createAccount: async (_: unknown, { input }: { input: { name: string } }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:write");
    return (await ctx.identity.accounts.createAccount({ name: input.name })).account;
  },

  updateAccount: async (_: unknown, { id, input }: Id & { input: Nullable<{ name: string }> }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:write");
    return (await ctx.identity.accounts.updateAccount({ accountId: id, name: opt(input.name) })).account;
  },

  deleteAccount: async (_: unknown, { id, cascade }: Id & { cascade?: boolean | null }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:write");
    // A cascade deletes the account's users: removing an owner that way is owner business too.
    if (cascade && !can(ctx.principal, "owners:manage")) {
      for await (const user of allUsers(ctx, id)) {
        if (user.role === Role.ROLE_OWNER) throw forbidden("only an owner can remove an owner (the account has one)");
      }
    }
    const res = await ctx.identity.accounts.deleteAccount({ accountId: id, cascade: cascade ?? false });
    if (res.deletedUsers > 0) await ctx.auth.forgetTenant(ctx.principal.tenant.id);
    return { deletedUsers: res.deletedUsers };
  },

  inviteUser: async (
    _: unknown,
    { input }: { input: { accountId: string; email: string; role: Role; displayName?: string | null } },
    ctx: GraphQLContext,
  ) => {
    requireAction(ctx.principal, "users:invite");
    await requireOwnerForOwners(ctx, [input.role]);
    const res = await ctx.identity.invitations.createInvitation({
      accountId: input.accountId,
      email: input.email,
      role: input.role,
      displayName: input.displayName ?? "",
    });
    return { invitation: res.invitation, code: res.code };
  },

  resendInvitation: async (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "users:invite");
    const res = await ctx.identity.invitations.resendInvitation({ invitationId: id });
    return { invitation: res.invitation, code: res.code };
  },

  revokeInvitation: async (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "users:invite");
    return (await ctx.identity.invitations.revokeInvitation({ invitationId: id })).invitation;
  },

  /** The identity provider's provisioning: links a subject of a trusted issuer directly. */
  createUser: async (
    _: unknown,
    { input }: { input: { accountId: string; email: string; displayName: string; role: Role; oidcSubject: string; oidcIssuer?: string | null } },
    ctx: GraphQLContext,
  ) => {
    if (!can(ctx.principal, "users:provision")) {
      throw forbidden("createUser is for the identity provider's provisioning key (scope identity:provision); invite people with inviteUser");
    }
    const oidcIssuer = input.oidcIssuer ?? ctx.oidcIssuer;
    if (!ctx.provisioningIssuers.includes(oidcIssuer)) throw badInput("oidcIssuer", "is not a trusted provisioning issuer of this platform");
    const res = await ctx.identity.users.createUser({
      accountId: input.accountId,
      email: input.email,
      displayName: input.displayName,
      role: input.role,
      oidcIssuer,
      oidcSubject: input.oidcSubject,
    });
    return res.user;
  },

  updateUser: async (_: unknown, { id, input }: Id & { input: Nullable<{ displayName: string; role: Role }> }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:write");
    if (input.role != null) {
      const target = await ctx.loaders.user(id);
      await requireOwnerForOwners(ctx, [target.role, input.role]);
    }
    const res = await ctx.identity.users.updateUser({ userId: id, displayName: opt(input.displayName), role: opt(input.role) });
    ctx.auth.forgetUser(id);
    return res.user;
  },

  deleteUser: async (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:write");
    const target = await ctx.loaders.user(id);
    await requireOwnerForOwners(ctx, [target.role]);
    await ctx.identity.users.deleteUser({ userId: id });
    ctx.auth.forgetUser(id);
    return true;
  },

  revokeSession: async (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    const p = ctx.principal;
    if (!can(p, "sessions:all")) {
      if (p.kind !== "user") throw forbidden("not allowed: sessions:all");
      let own = false;
      for (let pageToken = ""; !own; ) {
        const page = await ctx.identity.sessions.listSessions({ userId: p.user.id, includeRevoked: true, page: { pageSize: 200, pageToken } });
        own = page.sessions.some((s) => s.id === id);
        pageToken = page.page?.nextPageToken ?? "";
        if (!pageToken) break;
      }
      // Not FORBIDDEN: whose it is, and whether it exists, is none of a non-admin's business.
      if (!own) throw new GraphQLError(new NotFoundError("session", id).message, { extensions: { code: "NOT_FOUND" } });
    }
    const { session } = await ctx.identity.sessions.revokeSession({ sessionId: id });
    if (session) ctx.auth.forgetSession(session.userId, session.sessionKey);
    return session;
  },

  createApiKey: async (_: unknown, { input }: { input: { name: string; scopes: string[]; expiresAt?: Date | null } }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "apiKeys:manage");
    const res = await ctx.identity.apiKeys.createApiKey({ name: input.name, scopes: input.scopes, expireTime: opt(input.expiresAt) });
    return { apiKey: res.apiKey, secret: res.secret };
  },

  rotateApiKey: async (_: unknown, { id, gracePeriodSeconds }: Id & { gracePeriodSeconds?: number | null }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "apiKeys:manage");
    const res = await ctx.identity.apiKeys.rotateApiKey({ apiKeyId: id, gracePeriodSeconds: gracePeriodSeconds ?? 0 });
    await ctx.auth.forgetApiKey(id);
    return { apiKey: res.apiKey, secret: res.secret };
  },

  revokeApiKey: async (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "apiKeys:manage");
    const res = await ctx.identity.apiKeys.revokeApiKey({ apiKeyId: id });
    await ctx.auth.forgetApiKey(id);
    return res.apiKey;
  },
};
