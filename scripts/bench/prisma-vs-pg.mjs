// `node scripts/bench/prisma-vs-pg.mjs`: what Prisma costs per query against raw
// `pg` for the SAME statement, on svc-identity's hot reads (issue 7). Runs on the
// built dist (`npx tsc -b` first) against a throwaway database, as the service's
// row-level-security role. For each variant it prints the Node CPU per query
// (process.cpuUsage: Prisma, pg and the mapping to the model's shape), the
// Postgres CPU per query (the pool's backends, /proc/<pid>/schedstat), queries/s,
// and how many SQL statements one call sends (the multi-statement variant sends
// 4 in one message; TenantReader pipelines 2, set_config and the query, before
// one Sync: "2 in 1"). Options: --n 3000 --concurrency 16 --rounds 5 (medians over
// rounds, variants interleaved) --show-sql (print each variant's statements).
// Results and what follows from them: docs/architecture.md, "Prisma or raw SQL".
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const pg = require("pg");
const { makeTypedQueryFactory } = require("@prisma/client/runtime/client");
const { createTestDatabase } = require(path.join(root, "common/dist/src/testing/database.js"));
const { deployMigrations } = require(path.join(root, "common/dist/src/migrate/index.js"));
const { withTenant, platformDatabaseUrl } = require(path.join(root, "common/dist/src/db/tenant-scope.js"));
const { TenantReader } = require(path.join(root, "common/dist/src/db/tenant-read.js"));
const { createPrisma } = require(path.join(root, "svc-identity/dist/src/db/client.js"));

const { values: opts } = parseArgs({
  options: {
    n: { type: "string", default: "3000" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "5" },
    "show-sql": { type: "boolean", default: false },
  },
});
const N = Number(opts.n);
const CONCURRENCY = Number(opts.concurrency);
const ROUNDS = Number(opts.rounds);
const WARMUP = Math.min(600, N);
const SCHEMA = "identity";
const ISSUER = "https://issuer.bench.example";
const USERS = 200;

// ---- the statements (identical text for every raw variant) -------------------

const USER_LIVE = `SELECT u.* FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id AND t.deleted_at IS NULL WHERE u.id = $1 AND u.tenant_id = $2`;
const SET_TENANT = `SELECT set_config('app.tenant_id', $1, true), set_config('app.scope', '', true)`;
const USER_LIVE_FN = `SELECT * FROM identity.bench_user_live($1, $2)`;
const OIDC = `SELECT u.*, t.name AS t_name, t.slug AS t_slug, t.deletion_protection AS t_deletion_protection,
       t.created_at AS t_created_at, t.updated_at AS t_updated_at, t.deleted_at AS t_deleted_at, t.purge_after AS t_purge_after
  FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id AND t.deleted_at IS NULL
 WHERE u.oidc_issuer = $1 AND u.oidc_subject = $2
 ORDER BY u.created_at, u.id LIMIT 1`;

// A one-statement tenant read: set_config(..., is_local) lasts until the end of
// the statement's own (implicit) transaction, and plpgsql runs RETURN QUERY
// after it, so the policies see the tenant. Not a SQL-language function: one
// of those may be inlined into the caller, and then nothing orders the
// set_config before the policy's current_setting.
const BENCH_FUNCTION = `
CREATE FUNCTION identity.bench_user_live(p_tenant uuid, p_id uuid) RETURNS SETOF identity.users
LANGUAGE plpgsql VOLATILE SECURITY INVOKER AS $$
BEGIN
  PERFORM set_config('app.tenant_id', p_tenant::text, true), set_config('app.scope', '', true);
  RETURN QUERY SELECT u.* FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id AND t.deleted_at IS NULL
    WHERE u.id = p_id AND u.tenant_id = p_tenant;
END
$$;
GRANT EXECUTE ON FUNCTION identity.bench_user_live(uuid, uuid) TO apgms_identity_app;`;

// Raw rows have the table's column names: what a service maps to the model's shape.
const toUser = (r) => ({
  id: r.id,
  tenantId: r.tenant_id,
  accountId: r.account_id,
  email: r.email,
  displayName: r.display_name,
  role: r.role,
  oidcIssuer: r.oidc_issuer,
  oidcSubject: r.oidc_subject,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toUserAndTenant = (r) => ({
  user: toUser(r),
  tenant: {
    id: r.tenant_id,
    name: r.t_name,
    slug: r.t_slug,
    deletionProtection: r.t_deletion_protection,
    createdAt: r.t_created_at,
    updatedAt: r.t_updated_at,
    deletedAt: r.t_deleted_at,
    purgeAfter: r.t_purge_after,
  },
});
const first = (rows) => (rows.length ? rows[0] : null);

// ---- seed ----------------------------------------------------------------------

async function seed(ownerUrl) {
  const c = new pg.Client({ connectionString: ownerUrl });
  await c.connect();
  try {
    // Every subject is also a user of a deleted tenant, created earlier: the
    // oldest-first resolution has to skip that membership.
    const { rows } = await c.query(
      `WITH t AS (INSERT INTO identity.tenants (name, slug, updated_at, deleted_at)
                  VALUES ('Live', 'bench-live', now(), NULL), ('Gone', 'bench-gone', now(), now()) RETURNING id, slug),
            a AS (INSERT INTO identity.accounts (tenant_id, name, updated_at) SELECT id, 'Main', now() FROM t RETURNING id, tenant_id)
       SELECT t.slug, t.id AS tenant_id, a.id AS account_id FROM t JOIN a ON a.tenant_id = t.id`,
    );
    const live = rows.find((r) => r.slug === "bench-live");
    const gone = rows.find((r) => r.slug === "bench-gone");
    const insert = `INSERT INTO identity.users (tenant_id, account_id, email, display_name, role, oidc_issuer, oidc_subject, created_at, updated_at)
      SELECT $1, $2, 'u' || n || '@bench.example', 'User ' || n, 'viewer', $3, 'sub-' || n, $4::timestamptz + n * interval '1 ms', now()
        FROM generate_series(1, ${USERS}) n RETURNING id`;
    await c.query(insert, [gone.tenant_id, gone.account_id, ISSUER, "2026-01-01T00:00:00Z"]);
    const users = await c.query(insert, [live.tenant_id, live.account_id, ISSUER, "2026-02-01T00:00:00Z"]);
    const goneUser = await c.query(`SELECT id FROM identity.users WHERE tenant_id = $1 LIMIT 1`, [gone.tenant_id]);
    await c.query(BENCH_FUNCTION);
    return { tenantId: live.tenant_id, goneTenantId: gone.tenant_id, userIds: users.rows.map((r) => r.id), goneUserId: goneUser.rows[0].id };
  } finally {
    await c.end();
  }
}

// ---- measurement ---------------------------------------------------------------

// The Postgres backends serving this database (other processes' too, if any run here).
async function backendPids(admin, dbName) {
  const { rows } = await admin.query(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`, [dbName]);
  return rows.map((r) => r.pid);
}
function cpuNs(pid) {
  try {
    return Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    return 0; // ended or not readable
  }
}

async function runLoop(fn, n, concurrency) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

async function measure(ctx, v, n, concurrency) {
  const { db, close } = ctx.open(v.uses);
  try {
    const fn = (i) => v.run(db, i);
    // Fills the pool and the caches (plans, prepared statements) before the backends are listed.
    await runLoop(fn, WARMUP, CONCURRENCY);
    const before = new Map((await backendPids(ctx.admin, ctx.dbName)).map((pid) => [pid, cpuNs(pid)]));
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await runLoop(fn, n, concurrency);
    const cpu = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    let dbNs = 0;
    for (const pid of await backendPids(ctx.admin, ctx.dbName)) dbNs += cpuNs(pid) - (before.get(pid) ?? 0);
    return { cpuUs: (cpu.user + cpu.system) / n, dbUs: dbNs / 1000 / n, qps: n / (wall / 1000) };
  } finally {
    await close();
  }
}

// Counts (and keeps) the statements pg sends during one call of `fn`.
async function statementsOf(fn) {
  const original = pg.Client.prototype.query;
  const sent = [];
  pg.Client.prototype.query = function (config, ...rest) {
    sent.push(typeof config === "string" ? config : config.text);
    return original.call(this, config, ...rest);
  };
  try {
    await fn(0);
  } finally {
    pg.Client.prototype.query = original;
  }
  return sent;
}

// ---- variants --------------------------------------------------------------------

function variants(data) {
  const { tenantId } = data;
  const userId = (i) => data.userIds[i % data.userIds.length];
  const subject = (i) => `sub-${(i % USERS) + 1}`;
  const userLiveTyped = makeTypedQueryFactory(USER_LIVE); // what `prisma generate --sql` emits for it
  const liveWhere = (i) => ({ id: userId(i), tenantId, tenant: { deletedAt: null } });
  const oidcArgs = (i) => ({
    where: { oidcIssuer: ISSUER, oidcSubject: subject(i), tenant: { deletedAt: null } },
    include: { tenant: true },
    orderBy: [{ createdAt: "asc" }, { id: "asc" }],
  });
  const pgTx = async (client, i) => {
    await client.query("BEGIN");
    try {
      await client.query({ name: "set_tenant", text: SET_TENANT, values: [tenantId] });
      const { rows } = await client.query({ name: "user_live", text: USER_LIVE, values: [userId(i), tenantId] });
      await client.query("COMMIT");
      return rows;
    } catch (e) {
      await client.query("ROLLBACK");
      throw e;
    }
  };
  // Only because both values are checked to be UUIDs can they be inlined as literals.
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const literal = (v) => {
    if (!UUID.test(v)) throw new Error("not a uuid");
    return `'${v}'`;
  };
  // The prepared set_config is bound and executed in the query's pipeline: pg.Client#query sees only the query.
  const tenantReader = { stmts: "2 in 1", pipelined: [SET_TENANT], uses: "tenantReader", run: async (db, i) => first((await db.query(tenantId, USER_LIVE, [userId(i), tenantId])).map(toUser)) };
  return [
    // a) user by id + tenant liveness; platform pool (outside a transaction only the platform scope sees rows).
    { group: "a", name: "Prisma findFirst, relation filter", uses: "platform", run: (db, i) => db.user.findFirst({ where: liveWhere(i) }) },
    { group: "a", name: "Prisma findFirst, named statements", uses: "prismaNamed", run: (db, i) => db.user.findFirst({ where: liveWhere(i) }) },
    { group: "a", name: "Prisma $queryRaw", uses: "platform", run: async (db, i) => first((await db.$queryRaw`SELECT u.* FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id AND t.deleted_at IS NULL WHERE u.id = ${userId(i)} AND u.tenant_id = ${tenantId}`).map(toUser)) },
    { group: "a", name: "Prisma TypedSQL ($queryRawTyped)", uses: "platformTyped", run: async (db, i) => first((await db.$queryRawTyped(userLiveTyped(userId(i), tenantId))).map(toUser)) },
    { group: "a", name: "pg pool.query, unnamed", uses: "platformPool", run: async (db, i) => first((await db.query(USER_LIVE, [userId(i), tenantId])).rows.map(toUser)) },
    { group: "a", name: "pg pool.query, named (prepared)", uses: "platformPool", run: async (db, i) => first((await db.query({ name: "user_live", text: USER_LIVE, values: [userId(i), tenantId] })).rows.map(toUser)) },
    // Not on the platform pool: TenantReader always reads as the tenant (RLS), so this row is the (b) TenantReader row again, beside (a)'s.
    { group: "a", name: "TenantReader (as the tenant, RLS)", ...tenantReader },
    // b) the same as the tenant (row-level security), app pool.
    { group: "b", name: "Prisma withTenant + findFirst", uses: "prisma", run: (db, i) => withTenant(db, tenantId, (tx) => tx.user.findFirst({ where: liveWhere(i) })) },
    { group: "b", name: "Prisma withTenant + $queryRaw", uses: "prisma", run: (db, i) => withTenant(db, tenantId, async (tx) => first((await tx.$queryRaw`SELECT u.* FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id AND t.deleted_at IS NULL WHERE u.id = ${userId(i)} AND u.tenant_id = ${tenantId}`).map(toUser))) },
    { group: "b", name: "Prisma $queryRaw of the SQL function", uses: "prisma", run: async (db, i) => first((await db.$queryRaw`SELECT * FROM identity.bench_user_live(${tenantId}::uuid, ${userId(i)}::uuid)`).map(toUser)) },
    {
      group: "b",
      name: "pg client, BEGIN/set_config/select/COMMIT",
      uses: "appPool",
      run: async (db, i) => {
        const client = await db.connect();
        try {
          return first((await pgTx(client, i)).map(toUser));
        } finally {
          client.release();
        }
      },
    },
    { group: "b", name: "pg, one statement: SQL function (named)", uses: "appPool", run: async (db, i) => first((await db.query({ name: "user_live_fn", text: USER_LIVE_FN, values: [tenantId, userId(i)] })).rows.map(toUser)) },
    {
      group: "b",
      name: "pg, one round trip: 4 statements, uuid literals",
      stmts: "4 in 1",
      uses: "appPool",
      run: async (db, i) => {
        const t = literal(tenantId);
        const results = await db.query(
          `BEGIN; SELECT set_config('app.tenant_id', ${t}, true), set_config('app.scope', '', true); SELECT u.* FROM identity.users u JOIN identity.tenants t ON t.id = u.tenant_id AND t.deleted_at IS NULL WHERE u.id = ${literal(userId(i))} AND u.tenant_id = ${t}; COMMIT`,
        );
        return first(results[2].rows.map(toUser));
      },
    },
    { group: "b", name: "TenantReader, one round trip, named statements", ...tenantReader },
    // c) OIDC subject resolution, oldest live membership first; platform pool.
    { group: "c", name: "Prisma findFirst + include tenant", uses: "platform", run: (db, i) => db.user.findFirst(oidcArgs(i)) },
    { group: "c", name: "Prisma findFirst + include, named stmts", uses: "prismaNamed", run: (db, i) => db.user.findFirst(oidcArgs(i)) },
    { group: "c", name: "Prisma $queryRaw (one join)", uses: "platform", run: async (db, i) => first((await db.$queryRawUnsafe(OIDC, ISSUER, subject(i))).map(toUserAndTenant)) },
    { group: "c", name: "pg pool.query, unnamed", uses: "platformPool", run: async (db, i) => first((await db.query(OIDC, [ISSUER, subject(i)])).rows.map(toUserAndTenant)) },
    { group: "c", name: "pg pool.query, named (prepared)", uses: "platformPool", run: async (db, i) => first((await db.query({ name: "oidc", text: OIDC, values: [ISSUER, subject(i)] })).rows.map(toUserAndTenant)) },
  ];
}

// Every variant must return the expected row before it is timed.
function check(v, result, data) {
  const user = result?.user ?? result;
  const ok = user && user.tenantId === data.tenantId && (v.group === "c" ? result.tenant?.slug === "bench-live" && user.oidcSubject === "sub-1" : user.id === data.userIds[0]);
  if (!ok) throw new Error(`${v.group}) ${v.name}: unexpected result ${JSON.stringify(result)}`);
}

// The one-statement function: RLS applies, and the tenant does not outlive the statement.
async function checkFunction(appPool, data) {
  const c = await appPool.connect();
  try {
    const own = await c.query(USER_LIVE_FN, [data.tenantId, data.userIds[0]]);
    const other = await c.query(USER_LIVE_FN, [data.tenantId, data.goneUserId]);
    // The function's WHERE names the tenant too; that RLS holds on its own is shown by the plain select after it.
    const after = await c.query(`SELECT current_setting('app.tenant_id', true) AS t, (SELECT count(*) FROM identity.users)::int AS visible`);
    const { t, visible } = after.rows[0];
    const ok = own.rowCount === 1 && other.rowCount === 0 && (t ?? "") === "" && visible === 0;
    console.log(`SQL function check: own row ${own.rowCount}, another tenant's ${other.rowCount}, app.tenant_id afterwards ${JSON.stringify(t)}, rows visible afterwards ${visible} → ${ok ? "ok" : "FAILED"}`);
    if (!ok) throw new Error("the SQL function leaked its tenant or bypassed row-level security");
  } finally {
    c.release();
  }
}

// TenantReader: RLS holds inside its round trip (another tenant's row, an unfiltered count), and the
// tenant does not outlive it on the connection.
async function checkTenantReader(appUrl, data) {
  const reader = new TenantReader({ databaseUrl: appUrl, max: 1 });
  try {
    const own = await reader.query(data.tenantId, USER_LIVE, [data.userIds[0], data.tenantId]);
    // No tenant filter and no join in the SQL: only the policy keeps these rows out.
    const byId = `SELECT u.* FROM identity.users u WHERE u.id = $1`;
    const other = await reader.query(data.tenantId, byId, [data.goneUserId]);
    const ownAsOther = await reader.query(data.goneTenantId, byId, [data.userIds[0]]);
    const [{ n }] = await reader.query(data.tenantId, `SELECT count(*)::int AS n FROM identity.users`);
    // The reader's one connection, outside its pipeline (the pool is private in TypeScript only).
    const after = await reader.pool.query(`SELECT current_setting('app.tenant_id', true) AS t, (SELECT count(*) FROM identity.users)::int AS visible`);
    const { t, visible } = after.rows[0];
    const ok = own.length === 1 && own[0].id === data.userIds[0] && other.length === 0 && ownAsOther.length === 0 && n === USERS && (t ?? "") === "" && visible === 0;
    console.log(
      `TenantReader check: own row ${own.length}, another tenant's ${other.length}, own row read as another tenant ${ownAsOther.length}, users visible ${n} of ${USERS * 2}, app.tenant_id afterwards ${JSON.stringify(t)}, rows visible afterwards ${visible} → ${ok ? "ok" : "FAILED"}`,
    );
    if (!ok) throw new Error("TenantReader leaked its tenant or bypassed row-level security");
  } finally {
    await reader.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const db = await createTestDatabase({ prefix: "prismapg" });
  const closers = [];
  try {
    await deployMigrations({ databaseUrl: db.url, schema: SCHEMA, migrationsDir: path.join(root, "svc-identity/prisma/migrations") });
    const data = await seed(db.url);
    const appUrl = db.urlAs("apgms_identity_app");
    const platformUrl = platformDatabaseUrl(appUrl);
    const { PrismaPg } = require("@prisma/adapter-pg");
    const { PrismaClient } = require(path.join(root, "svc-identity/dist/src/generated/prisma/client.js"));
    const names = new Map();
    const statementNameGenerator = ({ sql }) => names.get(sql) ?? names.set(sql, `prisma_${names.size}`).get(sql);
    const prismaClient = (db) => ({ db, close: () => db.$disconnect() });
    const pgPool = (connectionString) => {
      const db = new pg.Pool({ connectionString, max: CONCURRENCY });
      return { db, close: () => db.end() };
    };
    // One client at a time (the server's connection slots are shared with whatever else runs here).
    const clients = {
      // svc-identity's own clients: row-level security per transaction, and the platform pool.
      prisma: () => prismaClient(createPrisma({ databaseUrl: appUrl, schema: SCHEMA, maxConnections: CONCURRENCY })),
      platform: () => prismaClient(createPrisma({ databaseUrl: appUrl, schema: SCHEMA, maxConnections: CONCURRENCY, scope: "platform" })),
      // The platform client with adapter-pg's statementNameGenerator: pg prepares each distinct SQL once per connection.
      prismaNamed: () => prismaClient(new PrismaClient({ adapter: new PrismaPg({ connectionString: platformUrl, max: CONCURRENCY }, { schema: SCHEMA, statementNameGenerator }) })),
      // svc-identity's client is generated without the typedSql preview flag, which only gates
      // $queryRawTyped; Prisma's internal config hook turns it on for this client.
      platformTyped: () =>
        prismaClient(
          new PrismaClient({
            adapter: new PrismaPg({ connectionString: platformUrl, max: CONCURRENCY }, { schema: SCHEMA }),
            __internal: { configOverride: (config) => ({ ...config, previewFeatures: [...(config.previewFeatures ?? []), "typedSql"] }) },
          }),
        ),
      appPool: () => pgPool(appUrl),
      tenantReader: () => {
        const db = new TenantReader({ databaseUrl: appUrl, max: CONCURRENCY });
        return { db, close: () => db.close() };
      },
      platformPool: () => pgPool(platformUrl),
    };
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    closers.push(() => admin.end());
    const ctx = { admin, dbName: db.name, open: (kind) => clients[kind]() };

    const app = ctx.open("appPool");
    await checkFunction(app.db, data).finally(app.close);
    await checkTenantReader(appUrl, data);
    const list = variants(data);
    for (const v of list) {
      const { db: client, close } = ctx.open(v.uses);
      try {
        const run = (i) => v.run(client, i);
        check(v, await run(0), data);
        v.sql = [...(v.pipelined ?? []), ...(await statementsOf(run))];
      } finally {
        await close();
      }
      if (opts["show-sql"]) console.log(`\n${v.group}) ${v.name}:\n  ${v.sql.map((s) => s.replace(/\s+/g, " ")).join("\n  ")}`);
      v.results = { seq: [], conc: [] };
    }

    for (let round = 1; round <= ROUNDS; round++) {
      process.stderr.write(`round ${round}/${ROUNDS}\n`);
      for (const v of list) {
        v.results.seq.push(await measure(ctx, v, N, 1));
        v.results.conc.push(await measure(ctx, v, N, CONCURRENCY));
      }
    }

    const fmt = (x, d = 0) => x.toFixed(d).padStart(6);
    const pick = (rs, k) => median(rs.map((r) => r[k]));
    console.log(`\n${new Date().toISOString().slice(0, 10)}, node ${process.version}, N=${N} per run, medians of ${ROUNDS} rounds; CPU = µs per query (Node process | Postgres backends)`);
    console.log(`| | variant | stmts | seq: Node CPU | seq: PG CPU | seq: q/s | ${CONCURRENCY} in flight: Node CPU | PG CPU | q/s |`);
    console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (const v of list) {
      const { seq, conc } = v.results;
      console.log(
        `| ${v.group} | ${v.name} | ${v.stmts ?? v.sql.length} | ${fmt(pick(seq, "cpuUs"))} | ${fmt(pick(seq, "dbUs"))} | ${fmt(pick(seq, "qps"))} | ${fmt(pick(conc, "cpuUs"))} | ${fmt(pick(conc, "dbUs"))} | ${fmt(pick(conc, "qps"))} |`,
      );
    }
  } finally {
    for (const close of closers) await close().catch(() => {});
    await db.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
