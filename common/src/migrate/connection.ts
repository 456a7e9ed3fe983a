import type { PoolConfig } from "pg";

/** Postgres identifiers we accept for schema and database names: no quoting games. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertIdentifier(kind: string, value: string): string {
  if (!IDENTIFIER.test(value)) {
    throw new Error(`invalid ${kind} ${JSON.stringify(value)}: use lowercase letters, digits and _ (max 63)`);
  }
  return value;
}

export function quoteIdent(value: string): string {
  return `"${value.replace(/"/g, '""')}"`;
}

/**
 * Splits a postgres:// URL into separate pg fields. A `connectionString` would
 * override `database`, so a shadow database needs the fields (NOTES.md, Prisma).
 * Prisma-only query parameters (`schema`, `connection_limit`, ...) are ignored.
 */
export function parseDatabaseUrl(url: string): PoolConfig {
  const u = new URL(url);
  if (u.protocol !== "postgres:" && u.protocol !== "postgresql:") {
    throw new Error(`not a postgres URL: ${u.protocol}//...`);
  }
  const q = u.searchParams;
  const config: PoolConfig = {
    host: q.get("host") ?? (decodeURIComponent(u.hostname) || "localhost"),
    port: u.port ? Number(u.port) : 5432,
    user: decodeURIComponent(u.username) || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.replace(/^\//, "")) || undefined,
  };
  const appName = q.get("application_name");
  if (appName) config.application_name = appName;
  const sslmode = q.get("sslmode");
  if (sslmode === "require" || sslmode === "prefer" || sslmode === "no-verify") {
    config.ssl = { rejectUnauthorized: false };
  } else if (sslmode === "verify-ca" || sslmode === "verify-full") {
    config.ssl = { rejectUnauthorized: true };
  }
  return config;
}

/** The same server, another database. */
export function withDatabase(config: PoolConfig, database: string): PoolConfig {
  return { ...config, database };
}
