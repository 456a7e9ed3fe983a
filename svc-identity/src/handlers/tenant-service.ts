import { asPlatform, InvalidArgumentError, NotFoundError, unary, type ServiceRegistration } from "@apgms/common";
import {
  TenantServiceService,
  type CreateTenantRequest,
  type CreateTenantResponse,
  type DeleteTenantRequest,
  type DeleteTenantResponse,
  type GetTenantRequest,
  type GetTenantResponse,
  type PurgeDeletedTenantsRequest,
  type PurgeDeletedTenantsResponse,
  type TenantServiceServer,
  type UpdateTenantRequest,
  type UpdateTenantResponse,
} from "@apgms/proto/apgms/identity/v1/tenant";
import { writing } from "../cache.js";
import { createTenant, purgeDeletedTenants, softDeleteTenant, updateTenant } from "../db/tenants.js";
import * as v from "../domain/validate.js";
import { liveTenant, scoped, scopedRead, type HandlerDeps } from "./scope.js";
import { tenantToProto } from "./to-proto.js";

/** The request's tenant_id must be the caller's own tenant; anything else does not exist for it. */
function sameTenant(requested: string, tenantId: string): void {
  const id = v.uuid("tenant_id", requested);
  if (id !== tenantId) throw new NotFoundError("tenant", requested);
}

export function tenantService(deps: HandlerDeps): ServiceRegistration {
  const { prisma, logger, config, cache } = deps;
  const implementation: TenantServiceServer = {
    createTenant: unary<CreateTenantRequest, CreateTenantResponse>(logger, "CreateTenant", async (req) => {
      const input = {
        name: v.name("name", req.name),
        slug: v.slug("slug", req.slug),
        accountName: v.name("account_name", req.accountName),
        owner: {
          email: v.email("owner_email", req.ownerEmail),
          displayName: v.name("owner_display_name", req.ownerDisplayName),
          oidcIssuer: v.issuerUrl("owner_oidc_issuer", req.ownerOidcIssuer),
          oidcSubject: v.text("owner_oidc_subject", req.ownerOidcSubject, 255),
        },
      };
      const { tenant, account, owner } = await createTenant(prisma, input);
      return { tenant: tenantToProto(tenant), accountId: account.id, ownerUserId: owner.id };
    }),

    getTenant: scopedRead<GetTenantRequest, GetTenantResponse>(deps, "GetTenant", async (req, { tenantId }) => {
      sameTenant(req.tenantId, tenantId);
      const tenant = await liveTenant(deps, tenantId);
      if (!tenant) throw new NotFoundError("tenant", tenantId);
      return { tenant: tenantToProto(tenant) };
    }),

    updateTenant: scoped<UpdateTenantRequest, UpdateTenantResponse>(deps, "UpdateTenant", async (req, { tenantId, db, changes }) => {
      sameTenant(req.tenantId, tenantId);
      const edit = { name: v.optionalName("name", req.name), deletionProtection: req.deletionProtection };
      const tenant = await updateTenant(db, tenantId, edit, changes);
      return { tenant: tenantToProto(tenant) };
    }),

    deleteTenant: scoped<DeleteTenantRequest, DeleteTenantResponse>(deps, "DeleteTenant", async (req, { tenantId, db, changes }) => {
      sameTenant(req.tenantId, tenantId);
      const tenant = await softDeleteTenant(db, tenantId, req.confirmation, config.TENANT_RETENTION_DAYS, changes);
      return { tenant: tenantToProto(tenant) };
    }),

    purgeDeletedTenants: unary<PurgeDeletedTenantsRequest, PurgeDeletedTenantsResponse>(logger, "PurgeDeletedTenants", async (req) => {
      if (req.limit < 0) throw new InvalidArgumentError("limit", "must not be negative");
      const limit = Math.min(req.limit || 100, 1_000);
      const purgedTenantIds = await writing(cache, (changes) => asPlatform(prisma, (tx) => purgeDeletedTenants(tx, limit, changes)));
      if (purgedTenantIds.length) logger.info({ purgedTenantIds }, "purged deleted tenants past their retention window");
      return { purgedTenantIds };
    }),
  };
  return { name: "apgms.identity.v1.TenantService", definition: TenantServiceService, implementation };
}
