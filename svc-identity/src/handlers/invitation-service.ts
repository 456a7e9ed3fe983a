import type { ServiceRegistration } from "@apgms/common";
import {
  InvitationServiceService,
  type CreateInvitationRequest,
  type CreateInvitationResponse,
  type GetInvitationRequest,
  type GetInvitationResponse,
  type InvitationServiceServer,
  type ListInvitationsRequest,
  type ListInvitationsResponse,
  type ResendInvitationRequest,
  type ResendInvitationResponse,
  type RevokeInvitationRequest,
  type RevokeInvitationResponse,
} from "@apgms/proto/apgms/identity/v1/invitation";
import { createInvitation, listInvitations, requireInvitation, resendInvitation, revokeInvitation } from "../db/invitations.js";
import { role } from "../domain/roles.js";
import * as v from "../domain/validate.js";
import { actorOf, scoped, type HandlerDeps } from "./scope.js";
import { invitationToProto } from "./to-proto.js";

export function invitationService(deps: HandlerDeps): ServiceRegistration {
  const { config } = deps;
  const ttlMs = config.INVITATION_TTL_HOURS * 3_600_000;
  const implementation: InvitationServiceServer = {
    createInvitation: scoped<CreateInvitationRequest, CreateInvitationResponse>(deps, "CreateInvitation", async (req, { tenantId, ctx, db }) => {
      const { invitation, code } = await createInvitation(db, tenantId, {
        accountId: v.uuid("account_id", req.accountId),
        email: v.email("email", req.email),
        role: role("role", req.role),
        displayName: req.displayName.trim() === "" ? "" : v.name("display_name", req.displayName),
        createdBy: actorOf(ctx),
        ttlMs,
      });
      return { invitation: invitationToProto(invitation), code };
    }),

    getInvitation: scoped<GetInvitationRequest, GetInvitationResponse>(deps, "GetInvitation", async (req, { tenantId, db }) => {
      const invitation = await requireInvitation(db, tenantId, v.uuid("invitation_id", req.invitationId));
      return { invitation: invitationToProto(invitation) };
    }),

    listInvitations: scoped<ListInvitationsRequest, ListInvitationsResponse>(deps, "ListInvitations", async (req, { tenantId, pages, db }) => {
      const { invitations, nextPageToken } = await listInvitations(db, tenantId, pages.read(req.page), req.includeClosed);
      return { invitations: invitations.map(invitationToProto), page: pages.next(nextPageToken) };
    }),

    resendInvitation: scoped<ResendInvitationRequest, ResendInvitationResponse>(deps, "ResendInvitation", async (req, { tenantId, db }) => {
      const { invitation, code } = await resendInvitation(db, tenantId, v.uuid("invitation_id", req.invitationId), ttlMs);
      return { invitation: invitationToProto(invitation), code };
    }),

    revokeInvitation: scoped<RevokeInvitationRequest, RevokeInvitationResponse>(deps, "RevokeInvitation", async (req, { tenantId, db }) => {
      const invitation = await revokeInvitation(db, tenantId, v.uuid("invitation_id", req.invitationId));
      return { invitation: invitationToProto(invitation) };
    }),
  };
  return { name: "apgms.identity.v1.InvitationService", definition: InvitationServiceService, implementation };
}
