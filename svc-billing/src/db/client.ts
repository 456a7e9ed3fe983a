import { inTransaction, platformDatabaseUrl } from "@apgms/common";
import { PrismaPg } from "@prisma/adapter-pg";
import { Prisma, PrismaClient } from "../generated/prisma/client.js";

/** The client of an open transaction (a tenant's, or the platform's). */
export type Tx = Prisma.TransactionClient;
export type Db = PrismaClient | Tx;

/** The login role the service connects as (DATABASE_URL): no BYPASSRLS, owns no table (created by the init migration). */
export const APP_ROLE = "apgms_billing_app";

export function transaction<R>(db: Db, fn: (tx: Tx) => Promise<R>): Promise<R> {
  return inTransaction<Tx, R>(db, fn);
}

export interface PrismaOptions {
  databaseUrl: string;
  schema: string;
  maxConnections?: number;
  /** "platform": every connection sees every tenant's rows (the schedule sweep only). */
  scope?: "platform";
}

/** A Prisma client over node-postgres (the driver adapter Prisma 7 needs). */
export function createPrisma(options: PrismaOptions): PrismaClient {
  const { databaseUrl, schema, maxConnections, scope } = options;
  const url = new URL(scope === "platform" ? platformDatabaseUrl(databaseUrl) : databaseUrl);
  url.searchParams.delete("schema");
  const adapter = new PrismaPg({ connectionString: url.toString(), max: maxConnections }, { schema });
  return new PrismaClient({ adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } });
}
