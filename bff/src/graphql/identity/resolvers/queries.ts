import type { GraphQLContext } from "../../context.js";
import { forbidden } from "../../errors.js";
import { can, requireAction } from "../../permissions.js";
import { connection, pageRequest, type PageArgs } from "../../pagination.js";

type Id = { id: string };

export const queryResolvers = {
  me: (_: unknown, __: unknown, ctx: GraphQLContext) => ({ kind: ctx.principal.kind, tenant: ctx.principal.tenant }),

  tenant: async (_: unknown, __: unknown, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:read");
    return (await ctx.identity.tenants.getTenant({ tenantId: ctx.principal.tenant.id })).tenant;
  },

  account: (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:read");
    return ctx.loaders.account(id);
  },

  accounts: async (_: unknown, args: PageArgs, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:read");
    const res = await ctx.identity.accounts.listAccounts({ page: pageRequest(args) });
    return connection(res.accounts, res.page);
  },

  user: (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:read");
    return ctx.loaders.user(id);
  },

  users: async (_: unknown, args: PageArgs & { accountId?: string | null }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "identity:read");
    const res = await ctx.identity.users.listUsers({ page: pageRequest(args), accountId: args.accountId ?? "" });
    return connection(res.users, res.page);
  },

  sessions: async (_: unknown, args: PageArgs & { userId?: string | null; includeRevoked?: boolean | null }, ctx: GraphQLContext) => {
    const p = ctx.principal;
    let userId = args.userId ?? "";
    if (!can(p, "sessions:all")) {
      if (p.kind !== "user") throw forbidden("not allowed: sessions:all");
      if (userId && userId !== p.user.id) {
        await ctx.loaders.user(userId); // another tenant's user is NOT_FOUND, like everywhere else
        throw forbidden("you can only list your own sessions");
      }
      userId = p.user.id;
    }
    const res = await ctx.identity.sessions.listSessions({ page: pageRequest(args), userId, includeRevoked: args.includeRevoked ?? false });
    return connection(res.sessions, res.page);
  },

  apiKey: async (_: unknown, { id }: Id, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "apiKeys:manage");
    return (await ctx.identity.apiKeys.getApiKey({ apiKeyId: id })).apiKey;
  },

  invitations: async (_: unknown, args: PageArgs & { includeClosed?: boolean | null }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "users:invite");
    const res = await ctx.identity.invitations.listInvitations({ page: pageRequest(args), includeClosed: args.includeClosed ?? false });
    return connection(res.invitations, res.page);
  },

  apiKeys: async (_: unknown, args: PageArgs & { includeRevoked?: boolean | null }, ctx: GraphQLContext) => {
    requireAction(ctx.principal, "apiKeys:manage");
    const res = await ctx.identity.apiKeys.listApiKeys({ page: pageRequest(args), includeRevoked: args.includeRevoked ?? false });
    return connection(res.apiKeys, res.page);
  },
};
