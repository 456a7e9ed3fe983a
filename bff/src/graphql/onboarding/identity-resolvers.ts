import { MetadataKeys } from "@apgms/common/context";
import { graphqlCodeFor, isServiceError } from "@apgms/common/errors";
import type { Identity, Membership } from "@apgms/proto/apgms/identity/v1/membership";
import type { Tenant } from "@apgms/proto/apgms/identity/v1/tenant";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { GraphQLError } from "graphql";
import type { TokenClaims } from "../../auth/jwt-verifier.js";
import type { IdentityClients } from "../../identity-clients.js";
import { badInput, forbidden } from "../errors.js";
import { DateTime } from "../scalars.js";

export interface IdentityOpsDeps {
  identity: IdentityClients;
  signUpEnabled: boolean;
  /** Called after an operation that changes which tenants the identity belongs to. */
  onMembershipChange?: (claims: TokenClaims) => void;
  /** Writes the audit line of a successful mutation, where no plugin of the schema does. */
  audit?: (claims: TokenClaims, mutation: string, tenantId: string) => void;
}

export interface SignUpInput {
  tenantName: string;
  slug: string;
  accountName?: string | null;
  displayName?: string | null;
}

/** Field resolvers both schemas share for the types in identityTypeDefs. */
export const identityTypeResolvers = {
  DateTime,
  Role: { OWNER: Role.ROLE_OWNER, ADMIN: Role.ROLE_ADMIN, ANALYST: Role.ROLE_ANALYST, VIEWER: Role.ROLE_VIEWER },
  Tenant: {
    createdAt: (t: Tenant) => t.createTime,
    updatedAt: (t: Tenant) => t.updateTime,
    deletedAt: (t: Tenant) => t.deleteTime ?? null,
    purgeAt: (t: Tenant) => t.purgeTime ?? null,
  },
};

const toIdentity = (c: TokenClaims): Identity => ({
  issuer: c.iss,
  subject: c.sub,
  email: c.email ?? "",
  emailVerified: c.email_verified === true,
  name: typeof c.name === "string" ? c.name : "",
});

const membership = (m: Membership | undefined) => ({ tenant: m!.tenant!, userId: m!.user!.id, role: m!.user!.role });

/** A service error whose field is a request field of this RPC, renamed to the GraphQL argument. */
function renamed(fields: Record<string, string>, messages: Record<string, string> = {}) {
  return (err: unknown): never => {
    if (!isServiceError(err)) throw err;
    const field = err.metadata.get(MetadataKeys.field)[0];
    if (typeof field !== "string") throw err;
    const name = fields[field] ?? field;
    throw new GraphQLError(messages[field] ?? err.details.replace(field, name), { extensions: { code: graphqlCodeFor(err.code), field: name } });
  };
}

/** CreateTenant's request fields as the signUp input names them. */
const signUpFields = { name: "tenantName", slug: "slug", account_name: "accountName", owner_display_name: "displayName", owner_email: "email" };

/**
 * The operations of the signed-in identity itself. `callerOf` says who that
 * is for a request (it throws for principals that are not a person).
 */
export function identityResolvers<Ctx>(deps: IdentityOpsDeps, callerOf: (ctx: Ctx) => TokenClaims) {
  const { identity, signUpEnabled, onMembershipChange, audit = () => {} } = deps;

  return {
    Query: {
      signUpAvailable: () => signUpEnabled,
      memberships: async (_: unknown, __: unknown, ctx: Ctx) => {
        const res = await identity.memberships.listMemberships({ identity: toIdentity(callerOf(ctx)) });
        return res.memberships.map(membership);
      },
      myInvitations: async (_: unknown, __: unknown, ctx: Ctx) => {
        const res = await identity.memberships.listInvitationsForEmail({ identity: toIdentity(callerOf(ctx)) });
        return res.invitations.map(({ invitation: i, tenantName, tenantSlug }) => ({
          id: i!.id,
          tenantName,
          tenantSlug,
          email: i!.email,
          role: i!.role,
          expiresAt: i!.expireTime,
        }));
      },
      restorableTenants: async (_: unknown, __: unknown, ctx: Ctx) =>
        (await identity.memberships.listRestorableTenants({ identity: toIdentity(callerOf(ctx)) })).tenants,
    },
    Mutation: {
      signUp: async (_: unknown, { input }: { input: SignUpInput }, ctx: Ctx) => {
        const claims = callerOf(ctx);
        if (!signUpEnabled) throw forbidden("sign-up is not enabled on this platform; ask a tenant admin for an invitation");
        if (!claims.email) {
          throw new GraphQLError("your token carries no email claim; ask your identity provider to include it", {
            extensions: { code: "FAILED_PRECONDITION" },
          });
        }
        const res = await identity.tenants
          .createTenant({
            name: input.tenantName,
            slug: input.slug,
            accountName: input.accountName ?? "Main",
            ownerEmail: claims.email,
            ownerDisplayName: input.displayName ?? claims.name ?? claims.email,
            ownerOidcIssuer: claims.iss,
            ownerOidcSubject: claims.sub,
          })
          .catch(renamed(signUpFields, { owner_email: "the email claim of your token is not a valid email address" }));
        audit(claims, "signUp", res.tenant!.id);
        onMembershipChange?.(claims);
        return { tenantId: res.tenant!.id, tenantSlug: res.tenant!.slug, accountId: res.accountId, userId: res.ownerUserId };
      },

      acceptInvitation: async (_: unknown, args: { id?: string | null; code?: string | null }, ctx: Ctx) => {
        const claims = callerOf(ctx);
        const { id, code } = args;
        if ((id == null) === (code == null)) throw badInput("id", "give either the invitation's id or its code");
        const res = await identity.memberships
          .acceptInvitation({ identity: toIdentity(claims), ...(id != null ? { invitationId: id } : { code: code! }) })
          .catch(renamed({ invitation_id: "id" }));
        audit(claims, "acceptInvitation", res.membership!.tenant!.id);
        onMembershipChange?.(claims);
        return membership(res.membership);
      },

      restoreTenant: async (_: unknown, { id }: { id: string }, ctx: Ctx) => {
        const claims = callerOf(ctx);
        const res = await identity.memberships.restoreTenant({ identity: toIdentity(claims), tenantId: id }).catch(renamed({ tenant_id: "id" }));
        audit(claims, "restoreTenant", id);
        onMembershipChange?.(claims);
        return res.tenant;
      },
    },
  };
}
