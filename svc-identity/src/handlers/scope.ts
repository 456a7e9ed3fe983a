import {
  NotFoundError,
  PageTokenCodec,
  principalToString,
  unary,
  UnauthenticatedError,
  withTenant,
  type Logger,
  type RequestContext,
} from "@apgms/common";
import type { PrismaClient } from "../generated/prisma/client.js";
import type { Tx } from "../db/client.js";
import { requireLiveTenant } from "../db/tenants.js";
import { listPages, type ListPages } from "../domain/pagination.js";
import { isUuid } from "../domain/validate.js";
import type { IdentityConfig } from "../config.js";

/** What every handler factory receives. */
export interface HandlerDeps {
  /** Connected as the service's role: row-level security applies to every query. */
  prisma: PrismaClient;
  /** The same role, every connection in the platform scope (every tenant's rows): PrincipalService only. */
  platform: PrismaClient;
  logger: Logger;
  config: Pick<IdentityConfig, "TENANT_RETENTION_DAYS" | "API_KEY_GRACE_DEFAULT_SECONDS" | "INVITATION_TTL_HOURS" | "PAGE_TOKEN_SECRET">;
}

/** The tenant a tenant-scoped call acts on (from `x-apgms-tenant`), not yet checked for life. */
export function tenantIdOf(ctx: RequestContext): string {
  if (!ctx.tenantId) throw new UnauthenticatedError("missing tenant context");
  // A malformed tenant id is a tenant that does not exist.
  if (!isUuid(ctx.tenantId)) throw new NotFoundError("tenant", ctx.tenantId);
  return ctx.tenantId.toLowerCase();
}

/** Who is acting, for audit fields: "user:<id>", "apiKey:<id>", "service:<name>" or "unknown". */
export function actorOf(ctx: RequestContext): string {
  return ctx.principal ? principalToString(ctx.principal) : "unknown";
}

export interface Scope {
  tenantId: string;
  ctx: RequestContext;
  /** The call's transaction, scoped to `tenantId` by row-level security: every query goes through it. */
  db: Tx;
  /** This call's page tokens, bound to the RPC, the tenant and the request's other fields. */
  pages: ListPages;
}

/**
 * `unary()` for a tenant-scoped RPC: refuses a call without tenant context
 * (UNAUTHENTICATED) or whose tenant is missing or soft-deleted (NOT_FOUND)
 * before the handler runs, and runs the handler in one transaction scoped to
 * the tenant (withTenant): a query that forgets its tenant filter still sees
 * only this tenant's rows, and a query outside `db` sees none.
 */
export function scoped<Req extends object, Res>(deps: HandlerDeps, method: string, handler: (request: Req, scope: Scope) => Promise<Res>) {
  const codec = new PageTokenCodec(deps.config.PAGE_TOKEN_SECRET);
  const list = `apgms.identity.v1/${method}`;
  return unary<Req, Res>(deps.logger, method, async (request, ctx) => {
    const tenantId = tenantIdOf(ctx);
    return withTenant<Tx, Res>(deps.prisma, tenantId, async (db) => {
      await requireLiveTenant(db, tenantId);
      return handler(request, { tenantId, ctx, db, pages: listPages(codec, list, tenantId, request) });
    });
  });
}
