import { randomUUID } from "node:crypto";
import { Client, DatabaseError, Pool, type PoolConfig, type QueryResult } from "pg";
import { PrismaPg } from "@prisma/adapter-pg";
import {
  DriverAdapterError,
  type ConnectionInfo,
  type IsolationLevel,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQuery,
  type SqlResultSet,
  type Transaction,
} from "@prisma/driver-adapter-utils";
import { assertIdentifier, parseDatabaseUrl, quoteIdent, withDatabase } from "./connection.js";

/**
 * Postgres catalog types the schema engine reads but adapter-pg cannot map
 * (char, name, int2vector, regproc, xid, oidvector, pg_node_tree, aclitem,
 * regconfig, regdictionary). pg already hands them over as strings: call them text.
 */
const CATALOG_TEXT_OIDS = new Set([18, 19, 22, 24, 28, 30, 194, 1033, 2205, 2206]);
const TEXT_OID = 25;

function catalogColumnsAsText<T>(result: T): T {
  const fields = (result as Partial<QueryResult> | undefined)?.fields;
  if (Array.isArray(fields)) {
    for (const field of fields) {
      if (CATALOG_TEXT_OIDS.has(field.dataTypeID)) field.dataTypeID = TEXT_OID;
    }
  }
  return result;
}

type Callback = (err: Error | null, res?: unknown) => void;

/** A pg Client whose results report catalog column types as text (pitfall 1). */
export class CatalogAsTextClient extends Client {
  // Matches every overload of Client#query: promise, callback and submittable forms.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  override query(...args: any[]): any {
    const last: unknown = args[args.length - 1];
    if (typeof last === "function") {
      const cb = last as Callback;
      args[args.length - 1] = (err: Error | null, res?: unknown) => cb(err, err ? res : catalogColumnsAsText(res));
      return (super.query as (...a: unknown[]) => unknown)(...args);
    }
    const ret = (super.query as (...a: unknown[]) => unknown)(...args);
    return ret instanceof Promise ? ret.then(catalogColumnsAsText) : ret;
  }
}

function toAdapterError(error: unknown): unknown {
  if (error instanceof DatabaseError) {
    return new DriverAdapterError({
      kind: "postgres",
      code: error.code ?? "unknown",
      severity: error.severity ?? "ERROR",
      message: error.message,
      detail: error.detail,
      column: error.column,
      hint: error.hint,
    });
  }
  return error;
}

/**
 * Delegates to adapter-pg, except that a migration script is sent as one
 * simple-protocol query (adapter-pg splits on ";", which breaks function
 * bodies and string literals) and dispose can drop a shadow database.
 */
class MigrationPgAdapter implements SqlDriverAdapter {
  readonly provider = "postgres" as const;
  readonly adapterName: string;
  private disposed?: Promise<void>;

  constructor(
    private readonly inner: SqlDriverAdapter,
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly afterDispose?: () => Promise<void>,
  ) {
    this.adapterName = inner.adapterName;
  }

  queryRaw(query: SqlQuery): Promise<SqlResultSet> {
    return this.inner.queryRaw(query);
  }

  executeRaw(query: SqlQuery): Promise<number> {
    return this.inner.executeRaw(query);
  }

  startTransaction(isolationLevel?: IsolationLevel): Promise<Transaction> {
    return this.inner.startTransaction(isolationLevel);
  }

  async executeScript(script: string): Promise<void> {
    try {
      await this.pool.query(script);
    } catch (error) {
      throw toAdapterError(error);
    }
  }

  getConnectionInfo(): ConnectionInfo {
    return this.inner.getConnectionInfo?.() ?? { schemaName: this.schema, supportsRelationJoins: true };
  }

  /** Idempotent: the engine and the factory's cleanup may both call it. */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      try {
        await this.inner.dispose(); // ends the pool (disposeExternalPool)
      } finally {
        await this.afterDispose?.();
      }
    })();
    return this.disposed;
  }
}

async function openAdapter(config: PoolConfig, schema: string, afterDispose?: () => Promise<void>): Promise<SqlDriverAdapter> {
  // search_path: unqualified names and the engine's own tables land in the
  // service's schema, so each service has its own <schema>._prisma_migrations (pitfall 3).
  const pool = new Pool({ ...config, max: 4, Client: CatalogAsTextClient, options: `-c search_path=${quoteIdent(schema)}` });
  // adapter-pg bundles a newer @types/pg than the workspace's; same runtime class.
  const external = pool as unknown as ConstructorParameters<typeof PrismaPg>[0];
  const inner = await new PrismaPg(external, { schema, disposeExternalPool: true }).connect();
  return new MigrationPgAdapter(inner, pool, schema, afterDispose);
}

/** Runs one statement on a short-lived connection to the main database. */
async function adminExec(config: PoolConfig, sql: string): Promise<void> {
  const client = new Client(config);
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

export interface MigrationAdapterFactory extends SqlMigrationAwareDriverAdapterFactory {
  /** Closes every pool the engine opened and drops any shadow database left behind. */
  cleanup(): Promise<void>;
}

export interface MigrationAdapterOptions {
  databaseUrl: string;
  /** Postgres schema of the service, e.g. "identity". */
  schema: string;
}

export function createMigrationAdapterFactory({ databaseUrl, schema }: MigrationAdapterOptions): MigrationAdapterFactory {
  assertIdentifier("schema", schema);
  const main = parseDatabaseUrl(databaseUrl);
  const shadows = new Set<string>();
  const open = new Set<SqlDriverAdapter>();
  const track = (adapter: SqlDriverAdapter): SqlDriverAdapter => {
    open.add(adapter);
    return adapter;
  };

  const dropShadow = async (name: string): Promise<void> => {
    // After the shadow pool has ended; FORCE ends anything still connected (pitfall 2).
    await adminExec(main, `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`);
    shadows.delete(name);
  };

  return {
    provider: "postgres",
    adapterName: "@prisma/adapter-pg",
    connect: async () => track(await openAdapter(main, schema)),
    async connectToShadowDb() {
      const name = `prisma_migrate_shadow_db_${randomUUID().replace(/-/g, "")}`;
      await adminExec(main, `CREATE DATABASE ${quoteIdent(name)}`);
      shadows.add(name);
      // Separate fields, not a connectionString: that would override `database` (pitfall 2).
      return track(await openAdapter(withDatabase(main, name), schema, () => dropShadow(name)));
    },
    async cleanup() {
      for (const adapter of open) await adapter.dispose();
      open.clear();
      for (const name of [...shadows]) await dropShadow(name);
    },
  };
}
