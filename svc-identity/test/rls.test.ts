// Row-level security, the second wall: queries with no tenant filter at all,
// run as the service's own role, see and change only the transaction's tenant.
import { randomUUID } from "node:crypto";
import { asPlatform, checkRowLevelSecurity, withTenant } from "@apgms/common";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { expect } from "chai";
import { Client } from "pg";
import type { Logger } from "@apgms/common";
import { APP_ROLE, type Tx } from "../src/db/client.js";
import { startHarness, type Harness, type Provisioned } from "./harness.js";

/** Every table of the schema but the migrations' own: each must be tenant-owned and protected. */
async function tables(pg: Client): Promise<string[]> {
  const { rows } = await pg.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'identity' AND c.relkind = 'r' AND c.relname <> '_prisma_migrations' ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

/** The tenant column of a table: tenants are their own tenant. */
const tenantColumn = (table: string) => (table === "tenants" ? "id" : "tenant_id");

describe("row-level security (svc-identity)", function () {
  this.timeout(60_000);
  let h: Harness;
  let owner: Client;
  let app: Client;
  let a: Provisioned;
  let b: Provisioned;
  let all: string[];

  /** One row (at least) in every tenant table, through the service itself where it writes them. */
  async function fill(t: Provisioned): Promise<void> {
    const { user } = await h.users.createUser(
      { accountId: t.accountId, email: `analyst@${t.slug}.example`, displayName: "Analyst", role: Role.ROLE_ANALYST, oidcIssuer: "https://issuer.test", oidcSubject: `analyst-${t.slug}` },
      t.ctx,
    );
    await h.sessions.touchSession({ userId: user!.id, sessionKey: "sid", userAgent: "test", ip: "192.0.2.1", expireTime: undefined }, t.ctx);
    const { apiKey } = await h.apiKeys.createApiKey({ name: "ci", scopes: ["identity:read"], expireTime: undefined }, t.ctx);
    await h.apiKeys.rotateApiKey({ apiKeyId: apiKey!.id, gracePeriodSeconds: 60 }, t.ctx);
    await h.invitations.createInvitation({ accountId: t.accountId, email: `new@${t.slug}.example`, role: Role.ROLE_VIEWER, displayName: "" }, t.ctx);
    // The audit trail is written by its own consumer; a row is enough here.
    await owner.query(
      `INSERT INTO identity.audit_events (id, tenant_id, occurred_at, principal, action, target_ids, outcome, error_codes, request_id, trace_id, source)
       VALUES ($1, $2, now(), 'user:x', 'test.action', '{}', 'ok', '{}', 'r', 't', 'test')`,
      [randomUUID(), t.tenantId],
    );
  }

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
    h = await startHarness("rls");
    owner = new Client({ connectionString: h.db.url });
    app = new Client({ connectionString: h.db.urlAs(APP_ROLE) });
    await Promise.all([owner.connect(), app.connect()]);
    a = await h.provision("rls-a");
    b = await h.provision("rls-b");
    await fill(a);
    await fill(b);
    all = await tables(owner);
  });
  after(async () => {
    await app?.end();
    await owner?.end();
    await h?.stop();
  });

  it("connects the service as a role that neither bypasses row-level security nor owns a table", async () => {
    const { rows } = await app.query<{ user: string; super: boolean; bypass: boolean }>(
      "SELECT current_user AS user, rolsuper AS super, rolbypassrls AS bypass FROM pg_roles WHERE rolname = current_user",
    );
    expect(rows).to.deep.equal([{ user: APP_ROLE, super: false, bypass: false }]);
    const owned = await owner.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'identity' AND pg_get_userbyid(c.relowner) = $1`,
      [APP_ROLE],
    );
    expect(owned.rows).to.deep.equal([]);
  });

  it("has row-level security enabled and forced, with a tenant column, on every table", async () => {
    expect(all).to.include.members(["tenants", "accounts", "users", "sessions", "api_keys", "api_key_secrets", "api_key_rotations", "invitations"]);
    const { rows } = await owner.query<{ name: string; enabled: boolean; forced: boolean; column: boolean }>(
      `SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
              EXISTS (SELECT 1 FROM pg_attribute at WHERE at.attrelid = c.oid AND at.attname = 'tenant_id' AND NOT at.attisdropped) AS column
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'identity' AND c.relname = ANY($1) ORDER BY 1`,
      [all],
    );
    for (const r of rows) expect(r, r.name).to.deep.include({ enabled: true, forced: true, column: r.name !== "tenants" });
  });

  it("shows a query with no WHERE clause, on each tenant table, only tenant A's rows inside A's transaction", async () => {
    for (const table of all) {
      const column = tenantColumn(table);
      const seen = await asApp<{ tenant: string }>({ "app.tenant_id": a.tenantId }, `SELECT ${column}::text AS tenant FROM identity.${table}`);
      expect(seen.length, `${table}: A's rows`).to.be.greaterThan(0);
      expect(new Set(seen.map((r) => r.tenant)), table).to.deep.equal(new Set([a.tenantId]));
      const everything = await owner.query(`SELECT DISTINCT ${column}::text FROM identity.${table}`);
      expect(everything.rowCount, `${table}: both tenants have rows`).to.be.at.least(2);
    }
  });

  it("shows nothing without a tenant, or with an empty one, and nothing of a tenant that has no rows", async () => {
    for (const table of all) {
      expect(await asApp({}, `SELECT 1 FROM identity.${table}`), table).to.deep.equal([]);
      expect(await asApp({ "app.tenant_id": "" }, `SELECT 1 FROM identity.${table}`), table).to.deep.equal([]);
      expect(await asApp({ "app.tenant_id": randomUUID() }, `SELECT 1 FROM identity.${table}`), table).to.deep.equal([]);
    }
  });

  it("lets an unfiltered UPDATE reach only the tenant's rows, and refuses a row written for another tenant", async () => {
    const renamed = await asApp<{ tenant: string }>({ "app.tenant_id": a.tenantId }, "UPDATE identity.accounts SET name = 'renamed' RETURNING tenant_id::text AS tenant");
    expect(new Set(renamed.map((r) => r.tenant))).to.deep.equal(new Set([a.tenantId]));
    let refused: unknown;
    try {
      await asApp({ "app.tenant_id": a.tenantId }, "INSERT INTO identity.accounts (tenant_id, name, updated_at) VALUES ($1, 'smuggled', now())", [b.tenantId]);
    } catch (err) {
      refused = err;
    }
    expect((refused as { code?: string } | undefined)?.code, "new row violates row-level security policy").to.equal("42501");
  });

  it("keeps each secret's and rotation's tenant its key's (the foreign key includes the tenant)", async () => {
    const [keyOfB] = (await owner.query<{ id: string }>("SELECT id FROM identity.api_keys WHERE tenant_id = $1", [b.tenantId])).rows;
    let refused: unknown;
    try {
      await owner.query("INSERT INTO identity.api_key_secrets (api_key_id, tenant_id, prefix, secret_hash) VALUES ($1, $2, 'apgms_zzzzzzzz', 'x')", [keyOfB!.id, a.tenantId]);
    } catch (err) {
      refused = err;
    }
    expect((refused as { code?: string } | undefined)?.code, "foreign key violation").to.equal("23503");
  });

  it("grants the role no DELETE where the service never deletes, and nothing on the migrations table", async () => {
    const { rows } = await owner.query<{ table: string; privilege: string }>(
      `SELECT table_name AS table, privilege_type AS privilege FROM information_schema.role_table_grants
        WHERE grantee = $1 AND table_schema = 'identity' AND privilege_type = 'DELETE' ORDER BY 1`,
      [APP_ROLE],
    );
    expect(rows.map((r) => r.table)).to.deep.equal(["accounts", "tenants", "users"]);
    const migrations = await owner.query("SELECT has_table_privilege($1, 'identity._prisma_migrations', 'SELECT') AS can", [APP_ROLE]);
    expect(migrations.rows[0].can).to.equal(false);
  });

  it("scopes Prisma through withTenant; the client outside a transaction sees nothing", async () => {
    const users = await withTenant<Tx, Array<{ tenantId: string }>>(h.appPrisma, a.tenantId, (tx) => tx.user.findMany());
    expect(users.length).to.be.greaterThan(0);
    expect(new Set(users.map((u) => u.tenantId))).to.deep.equal(new Set([a.tenantId]));
    expect(await h.appPrisma.user.findMany()).to.deep.equal([]);
    expect(await h.appPrisma.tenant.count()).to.equal(0);
  });

  it("sees every tenant only in the platform scope, which cannot widen a tenant's transaction", async () => {
    const tenants = await asPlatform<Tx, Array<{ id: string }>>(h.appPrisma, (tx) => tx.tenant.findMany());
    expect(tenants.map((t) => t.id)).to.include.members([a.tenantId, b.tenantId]);
    let refused: unknown;
    try {
      await withTenant<Tx, unknown>(h.appPrisma, a.tenantId, (tx) => asPlatform(tx as never, async () => undefined));
    } catch (err) {
      refused = err;
    }
    expect(String(refused)).to.include("asPlatform: given an open transaction");
    // A platform lookup narrowed to a tenant sees that tenant only from then on.
    const narrowed = await asPlatform<Tx, number>(h.appPrisma, (tx) => withTenant<Tx, number>(tx, b.tenantId, (t) => t.tenant.count()));
    expect(narrowed).to.equal(1);
  });

  it("sees every tenant through the platform pool without a transaction, and only one tenant in its withTenant", async () => {
    const ids = (await h.platformPrisma.tenant.findMany()).map((t) => t.id);
    expect(ids).to.include.members([a.tenantId, b.tenantId]);
    const users = await withTenant<Tx, Array<{ tenantId: string }>>(h.platformPrisma, b.tenantId, (tx) => tx.user.findMany());
    expect(users.length).to.be.greaterThan(0);
    expect(new Set(users.map((u) => u.tenantId))).to.deep.equal(new Set([b.tenantId]));
    // The service's own pool never is: its sessions have no scope.
    expect(await h.appPrisma.tenant.count()).to.equal(0);
  });

  it("warns at start when DATABASE_URL's role bypasses row-level security, and not for the service's role", async () => {
    const warnings: string[] = [];
    const logger = { warn: (a: unknown, b?: string) => warnings.push(typeof a === "string" ? a : (b ?? "")) } as unknown as Logger;
    await checkRowLevelSecurity(h.appPrisma, APP_ROLE, logger);
    expect(warnings).to.deep.equal([]);
    await checkRowLevelSecurity(h.prisma, APP_ROLE, logger);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include("bypasses row-level security");
    expect(warnings[0]).to.include(`connect as ${APP_ROLE}`);
  });
});
