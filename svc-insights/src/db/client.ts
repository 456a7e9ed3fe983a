import { prismaClientOptions, type PrismaOptions } from "@apgms/common/db/prisma";
import { PrismaClient } from "../generated/prisma/client.js";

/** The login role the service connects as (DATABASE_URL): no BYPASSRLS, owns no table (created by the init migration). */
export const APP_ROLE = "apgms_insights_app";

export type { PrismaOptions };

/** A Prisma client over node-postgres, as every service builds it (common's prismaClientOptions). */
export function createPrisma(options: PrismaOptions): PrismaClient {
  return new PrismaClient(prismaClientOptions(options));
}
