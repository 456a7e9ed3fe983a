import {
  NotFoundError,
  PageTokenCodec,
  type TenantReader,
  principalToString,
  unary,
  UnauthenticatedError,
  withTenant,
  type Logger,
  type RequestContext,
} from "@apgms/common";
import type { PrismaClient, Tenant } from "../generated/prisma/client.js";
import { writing, type IdentityCache, type IdentityChanges } from "../cache.js";
import type { Tx } from "../db/client.js";
import { liveTenantRow, type TenantQuery } from "../db/hot-reads.js";
import { listPages, type ListPages } from "@apgms/common";
import { isUuid } from "../domain/validate.js";
import type { IdentityConfig } from "../config.js";

/** What every handler factory receives. */
export interface HandlerDeps {
  /** Connected as the service's role: row-level security applies to every query. */
  prisma: PrismaClient;
  /** The same role, every connection in the platform scope (every tenant's rows): PrincipalService only. */
  platform: PrismaClient;
  logger: Logger;
  /** Hot reads through Redis; every write records what it changed (IdentityChanges) and invalidates it. */
  cache: IdentityCache;
  /** One-round-trip reads as a tenant (row-level security) for what the cache misses, and hot lists. */
  reader: TenantReader;
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

/** Statements as `tenantId` through the deps' TenantReader. */
function queryAs(deps: HandlerDeps, tenantId: string): TenantQuery {
  return <R>(text: string, values?: unknown[]) => deps.reader.query<R>(tenantId, text, values);
}

/**
 * The tenant if it exists and is not soft-deleted, through the cache: the
 * check every tenant-scoped call makes. A miss reads the tenant's own row as
 * that tenant (one statement, one round trip).
 */
export function liveTenant(deps: HandlerDeps, tenantId: string): Promise<Tenant | null> {
  return deps.cache.tenants.get(tenantId, tenantId, () => liveTenantRow(queryAs(deps, tenantId), tenantId));
}

async function requireLive(deps: HandlerDeps, tenantId: string): Promise<Tenant> {
  const tenant = await liveTenant(deps, tenantId);
  if (!tenant) throw new NotFoundError("tenant", tenantId);
  return tenant;
}

export interface Scope {
  tenantId: string;
  ctx: RequestContext;
  /** The call's transaction, scoped to `tenantId` by row-level security: every query goes through it. */
  db: Tx;
  /** This call's page tokens, bound to the RPC, the tenant and the request's other fields. */
  pages: ListPages;
  /** Where data access records each cached row it writes; invalidated once the transaction has ended. */
  changes: IdentityChanges;
}

/**
 * `unary()` for a tenant-scoped RPC that writes: refuses a call without
 * tenant context (UNAUTHENTICATED) or whose tenant is missing or soft-deleted
 * (NOT_FOUND) before the handler runs, and runs the handler in one
 * transaction scoped to the tenant (withTenant): a query that forgets its
 * tenant filter still sees only this tenant's rows, and a query outside `db`
 * sees none. What the handler recorded in `changes` is invalidated in the
 * cache after the transaction, before the call answers.
 */
export function scoped<Req extends object, Res>(deps: HandlerDeps, method: string, handler: (request: Req, scope: Scope) => Promise<Res>) {
  const codec = new PageTokenCodec(deps.config.PAGE_TOKEN_SECRET);
  const list = `apgms.identity.v1/${method}`;
  return unary<Req, Res>(deps.logger, method, async (request, ctx) => {
    const tenantId = tenantIdOf(ctx);
    await requireLive(deps, tenantId);
    return writing(deps.cache, (changes) =>
      withTenant<Tx, Res>(deps.prisma, tenantId, (db) => handler(request, { tenantId, ctx, db, pages: listPages(codec, list, tenantId, request), changes })),
    );
  });
}

export interface ReadScope {
  tenantId: string;
  ctx: RequestContext;
  pages: ListPages;
  cache: IdentityCache;
  /** One statement as the tenant, one round trip (row-level security): hot reads (db/hot-reads.ts). */
  q: TenantQuery;
  /**
   * Runs Prisma data access in a transaction scoped to the tenant (row-level
   * security, as in `scoped`): for reads that are not on the hot path.
   */
  read<R>(fn: (db: Tx) => Promise<R>): Promise<R>;
}

/**
 * `unary()` for a tenant-scoped RPC that only reads. The handler reads through
 * the cache and reads what it misses as the tenant in one round trip (`q`),
 * so a warm call touches no database. A read has no effects, so the tenant's
 * liveness check and the handler run at once (both cache hits go to Redis
 * in one round trip); a missing or deleted tenant still answers NOT_FOUND
 * whatever the handler found.
 */
export function scopedRead<Req extends object, Res>(deps: HandlerDeps, method: string, handler: (request: Req, scope: ReadScope) => Promise<Res>) {
  const codec = new PageTokenCodec(deps.config.PAGE_TOKEN_SECRET);
  const list = `apgms.identity.v1/${method}`;
  return unary<Req, Res>(deps.logger, method, async (request, ctx) => {
    const tenantId = tenantIdOf(ctx);
    const scope: ReadScope = {
      tenantId,
      ctx,
      pages: listPages(codec, list, tenantId, request),
      cache: deps.cache,
      q: queryAs(deps, tenantId),
      read: <R>(fn: (db: Tx) => Promise<R>) => withTenant<Tx, R>(deps.prisma, tenantId, fn),
    };
    const [live, result] = await Promise.allSettled([liveTenant(deps, tenantId), handler(request, scope)]);
    if (live.status === "rejected") throw live.reason;
    if (!live.value) throw new NotFoundError("tenant", tenantId);
    if (result.status === "rejected") throw result.reason;
    return result.value;
  });
}
