import { asPlatform, InvalidArgumentError, NotFoundError, unary, type ServiceRegistration } from "@apgms/common";
import {
  MembershipServiceService,
  type AcceptInvitationRequest,
  type AcceptInvitationResponse,
  type Identity,
  type ListInvitationsForEmailRequest,
  type ListInvitationsForEmailResponse,
  type ListMembershipsRequest,
  type ListMembershipsResponse,
  type ListRestorableTenantsRequest,
  type ListRestorableTenantsResponse,
  type MembershipServiceServer,
  type RestoreTenantRequest,
  type RestoreTenantResponse,
} from "@apgms/proto/apgms/identity/v1/membership";
import { acceptInvitation, listInvitationsForEmail } from "../db/invitations.js";
import { listRestorableTenants, restoreTenant } from "../db/tenants.js";
import { listMemberships } from "../db/users.js";
import { invitationCodeHash } from "../domain/invitation-code.js";
import * as v from "../domain/validate.js";
import { writing } from "../cache.js";
import type { HandlerDeps } from "./scope.js";
import { invitationToProto, tenantToProto, userToProto } from "./to-proto.js";

interface CheckedIdentity {
  oidcIssuer: string;
  oidcSubject: string;
  /** Only when the provider vouched for it. */
  verifiedEmail?: string;
  name?: string;
  email?: string;
}

function identity(value: Identity | undefined): CheckedIdentity {
  if (!value) throw new InvalidArgumentError("identity", "is required");
  // A claim that is no email address is treated as no email: it can match no invitation.
  const email = v.isEmail(value.email) ? value.email.trim().toLowerCase() : undefined;
  return {
    oidcIssuer: v.text("identity.issuer", value.issuer, 500),
    oidcSubject: v.text("identity.subject", value.subject, 255),
    verifiedEmail: value.emailVerified ? email : undefined,
    email,
    name: value.name.trim() === "" ? undefined : value.name.trim().slice(0, v.NAME_MAX),
  };
}

/**
 * Not tenant-scoped: the verified identity the edge passes is the key to
 * everything here, across tenants, so each RPC runs in the platform scope.
 */
export function membershipService(deps: HandlerDeps): ServiceRegistration {
  const { prisma, logger, cache } = deps;
  const implementation: MembershipServiceServer = {
    listMemberships: unary<ListMembershipsRequest, ListMembershipsResponse>(logger, "ListMemberships", async (req) => {
      const id = identity(req.identity);
      const rows = await asPlatform(prisma, (tx) => listMemberships(tx, id.oidcIssuer, id.oidcSubject));
      return { memberships: rows.map((m) => ({ user: userToProto(m.user), tenant: tenantToProto(m.tenant) })) };
    }),

    listInvitationsForEmail: unary<ListInvitationsForEmailRequest, ListInvitationsForEmailResponse>(logger, "ListInvitationsForEmail", async (req) => {
      const id = identity(req.identity);
      const email = id.verifiedEmail;
      if (!email) return { invitations: [] };
      const rows = await asPlatform(prisma, (tx) => listInvitationsForEmail(tx, email));
      return {
        invitations: rows.map((r) => ({ invitation: invitationToProto(r.invitation), tenantName: r.tenant.name, tenantSlug: r.tenant.slug })),
      };
    }),

    acceptInvitation: unary<AcceptInvitationRequest, AcceptInvitationResponse>(logger, "AcceptInvitation", async (req) => {
      const id = identity(req.identity);
      let by: Parameters<typeof acceptInvitation>[1]["by"];
      if (req.code !== undefined) {
        const codeHash = invitationCodeHash(req.code.trim());
        if (!codeHash) throw new NotFoundError("invitation");
        by = { codeHash };
      } else if (req.invitationId !== undefined) {
        by = { id: v.uuid("invitation_id", req.invitationId), verifiedEmail: id.verifiedEmail };
      } else {
        throw new InvalidArgumentError("invitation_id", "give the invitation's id or its code");
      }
      const acceptance = {
        by,
        oidcIssuer: id.oidcIssuer,
        oidcSubject: id.oidcSubject,
        fallbackDisplayName: id.name ?? id.email ?? "New user",
      };
      const { user, tenant } = await writing(cache, (changes) => asPlatform(prisma, (tx) => acceptInvitation(tx, acceptance, changes)));
      return { membership: { user: userToProto(user), tenant: tenantToProto(tenant) } };
    }),

    listRestorableTenants: unary<ListRestorableTenantsRequest, ListRestorableTenantsResponse>(logger, "ListRestorableTenants", async (req) => {
      const id = identity(req.identity);
      return { tenants: (await asPlatform(prisma, (tx) => listRestorableTenants(tx, id))).map(tenantToProto) };
    }),

    restoreTenant: unary<RestoreTenantRequest, RestoreTenantResponse>(logger, "RestoreTenant", async (req) => {
      const id = identity(req.identity);
      const tenantId = v.uuid("tenant_id", req.tenantId);
      const tenant = await writing(cache, (changes) => asPlatform(prisma, (tx) => restoreTenant(tx, tenantId, id, changes)));
      return { tenant: tenantToProto(tenant) };
    }),
  };
  return { name: "apgms.identity.v1.MembershipService", definition: MembershipServiceService, implementation };
}
