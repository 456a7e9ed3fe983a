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
  /** Writes the audit line of each mutation, where no plugin of the schema does. */
  audit?: (entry: AuditEntry) => void;
}

export interface AuditEntry {
  claims: TokenClaims;
  mutation: string;
  /** The tenant acted on, when known. */
  tenantId?: string;
  /** The codes the client saw; empty when it succeeded. */
  errors: string[];
}

const clientCode = (err: unknown): string => {
  if (err instanceof GraphQLError && typeof err.extensions.code === "string") return err.extensions.code;
  if (isServiceError(err)) return graphqlCodeFor(err.code);
  return "INTERNAL_SERVER_ERROR";
};

type AcceptArgs = { id?: string | null; code?: string | null };

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
  const { identity, signUpEnabled, onMembershipChange, audit } = deps;
  /** Runs a mutation; with `audit`, records its outcome (and which tenant it touched) either way. */
  const audited =
    <A, R>(mutation: string, tenantOf: (args: A, result?: R) => string | undefined, run: (args: A, claims: TokenClaims) => Promise<R>) =>
    async (_: unknown, args: A, ctx: Ctx): Promise<R> => {
      const claims = callerOf(ctx);
      try {
        const result = await run(args, claims);
        audit?.({ claims, mutation, tenantId: tenantOf(args, result), errors: [] });
        onMembershipChange?.(claims);
        return result;
      } catch (err) {
        audit?.({ claims, mutation, tenantId: tenantOf(args), errors: [clientCode(err)] });
        throw err;
      }
    };

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
      signUp: audited<{ input: SignUpInput }, { tenantId: string }>("signUp", (_, r) => r?.tenantId, async ({ input }, claims) => {
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
        return { tenantId: res.tenant!.id, tenantSlug: res.tenant!.slug, accountId: res.accountId, userId: res.ownerUserId };
      }),

      acceptInvitation: audited<AcceptArgs, ReturnType<typeof membership>>("acceptInvitation", (_, r) => r?.tenant.id, async ({ id, code }, claims) => {
        if ((id == null) === (code == null)) throw badInput("id", "give either the invitation's id or its code");
        const by = id != null ? { invitationId: id } : { code: code! };
        const res = await identity.memberships.acceptInvitation({ identity: toIdentity(claims), ...by }).catch(renamed({ invitation_id: "id" }));
        return membership(res.membership);
      }),

      restoreTenant: audited<{ id: string }, Tenant | undefined>("restoreTenant", ({ id }) => id, async ({ id }, claims) => {
        const res = await identity.memberships.restoreTenant({ identity: toIdentity(claims), tenantId: id }).catch(renamed({ tenant_id: "id" }));
        return res.tenant;
      }),
    },
  };
}
