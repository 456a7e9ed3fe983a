import { DomainError, NotFoundError, UnauthenticatedError, type Logger, type RequestContext, type TenantReader } from "@apgms/common";
import { status } from "@grpc/grpc-js";
import type { AnswerCache } from "../cache.js";
import type { InsightsConfig } from "../config.js";
import type { TenantQuery } from "../db/sql.js";

/** What every handler factory receives. */
export interface HandlerDeps {
  logger: Logger;
  /** Ingestion and SetDimensions: one statement per call, as the tenant (row-level security). */
  writer: TenantReader;
  /** Analytics, ListEvents, ExportEvents: one statement at a time as the tenant, under QUERY_TIMEOUT_MS. */
  reader: TenantReader;
  /** Analytics answers until the tenant's next ingested batch. */
  cache: AnswerCache;
  config: Pick<InsightsConfig, "PAGE_TOKEN_SECRET" | "QUERY_TIMEOUT_MS">;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The tenant a call acts on (from its service token). svc-insights does not
 * own tenants: the edge has resolved the caller's principal, and with it the
 * tenant's life, before it calls; a tenant without events simply has none.
 */
export function tenantIdOf(ctx: RequestContext): string {
  if (!ctx.tenantId) throw new UnauthenticatedError("missing tenant context");
  if (!UUID.test(ctx.tenantId)) throw new NotFoundError("tenant", ctx.tenantId);
  return ctx.tenantId.toLowerCase();
}

export function queryAs(reader: TenantReader, tenantId: string): TenantQuery {
  return (text, values) => reader.query(tenantId, text, values);
}

function pgCode(err: unknown): string | undefined {
  return typeof err === "object" && err !== null ? (err as { code?: string }).code : undefined;
}

/**
 * What Postgres refused in a query, as the caller's error: a statement past
 * QUERY_TIMEOUT_MS is RESOURCE_EXHAUSTED (narrow the question), a zone
 * Postgres does not know is INVALID_ARGUMENT. Anything else is unexpected.
 */
export function queryError(err: unknown, timeoutMs: number): unknown {
  const code = pgCode(err);
  if (code === "57014") {
    return new DomainError(status.RESOURCE_EXHAUSTED, `the query ran longer than ${timeoutMs} ms and was cancelled; narrow the range or remove filters`);
  }
  if (code === "22023" && /time zone/.test((err as Error).message)) return new DomainError(status.INVALID_ARGUMENT, `time_zone: ${(err as Error).message}`, "time_zone");
  return err;
}

/** Postgres's deadlock code: the statement is safe to run again. */
export function isDeadlock(err: unknown): boolean {
  return pgCode(err) === "40P01";
}
