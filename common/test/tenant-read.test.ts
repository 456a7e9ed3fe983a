import { resolve } from "node:path";
import { expect } from "chai";
import { Client } from "pg";
import { TenantReader } from "../src/db/tenant-read.js";
import { deployMigrations } from "../src/migrate/index.js";
import { createTestDatabase, type TestDatabase } from "../src/testing/database.js";

const migrationsDir = resolve(__dirname, "../../../svc-identity/prisma/migrations");
const APP_ROLE = "apgms_identity_app";

/**
 * TenantReader against svc-identity's real row-level-security policies: one
 * statement as a tenant in one round trip, nothing left behind on the
 * connection, and errors that leave the pool usable.
 */
describe("TenantReader (one statement as a tenant, one round trip)", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let reader: TenantReader;
  let a: string;
  let b: string;

  before(async () => {
    db = await createTestDatabase({ prefix: "tenant_read" });
    await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir });
    const owner = new Client({ connectionString: db.url });
    await owner.connect();
    const rows = (await owner.query<{ id: string }>(`INSERT INTO identity.tenants (name, slug, updated_at) VALUES ('A', 'tr-a', now()), ('B', 'tr-b', now()) RETURNING id`)).rows;
    [a, b] = [rows[0]!.id, rows[1]!.id];
    await owner.end();
    // Two connections: consecutive reads reuse them, so anything a read left behind would show.
    reader = new TenantReader({ databaseUrl: db.urlAs(APP_ROLE), max: 2 });
  });
  after(async () => {
    await reader?.close();
    await db?.drop();
  });

  it("sees only its tenant's rows, even without a filter of its own, alternating tenants on the same connections", async () => {
    for (let i = 0; i < 10; i++) {
      const tenant = i % 2 ? b : a;
      const rows = await reader.query<{ id: string }>(tenant, "SELECT id FROM identity.tenants");
      expect(rows.map((r) => r.id)).to.deep.equal([tenant]);
    }
  });

  it("binds parameters and returns typed rows", async () => {
    const rows = await reader.query<{ id: string; name: string; created: Date }>(a, `SELECT id, name, created_at AS created FROM identity.tenants WHERE name = $1`, ["A"]);
    expect(rows).to.have.length(1);
    expect(rows[0]!.created).to.be.instanceOf(Date);
    expect(await reader.query(a, `SELECT id FROM identity.tenants WHERE name = $1`, ["B"])).to.deep.equal([]);
  });

  it("leaves no tenant setting on the connection after the statement", async () => {
    await reader.query(a, "SELECT 1");
    // The same pool's connections, used directly: no setting, so the policies show nothing.
    const pool = (reader as unknown as { pool: { connect(): Promise<Client & { release(): void }> } }).pool;
    const clients = await Promise.all([pool.connect(), pool.connect()]);
    try {
      for (const c of clients) {
        const { rows } = await c.query("SELECT current_setting('app.tenant_id', true) AS tenant, (SELECT count(*)::int FROM identity.tenants) AS visible");
        // Never set on this connection (null), or set for a statement and reverted with it ("").
        expect(rows[0]?.tenant ?? "").to.equal("");
        expect(rows[0]?.visible).to.equal(0);
      }
    } finally {
      clients.forEach((c) => c.release());
    }
  });

  it("reports a statement's error and keeps working on the same connections", async () => {
    for (let i = 0; i < 3; i++) {
      let caught: unknown;
      try {
        await reader.query(a, "SELECT no_such_column FROM identity.tenants");
      } catch (err) {
        caught = err;
      }
      expect((caught as Error)?.message, String(i)).to.match(/no_such_column/);
    }
    // An error when the statement runs (it was prepared fine): the same statement fails the same way again.
    for (let i = 0; i < 3; i++) {
      let caught: unknown;
      try {
        await reader.query(a, "SELECT 1 / (count(*)::int - count(*)::int) FROM identity.tenants");
      } catch (err) {
        caught = err;
      }
      expect((caught as Error)?.message, String(i)).to.match(/division by zero/);
    }
    expect((await reader.query<{ id: string }>(b, "SELECT id FROM identity.tenants")).map((r) => r.id)).to.deep.equal([b]);
  });

  it("refuses a malformed tenant id before it reaches the database", async () => {
    let caught: unknown;
    try {
      await reader.query("not-a-tenant", "SELECT 1");
    } catch (err) {
      caught = err;
    }
    expect((caught as Error)?.message).to.match(/not a tenant id/);
  });

  it("keeps a setting a statement made for itself from reaching the next read", async () => {
    await reader.query(a, "SELECT set_config('app.scope', 'platform', true)");
    const rows = await reader.query<{ id: string }>(b, "SELECT id FROM identity.tenants");
    expect(rows.map((r) => r.id)).to.deep.equal([b]);
  });
});
