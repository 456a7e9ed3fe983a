import { randomBytes } from "node:crypto";
import { Client } from "pg";

export const DEFAULT_PG_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres";

export interface TestDatabase {
  /** postgres:// URL of the new database (same server and credentials as PG_ADMIN_URL). */
  url: string;
  name: string;
  /** `url` connecting as another role (local trust authentication: no password), e.g. a service's row-level-security role. */
  urlAs(role: string): string;
  /** Terminates its connections and drops it; safe to call twice. */
  drop(): Promise<void>;
}

export interface TestDatabaseOptions {
  /** Part of the name: apgms_test_<prefix>_<random>. Lowercase letters, digits, _. */
  prefix: string;
  /** Default: $PG_ADMIN_URL, else postgres://postgres@127.0.0.1:5432/postgres. */
  adminUrl?: string;
}

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/** Creates an empty, uniquely named database for one test suite. */
export async function createTestDatabase({ prefix, adminUrl }: TestDatabaseOptions): Promise<TestDatabase> {
  if (!/^[a-z0-9_]{1,30}$/.test(prefix)) throw new Error(`invalid test database prefix ${JSON.stringify(prefix)}`);
  const admin = adminUrl ?? process.env.PG_ADMIN_URL ?? DEFAULT_PG_ADMIN_URL;
  const name = `apgms_test_${prefix}_${randomBytes(6).toString("hex")}`;
  await adminQuery(admin, `CREATE DATABASE "${name}"`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  let dropped: Promise<void> | undefined;
  const urlAs = (role: string) => {
    const other = new URL(url);
    other.username = encodeURIComponent(role);
    other.password = "";
    return other.toString();
  };
  return {
    url: url.toString(),
    name,
    urlAs,
    drop: () => (dropped ??= adminQuery(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  };
}
