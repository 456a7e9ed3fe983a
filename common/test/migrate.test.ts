import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect } from "chai";
import { Client } from "pg";
import { deployMigrations, diffMigrations, migrationStatus } from "../src/migrate/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing/database.js";

const identityDir = resolve(__dirname, "../../../svc-identity/prisma");
const migrationsDir = join(identityDir, "migrations");

async function query<T>(url: string, sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql, params)).rows as T[];
  } finally {
    await client.end();
  }
}

describe("migrate (WASM schema engine, offline)", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let scratch: string;

  before(async () => {
    db = await createTestDatabase({ prefix: "migrate" });
    scratch = await mkdtemp(join(tmpdir(), "apgms-migrate-"));
  });

  after(async () => {
    await db?.drop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it("deploys the svc-identity migrations into schema identity", async () => {
    const names = (await readdir(migrationsDir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    const { applied } = await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir });
    expect(applied).to.deep.equal(names.sort());

    const tables = await query<{ table_name: string }>(
      db.url,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'identity' ORDER BY 1",
    );
    expect(tables.map((t) => t.table_name)).to.include.members([
      "_prisma_migrations",
      "tenants",
      "accounts",
      "users",
      "sessions",
      "api_keys",
      "api_key_secrets",
      "api_key_rotations",
    ]);
    const inPublic = await query(db.url, "SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'");
    expect(inPublic).to.have.length(0);
  });

  it("records Prisma's _prisma_migrations rows with sha256 checksums", async () => {
    const first = (await readdir(migrationsDir)).filter((n) => n.endsWith("_init"))[0];
    expect(first, "an _init migration").to.be.a("string");
    const sql = await readFile(join(migrationsDir, first, "migration.sql"));
    const rows = await query<Record<string, unknown>>(
      db.url,
      "SELECT * FROM identity._prisma_migrations WHERE migration_name = $1",
      [first],
    );
    expect(rows).to.have.length(1);
    const row = rows[0];
    expect(row.checksum).to.equal(createHash("sha256").update(sql).digest("hex"));
    expect(row.finished_at).to.be.instanceOf(Date);
    expect(row.rolled_back_at).to.equal(null);
    expect(row.applied_steps_count).to.equal(1);
    expect(row.id).to.match(/^[0-9a-f-]{36}$/);
  });

  it("is idempotent and reports up to date", async () => {
    const again = await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir });
    expect(again.applied).to.deep.equal([]);
    const status = await migrationStatus({ databaseUrl: db.url, schema: "identity", migrationsDir });
    expect(status.upToDate).to.equal(true);
  });

  it("finds no difference between the migrations and schema.prisma (shadow database)", async () => {
    const before = await query<{ datname: string }>(db.url, "SELECT datname FROM pg_database");
    const sql = await diffMigrations({
      databaseUrl: db.url,
      schema: "identity",
      migrationsDir,
      prismaSchema: join(identityDir, "schema.prisma"),
    });
    expect(sql, "run migrate:create after editing schema.prisma").to.equal("");
    const after = await query<{ datname: string }>(db.url, "SELECT datname FROM pg_database");
    expect(after.filter((d) => d.datname.startsWith("prisma_migrate_shadow_db_"))).to.have.length(
      before.filter((d) => d.datname.startsWith("prisma_migrate_shadow_db_")).length,
      "shadow database dropped",
    );
  });

  it("keeps a separate _prisma_migrations per schema and runs scripts whole", async () => {
    const dir = join(scratch, "other");
    await mkdir(join(dir, "20260101000000_init"), { recursive: true });
    await writeFile(join(dir, "migration_lock.toml"), 'provider = "postgresql"\n');
    // Semicolons inside a function body and a string: the script must not be split on ";".
    await writeFile(
      join(dir, "20260101000000_init", "migration.sql"),
      `CREATE TABLE "things" ("id" INT PRIMARY KEY, "note" TEXT NOT NULL DEFAULT 'a;b');
CREATE FUNCTION "one"() RETURNS INT LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END; $$;
`,
    );
    const { applied } = await deployMigrations({ databaseUrl: db.url, schema: "other", migrationsDir: dir });
    expect(applied).to.deep.equal(["20260101000000_init"]);
    const [{ one }] = await query<{ one: number }>(db.url, 'SELECT other."one"() AS one');
    expect(one).to.equal(1);
    const other = await query(db.url, "SELECT migration_name FROM other._prisma_migrations");
    const identity = await query(db.url, "SELECT migration_name FROM identity._prisma_migrations");
    expect(other).to.have.length(1);
    expect(identity.map((r) => (r as { migration_name: string }).migration_name)).to.not.include("20260101000000_init");
  });
});
