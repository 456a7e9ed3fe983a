import {
  listPages,
  NotFoundError,
  PageTokenCodec,
  principalToString,
  unary,
  UnauthenticatedError,
  withTenant,
  type ListPages,
  type Logger,
  type RequestContext,
  type TenantReader,
} from "@apgms/common";
import type { OutboxWake } from "@apgms/common/outbox/index";
import type { PrismaClient } from "../generated/prisma/client.js";
import { writing, type BillingCache, type BillingChanges } from "../cache.js";
import type { Tx } from "../db/client.js";
import type { BillingConfig } from "../config.js";
import type { TenantQuery } from "../db/sql.js";

/** What every handler factory receives. */
export interface HandlerDeps {
  /** Connected as the service's role: row-level security applies to every query. */
  prisma: PrismaClient;
  logger: Logger;
  /** Hot reads through Redis; every write records what it changed (BillingChanges) and invalidates it. */
  cache: BillingCache;
  /** One statement as a tenant in one round trip (row-level security): hot reads and the redemption. */
  reader: TenantReader;
  config: Pick<BillingConfig, "PAGE_TOKEN_SECRET">;
  /** Woken after every write transaction (it may have written outbox rows): the relay publishes them now. */
  outbox: OutboxWake;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant a call acts on (from `x-apgms-tenant`). svc-billing does not own
 * tenants: the edge has resolved the caller's principal, and with it the
 * tenant's life, before it calls; a tenant with no billing rows simply has none.
 */
export function tenantIdOf(ctx: RequestContext): string {
  if (!ctx.tenantId) throw new UnauthenticatedError("missing tenant context");
  if (!UUID.test(ctx.tenantId)) throw new NotFoundError("tenant", ctx.tenantId);
  return ctx.tenantId.toLowerCase();
}

/** Who is acting: "user:<id>", "apiKey:<id>", "service:<name>" or "unknown". */
export function actorOf(ctx: RequestContext): string {
  return ctx.principal ? principalToString(ctx.principal) : "unknown";
}

export type { TenantQuery } from "../db/sql.js";

export interface Scope {
  tenantId: string;
  ctx: RequestContext;
  /** The call's transaction, scoped to `tenantId` by row-level security. */
  db: Tx;
  pages: ListPages;
  /** Where data access records each cached row it writes; invalidated once the transaction has ended. */
  changes: BillingChanges;
}

/**
 * `unary()` for a tenant-scoped RPC that writes: the handler runs in one
 * transaction scoped to the tenant (withTenant), and what it recorded in
 * `changes` is invalidated in the cache after the transaction, before the
 * call answers; the outbox relay is woken for any event it wrote.
 */
export function scoped<Req extends object, Res>(deps: HandlerDeps, method: string, handler: (request: Req, scope: Scope) => Promise<Res>) {
  const codec = new PageTokenCodec(deps.config.PAGE_TOKEN_SECRET);
  const list = `apgms.billing.v1/${method}`;
  return unary<Req, Res>(deps.logger, method, async (request, ctx) => {
    const tenantId = tenantIdOf(ctx);
    try {
      return await writing(deps.cache, (changes) =>
        withTenant<Tx, Res>(deps.prisma, tenantId, (db) => handler(request, { tenantId, ctx, db, pages: listPages(codec, list, tenantId, request), changes })),
      );
    } finally {
      deps.outbox.wake();
    }
  });
}

export interface ReadScope {
  tenantId: string;
  ctx: RequestContext;
  pages: ListPages;
  cache: BillingCache;
  /** One statement as the tenant, one round trip (row-level security). */
  q: TenantQuery;
  /** Prisma data access in a transaction scoped to the tenant, for reads off the hot path. */
  read<R>(fn: (db: Tx) => Promise<R>): Promise<R>;
}

/** `unary()` for a tenant-scoped RPC that only reads: through the cache, what it misses as the tenant. */
export function scopedRead<Req extends object, Res>(deps: HandlerDeps, method: string, handler: (request: Req, scope: ReadScope) => Promise<Res>) {
  const codec = new PageTokenCodec(deps.config.PAGE_TOKEN_SECRET);
  const list = `apgms.billing.v1/${method}`;
  return unary<Req, Res>(deps.logger, method, async (request, ctx) => {
    const tenantId = tenantIdOf(ctx);
    return handler(request, {
      tenantId,
      ctx,
      pages: listPages(codec, list, tenantId, request),
      cache: deps.cache,
      q: <R>(text: string, values?: unknown[]) => deps.reader.query<R>(tenantId, text, values),
      read: <R>(fn: (db: Tx) => Promise<R>) => withTenant<Tx, R>(deps.prisma, tenantId, fn),
    });
  });
}
