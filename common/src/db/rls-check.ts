import type { Logger } from "../logger.js";

/** What the check needs of a Prisma client: one raw query. */
export interface RawQueryClient {
  $queryRaw<T>(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<T>;
}

/**
 * A DATABASE_URL naming a superuser or a BYPASSRLS role turns row-level
 * security off without a sound: said once at start, as a warning (an alert
 * in production). A database that does not answer yet is not this check's
 * business (the service retries per call), so that only logs too.
 * `appRole` is the role the service should connect as.
 */
export async function checkRowLevelSecurity(db: RawQueryClient, appRole: string, logger: Logger): Promise<void> {
  let role: { name: string; bypass: boolean } | undefined;
  try {
    [role] = await db.$queryRaw<Array<{ name: string; bypass: boolean }>>`
      SELECT rolname AS name, rolsuper OR rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user`;
  } catch (err) {
    logger.warn({ err }, "could not check DATABASE_URL's role for row-level security");
    return;
  }
  if (!role?.bypass) return;
  logger.warn(`DATABASE_URL connects as ${role.name}, which bypasses row-level security; connect as ${appRole}`);
}
