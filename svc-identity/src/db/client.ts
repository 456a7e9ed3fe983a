import { inTransaction, platformDatabaseUrl } from "@apgms/common";
import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma, PrismaClient } from "../generated/prisma/client.js";

/** The client of an open transaction (a tenant's, or the platform's). */
export type Tx = Prisma.TransactionClient;
/** The client, or the client of an open transaction: data access accepts either. */
export type Db = PrismaClient | Tx;

/**
 * The login role the service connects as (DATABASE_URL): no BYPASSRLS, owns no
 * table; the row_level_security migration creates it and grants what it uses.
 */
export const APP_ROLE = "apgms_identity_app";

/** Runs `fn` atomically: in the open transaction when `db` is one, else in a new one. */
export function transaction<R>(db: Db, fn: (tx: Tx) => Promise<R>): Promise<R> {
  return inTransaction<Tx, R>(db, fn);
}

export interface PrismaOptions {
  databaseUrl: string;
  /** Postgres schema holding the service's tables. */
  schema: string;
  /** Pool size; defaults to pg's (10). */
  maxConnections?: number;
  /**
   * "platform": every connection sees every tenant's rows (platformDatabaseUrl),
   * for PrincipalService's lookups only; default: row-level security per transaction.
   */
  scope?: "platform";
}

/** A Prisma client over node-postgres (the driver adapter Prisma 7 needs). */
export function createPrisma(options: PrismaOptions): PrismaClient {
  const { databaseUrl, schema, maxConnections, scope } = options;
  const url = new URL(scope === "platform" ? platformDatabaseUrl(databaseUrl) : databaseUrl);
  // `schema` is a Prisma-only parameter; pg would pass it on as a startup option.
  url.searchParams.delete("schema");
  const adapter = new PrismaPg({ connectionString: url.toString(), max: maxConnections }, { schema });
  // Interactive transactions wait for a pooled connection; under a burst the
  // default 2 s would fail calls that only need to queue a little longer.
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } });
}
