// The fast way to read under row-level security: one statement as a tenant in
// one round trip. withTenant (tenant-scope.ts) needs an interactive
// transaction: BEGIN, set_config, the query, COMMIT, four round trips and,
// through Prisma, about 1.5 ms of CPU here. A read needs none of that: the
// extended protocol runs every message up to a Sync in one implicit
// transaction, so `set_config(…, true)` followed by the query, pipelined
// before one Sync, scopes exactly that query and ends with it.
import { createHash } from "node:crypto";
import * as pg from "pg";
import { SCOPE_SETTING, TENANT_SETTING } from "./tenant-scope.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SCOPE_AS_TENANT = `SELECT set_config('${TENANT_SETTING}', $1, true), set_config('${SCOPE_SETTING}', '', true)`;
const SCOPE_STATEMENT = "apgms_scope_as_tenant";

/**
 * Every statement is prepared once per connection under a name of its text
 * (Postgres then plans it once, not per call: a fifth of its CPU per read here).
 */
const statementNames = new Map<string, string>();
function statementName(text: string): string {
  let name = statementNames.get(text);
  if (!name) {
    name = `apgms_read_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

/** What pg hands a submittable: the parts of its Connection this file uses. */
interface Connection {
  parsedStatements: Record<string, string>;
  parse(config: { text: string; name?: string; types?: number[] }): void;
  bind(config: { portal?: string; statement?: string; values?: unknown[] }): void;
  execute(config: { portal?: string; rows?: number }): void;
}

/** pg's own Query (its extended-protocol path), preceded by the tenant's set_config in the same pipeline. */
const PgQuery = (pg as unknown as { Query: new (config: object) => object }).Query;

class TenantScopedQuery extends (PgQuery as new (config: object) => {
  prepare(connection: Connection): void;
  handleDataRow(msg: unknown): void;
  handleCommandComplete(msg: unknown, connection: Connection): void;
}) {
  /** True until the set_config statement has completed: its row is not part of the result. */
  private scoping = true;

  constructor(
    private readonly tenantId: string,
    config: { text: string; values: unknown[]; callback: (err: Error | null, result?: pg.QueryResult) => void },
  ) {
    super({ ...config, name: statementName(config.text), queryMode: "extended" });
  }

  override prepare(connection: Connection): void {
    // Prepared beforehand (TenantReader.query): a ParseComplete of its own here would be taken by pg
    // for the query's, and a query whose own Parse then failed would be taken for prepared.
    connection.bind({ statement: SCOPE_STATEMENT, values: [this.tenantId] });
    connection.execute({ rows: 0 });
    super.prepare(connection); // parse, bind, describe, execute, then the one Sync
  }

  override handleDataRow(msg: unknown): void {
    if (!this.scoping) super.handleDataRow(msg);
  }

  override handleCommandComplete(msg: unknown, connection: Connection): void {
    if (this.scoping) this.scoping = false;
    else super.handleCommandComplete(msg, connection);
  }
}

export interface TenantReaderOptions {
  /** The service's row-level-security role (never one that bypasses RLS). */
  databaseUrl: string;
  /** Pool size (default 10). */
  max?: number;
}

/**
 * Reads as one tenant, one statement at a time, in one round trip each.
 * Writes and anything that needs several statements to agree keep using
 * withTenant (a transaction); this is for the hot reads a cache misses.
 */
export class TenantReader {
  private readonly pool: pg.Pool;

  constructor(options: TenantReaderOptions) {
    const url = new URL(options.databaseUrl);
    url.searchParams.delete("schema"); // Prisma's parameter; pg would send it as a startup option
    this.pool = new pg.Pool({ connectionString: url.toString(), max: options.max ?? 10 });
    // An idle client's error (the server went away) must not crash the process; the pool drops it.
    this.pool.on("error", () => {});
  }

  /** Rows of `text` (parameters $1…) as seen by `tenantId` under row-level security. */
  async query<R>(tenantId: string, text: string, values: unknown[] = []): Promise<R[]> {
    // A malformed id would fail every policy with a cast error; refuse it where the cause is clear.
    if (!UUID.test(tenantId)) throw new Error(`TenantReader: not a tenant id: ${JSON.stringify(tenantId)}`);
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      const { connection } = client as unknown as { connection: Connection };
      if (connection.parsedStatements[SCOPE_STATEMENT] === undefined) {
        // Once per connection: prepares the scoping statement (its setting ends with this statement).
        await client.query({ name: SCOPE_STATEMENT, text: SCOPE_AS_TENANT, values: [tenantId] });
      }
      const result = await new Promise<pg.QueryResult>((resolve, reject) => {
        const query = new TenantScopedQuery(tenantId, { text, values, callback: (err, res) => (err ? reject(err) : resolve(res!)) });
        client.query(query as unknown as pg.QueryConfig);
      });
      return result.rows as R[];
    } catch (err) {
      // A connection-level failure must not go back to the pool; a statement's error leaves the connection fine.
      if (!(err instanceof pg.DatabaseError)) broken = err as Error;
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
