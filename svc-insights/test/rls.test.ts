// Row-level security, the second wall: statements with no tenant filter at
// all, run as the service's own role, see and write only the scope's tenant.
import { randomUUID } from "node:crypto";
import { checkRowLevelSecurity, type Logger } from "@apgms/common";
import { expect } from "chai";
import { Client } from "pg";
import { APP_ROLE, createPrisma } from "../src/db/client.js";
import { startHarness, type Harness } from "./harness.js";
import { toProto } from "./events.js";

describe("row-level security (svc-insights)", function () {
  this.timeout(60_000);
  let h: Harness;
  let owner: Client;
  let app: Client;
  let all: string[];
  const a = randomUUID();
  const b = randomUUID();

  /** Runs `sql` as the service's role in a transaction scoped by `settings` (none: no tenant set). */
  async function asApp<T extends object>(settings: Record<string, string>, sql: string, params: unknown[] = []): Promise<T[]> {
    await app.query("BEGIN");
    try {
      for (const [name, value] of Object.entries(settings)) await app.query("SELECT set_config($1, $2, true)", [name, value]);
      return (await app.query<T>(sql, params)).rows;
    } finally {
      await app.query("ROLLBACK");
    }
  }

  before(async () => {
    h = await startHarness("insights_rls");
    owner = new Client({ connectionString: h.db.url });
    app = new Client({ connectionString: h.db.urlAs(APP_ROLE) });
    await Promise.all([owner.connect(), app.connect()]);
    // A row in every table, for both tenants, through the service itself.
    for (const tenantId of [a, b]) {
      const ctx = { context: { requestId: randomUUID(), tenantId } };
      await h.analytics.setDimensions({ keys: ["campaign"] }, ctx);
      const events = [toProto({ id: "e1", name: "v", t: Date.now() - 60_000, subject: "s", attributes: { campaign: "x", amount: 2 } })];
      expect((await h.events.ingestEvents({ events }, ctx)).accepted).to.equal(1);
    }
    const { rows } = await owner.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'insights' AND c.relkind = 'r' AND c.relname <> '_prisma_migrations' ORDER BY 1`,
    );
    all = rows.map((r) => r.name);
  });
  after(async () => {
    await app?.end();
    await owner?.end();
    await h?.stop();
  });

  it("connects the service as a role that neither bypasses row-level security nor owns a table", async () => {
    const { rows } = await app.query("SELECT current_user AS user, rolsuper AS super, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user");
    expect(rows).to.deep.equal([{ user: APP_ROLE, super: false, bypass: false }]);
    const owned = await owner.query(`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'insights' AND pg_get_userbyid(c.relowner) = $1`, [APP_ROLE]);
    expect(owned.rows).to.deep.equal([]);
  });

  it("has row-level security enabled and forced, with tenant_id leading the primary key, on every table", async () => {
    expect(all).to.have.members(["dimensions", "event_attributes", "events", "rollup_counts", "rollup_dimensions", "rollup_sums", "subject_buckets"]);
    const { rows } = await owner.query<{ name: string; enabled: boolean; forced: boolean; lead: string }>(
      `SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
              (SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0] WHERE i.indrelid = c.oid AND i.indisprimary) AS lead
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'insights' AND c.relname = ANY($1)`,
      [all],
    );
    for (const r of rows) expect(r, r.name).to.deep.include({ enabled: true, forced: true, lead: "tenant_id" });
  });

  it("shows an unfiltered query on each table only tenant A's rows inside A's scope, and nothing without a tenant", async () => {
    for (const table of all) {
      const seen = await asApp<{ tenant: string }>({ "app.tenant_id": a }, `SELECT tenant_id::text AS tenant FROM insights.${table}`);
      expect(seen.length, `${table}: A's rows`).to.be.greaterThan(0);
      expect(new Set(seen.map((r) => r.tenant)), table).to.deep.equal(new Set([a]));
      expect((await owner.query(`SELECT DISTINCT tenant_id FROM insights.${table}`)).rowCount, `${table}: both tenants have rows`).to.equal(2);
      expect(await asApp({}, `SELECT 1 FROM insights.${table}`), table).to.deep.equal([]);
      expect(await asApp({ "app.tenant_id": randomUUID() }, `SELECT 1 FROM insights.${table}`), table).to.deep.equal([]);
    }
  });

  it("refuses ingest_events() and set_dimensions() for another tenant than the scope's", async () => {
    for (const sql of [
      `SELECT insights.ingest_events($1, ARRAY['smuggled'], ARRAY['v'], ARRAY[1764000000000]::bigint[], ARRAY['s'], '{}', '{}', '{}', '{}', '{}', '{}', ARRAY['campaign'])`,
      `SELECT insights.set_dimensions($1, ARRAY['channel'], ARRAY['campaign'])`,
    ]) {
      let refused: unknown;
      try {
        await asApp({ "app.tenant_id": a }, sql, [b]);
      } catch (err) {
        refused = err;
      }
      expect((refused as { code?: string } | undefined)?.code, `${sql}: new row violates row-level security policy`).to.equal("42501");
    }
    expect((await owner.query("SELECT count(*)::int AS n FROM insights.events WHERE tenant_id = $1", [b])).rows[0].n).to.equal(1);
  });

  it("grants DELETE only on dimensions and their rollup, and nothing on the migrations table", async () => {
    const { rows } = await owner.query<{ table: string }>(
      `SELECT table_name AS table FROM information_schema.role_table_grants WHERE grantee = $1 AND table_schema = 'insights' AND privilege_type = 'DELETE' ORDER BY 1`,
      [APP_ROLE],
    );
    expect(rows.map((r) => r.table)).to.deep.equal(["dimensions", "rollup_dimensions"]);
    const migrations = await owner.query("SELECT has_table_privilege($1, 'insights._prisma_migrations', 'SELECT') AS can", [APP_ROLE]);
    expect(migrations.rows[0].can).to.equal(false);
  });

  it("warns at start when DATABASE_URL's role bypasses row-level security, and not for the service's role", async () => {
    const warnings: string[] = [];
    const logger = { warn: (x: unknown, y?: string) => warnings.push(typeof x === "string" ? x : (y ?? "")) } as unknown as Logger;
    const appPrisma = createPrisma({ databaseUrl: h.db.urlAs(APP_ROLE), schema: "insights", maxConnections: 1 });
    try {
      await checkRowLevelSecurity(appPrisma, APP_ROLE, logger);
      expect(warnings).to.deep.equal([]);
      await checkRowLevelSecurity(h.prisma, APP_ROLE, logger);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include(`connect as ${APP_ROLE}`);
    } finally {
      await appPrisma.$disconnect();
    }
  });
});
