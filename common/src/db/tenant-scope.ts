// Row-level security through Prisma: the one way a service scopes its queries
// to a tenant (or, on the few cross-tenant paths, to the platform). Each
// migration's policies read the two settings written here; see
// docs/security.md, "Row-level security".

/** Transaction-local setting the policies compare each row's tenant_id with. */
export const TENANT_SETTING = "app.tenant_id";
/** Transaction-local setting that, set to PLATFORM_SCOPE, lets the policies show every tenant's rows. */
export const SCOPE_SETTING = "app.scope";
export const PLATFORM_SCOPE = "platform";

/** What the helpers need of a transaction client: raw statements. */
export interface SqlClient {
  $executeRaw(query: TemplateStringsArray, ...values: unknown[]): PromiseLike<number>;
}

/** A Prisma client (not a transaction client): it can open interactive transactions. */
export interface TransactionRunner<Tx> {
  $connect(): PromiseLike<void>;
  $transaction<R>(fn: (tx: Tx) => Promise<R>): PromiseLike<R>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// A transaction client has $transaction too (it nests, at the cost of a savepoint), but no $connect.
function isRunner<Tx>(db: TransactionRunner<Tx> | Tx): db is TransactionRunner<Tx> {
  return typeof (db as { $connect?: unknown }).$connect === "function";
}

/**
 * Runs `fn` in a transaction: the open one when `db` is a transaction client
 * (no nesting), else a new interactive transaction of the client. Data access
 * that needs several statements to be atomic takes either and calls this.
 */
export async function inTransaction<Tx, R>(db: TransactionRunner<Tx> | Tx, fn: (tx: Tx) => Promise<R>): Promise<R> {
  return isRunner(db) ? db.$transaction(fn) : fn(db);
}

/**
 * Runs `fn` in a transaction whose every query sees and writes only
 * `tenantId`'s rows. Given an open transaction it narrows that one from here
 * on (a platform lookup that found its tenant continues as that tenant).
 */
export async function withTenant<Tx extends SqlClient, R>(db: TransactionRunner<Tx> | Tx, tenantId: string, fn: (tx: Tx) => Promise<R>): Promise<R> {
  // A malformed id would make every policy fail with a cast error; refuse it here, where the cause is clear.
  if (!UUID.test(tenantId)) throw new Error(`withTenant: not a tenant id: ${JSON.stringify(tenantId)}`);
  return inTransaction(db, async (tx) => {
    await tx.$executeRaw`SELECT set_config(${TENANT_SETTING}, ${tenantId}, true), set_config(${SCOPE_SETTING}, '', true)`;
    return fn(tx);
  });
}

/**
 * `databaseUrl` for a second pool whose connections are all in the platform
 * scope (libpq startup option `-c app.scope=platform`): a single cross-tenant
 * lookup on the hot path (credential resolution) then needs no transaction,
 * which is what asPlatform costs (about 400 µs of CPU per call here). Hand it only
 * to the platform paths; withTenant on one of its transactions still narrows
 * it to a tenant.
 */
export function platformDatabaseUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const options = [url.searchParams.get("options"), `-c ${SCOPE_SETTING}=${PLATFORM_SCOPE}`].filter(Boolean).join(" ");
  url.searchParams.set("options", options);
  return url.toString();
}

/**
 * Runs `fn` in a new transaction that sees every tenant's rows: only for the
 * named cross-tenant operations (an identity's memberships and invitations,
 * the purge, the audit consumer). It takes a client, never an open
 * transaction, so a tenant-scoped transaction cannot be widened.
 */
export async function asPlatform<Tx extends SqlClient, R>(db: TransactionRunner<Tx>, fn: (tx: Tx) => Promise<R>): Promise<R> {
  if (!isRunner(db)) throw new Error("asPlatform: given an open transaction; the platform scope needs a transaction of its own");
  return db.$transaction(async (tx) => {
    await tx.$executeRaw`SELECT set_config(${SCOPE_SETTING}, ${PLATFORM_SCOPE}, true), set_config(${TENANT_SETTING}, '', true)`;
    return fn(tx);
  });
}
