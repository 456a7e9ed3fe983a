import { prismaClientOptions, type PrismaOptions } from "@apgms/common/db/prisma";
import { PrismaClient, type Prisma } from "../generated/prisma/client.js";

/** The login role the worker connects as (DATABASE_URL): no BYPASSRLS, owns no table (created by the init migration). */
export const APP_ROLE = "apgms_worker_app";

/** What a handler's effect runs in: the transaction that also records the message as handled. */
export type JobTransaction = Prisma.TransactionClient;

export type { PrismaClient, PrismaOptions };

/** A Prisma client over node-postgres, as every service builds it (common's prismaClientOptions). */
export function createPrisma(options: PrismaOptions): PrismaClient {
  return new PrismaClient(prismaClientOptions(options));
}
