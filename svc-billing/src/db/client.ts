import { inTransaction } from "@apgms/common";
import { prismaClientOptions, type PrismaOptions } from "@apgms/common/db/prisma";
import { Prisma, PrismaClient } from "../generated/prisma/client.js";

/** The client of an open transaction (a tenant's, or the platform's). */
export type Tx = Prisma.TransactionClient;
export type Db = PrismaClient | Tx;

/** The login role the service connects as (DATABASE_URL): no BYPASSRLS, owns no table (created by the init migration). */
export const APP_ROLE = "apgms_billing_app";

export function transaction<R>(db: Db, fn: (tx: Tx) => Promise<R>): Promise<R> {
  return inTransaction<Tx, R>(db, fn);
}

export type { PrismaOptions };

/** A Prisma client over node-postgres, as every service builds it (common's prismaClientOptions). */
export function createPrisma(options: PrismaOptions): PrismaClient {
  return new PrismaClient(prismaClientOptions(options));
}
