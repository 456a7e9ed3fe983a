import { PrismaPg } from "@prisma/adapter-pg";
import { platformDatabaseUrl } from "./tenant-scope.js";

export interface PrismaOptions {
  databaseUrl: string;
  /** Postgres schema holding the service's tables. */
  schema: string;
  /** Pool size; defaults to pg's (10). */
  maxConnections?: number;
  /**
   * "platform": every connection sees every tenant's rows (platformDatabaseUrl),
   * for a service's named cross-tenant paths only; default: row-level security per transaction.
   */
  scope?: "platform";
}

/**
 * What a service's generated PrismaClient is constructed with: node-postgres
 * through the driver adapter Prisma 7 needs, and interactive transactions
 * that wait for a pooled connection (under a burst the default 2 s would fail
 * calls that only need to queue a little longer).
 */
export function prismaClientOptions(options: PrismaOptions) {
  const { databaseUrl, schema, maxConnections, scope } = options;
  const url = new URL(scope === "platform" ? platformDatabaseUrl(databaseUrl) : databaseUrl);
  // `schema` is a Prisma-only parameter; pg would pass it on as a startup option.
  url.searchParams.delete("schema");
  const adapter = new PrismaPg({ connectionString: url.toString(), max: maxConnections }, { schema });
  return { adapter, transactionOptions: { maxWait: 10_000, timeout: 15_000 } };
}
