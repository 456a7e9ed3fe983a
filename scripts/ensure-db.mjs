// Create the database named in DATABASE_URL if it does not exist yet.
// Connects to the server's `postgres` maintenance database with the same
// credentials. Usage: DATABASE_URL=postgres://... node scripts/ensure-db.mjs
import pg from "pg";

const raw = process.env.DATABASE_URL;
if (!raw) {
  console.error("[ensure-db] DATABASE_URL is not set");
  process.exit(2);
}

const url = new URL(raw);
const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
if (!database) {
  console.error(`[ensure-db] DATABASE_URL names no database: ${raw}`);
  process.exit(2);
}

// Separate fields, not a connectionString: a connectionString would win over
// `database`. Query parameters such as ?schema= are not for this connection.
const client = new pg.Client({
  host: url.hostname || "127.0.0.1",
  port: url.port ? Number(url.port) : 5432,
  user: decodeURIComponent(url.username) || "postgres",
  password: url.password ? decodeURIComponent(url.password) : undefined,
  database: process.env.PG_MAINTENANCE_DB ?? "postgres",
  connectionTimeoutMillis: 10_000,
});

try {
  await client.connect();
  const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]);
  if (rowCount) {
    console.error(`[ensure-db] database "${database}" exists`);
  } else {
    const ident = '"' + database.replaceAll('"', '""') + '"';
    try {
      await client.query(`CREATE DATABASE ${ident}`);
      console.error(`[ensure-db] created database "${database}"`);
    } catch (err) {
      if (err?.code !== "42P04") throw err; // created concurrently: fine
    }
  }
} catch (err) {
  console.error(`[ensure-db] cannot ensure database "${database}" on ${url.host}: ${err?.message ?? err}`);
  process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
}
