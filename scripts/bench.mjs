// `make bench`: starts the real stack and bare baselines, then measures them
// interleaved over several rounds with autocannon. Each scenario prints
// requests/s, latency and each server process's CPU time per request, beside
// its baseline measured in the same run (the machine is shared and noisy).
//
// BENCH_ONLY=<substring> (or --only): only the scenarios whose name contains it,
// with the baselines they need, and only the processes those use.
// --scenarios: list the scenarios' names and stop.
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { cleanup, cpuMicros, freePort, load, onCleanup, require, root, start, waitHttp } from "./bench/harness.mjs";
import { NOISY_NEIGHBOUR, noisyNeighbour, seedNoisyNeighbours } from "./bench/noisy-neighbour.mjs";
import { printSummary, printTargets, summarize } from "./bench/report.mjs";
import { benchInsights, INSIGHTS } from "./bench/insights.mjs";
import { listScenarios, ME, selectScenarios } from "./bench/scenarios.mjs";

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: process.env.BENCH_ROUNDS ?? "3" },
    seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "8" },
    connections: { type: "string", default: process.env.BENCH_CONNECTIONS ?? "50" },
    only: { type: "string", default: process.env.BENCH_ONLY ?? "" },
    scenarios: { type: "boolean", default: false },
  },
});
const ROUNDS = Number(opts.rounds);
const SECONDS = Number(opts.seconds);
const CONNECTIONS = Number(opts.connections);
const UPSTREAM_CALLS = "x-apgms-upstream-calls";

process.on("SIGINT", () => cleanup().then(() => process.exit(130)));

/** More than a whole run asks for in the cache-miss scenario (about 1,000 req/s here for 3 × 8 s and the warm-up). */
const COLD_USERS = 60_000;

/** The database, the OIDC issuer and the fixtures every process reads. */
async function setUp() {
  const { createTestDatabase } = require(path.join(root, "common/dist/src/testing/database.js"));
  const { deployMigrations } = require(path.join(root, "common/dist/src/migrate/index.js"));
  const keyDir = mkdtempSync(path.join(tmpdir(), "apgms-bench-"));
  onCleanup(async () => rmSync(keyDir, { recursive: true, force: true }));
  const db = await createTestDatabase({ prefix: "bench" });
  onCleanup(() => db.drop());
  await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir: path.join(root, "svc-identity/prisma/migrations") });
  await deployMigrations({ databaseUrl: db.url, schema: "billing", migrationsDir: path.join(root, "svc-billing/prisma/migrations") });
  // The seed and svc-identity run as its row-level-security role, as in production.
  const appUrl = db.urlAs("apgms_identity_app");
  const oidcPort = await freePort();
  const issuer = `http://127.0.0.1:${oidcPort}`;
  start("oidc", path.join(root, "bff/dist/src/dev-oidc/main.js"), { NODE_ENV: "development", DEV_OIDC_PORT: String(oidcPort), DEV_OIDC_KEY_DIR: keyDir, LOG_LEVEL: "warn" });
  await waitHttp(`${issuer}/.well-known/openid-configuration`);
  execFileSync(process.execPath, [path.join(root, "svc-identity/dist/src/seed.js")], {
    env: { ...process.env, DATABASE_URL: appUrl, DEV_OIDC_ISSUER: issuer, DEMO_API_KEY_FILE: path.join(keyDir, "api-key"), LOG_LEVEL: "warn" },
    stdio: "ignore",
  });
  const demo = await seedNoisyNeighbours(db.url, issuer);
  const { Client } = require("pg");
  const pg = new Client({ connectionString: db.url });
  await pg.connect();
  // A demo user other than the caller: `user(id)` must not be answerable from the caller's principal.
  const { rows } = await pg.query("SELECT id FROM identity.users WHERE email = 'analyst@demo.apgms.dev'");
  // Users nobody reads before the cache-miss scenario asks for each once (a new id per request).
  const cold = await pg.query(
    `INSERT INTO identity.users (tenant_id, account_id, email, display_name, role, oidc_issuer, oidc_subject, updated_at)
     SELECT a.tenant_id, a.id, 'cold' || n || '@demo.apgms.dev', 'Cold ' || n, 'viewer', $1, 'cold-' || n, now()
       FROM identity.accounts a JOIN identity.tenants t ON t.id = a.tenant_id, generate_series(1, $2::int) n
      WHERE t.slug = 'demo' AND a.name = 'Main'
     RETURNING id`,
    [issuer, COLD_USERS],
  );
  // Billing (issue 8): the demo catalog, and an active campaign whose offer has no limit, for the redemption scenarios.
  const tenant = await pg.query("SELECT id FROM identity.tenants WHERE slug = 'demo'");
  const demoTenantId = tenant.rows[0].id;
  execFileSync(process.execPath, [path.join(root, "svc-billing/dist/src/seed.js")], {
    env: { ...process.env, DATABASE_URL: db.urlAs("apgms_billing_app"), DEMO_TENANT_ID: demoTenantId, LOG_LEVEL: "warn" },
    stdio: "ignore",
  });
  // Eight active campaigns with one unlimited offer each for the end-to-end scenarios, and eight more for the baselines: a
  // redemption locks its campaign's row until it commits, so the end-to-end scenario spreads over them as a tenant's traffic
  // would (and so does its baseline); "one campaign" shows a single hot campaign's ceiling (docs/scaling.md, "Hot rows").
  const bench = await pg.query(
    `WITH c AS (INSERT INTO billing.campaigns (tenant_id, id, name, state, currency)
                SELECT $1, gen_random_uuid(), 'Bench ' || n, 'active', 'EUR' FROM generate_series(1, 16) n RETURNING id)
     INSERT INTO billing.offers (tenant_id, id, campaign_id, name, value_kind, amount_off_minor, code_kind)
     SELECT $1, gen_random_uuid(), c.id, 'Bench 1 EUR', 'amount', 100, 'none' FROM c RETURNING id, campaign_id`,
    [demoTenantId],
  );
  // Statistics as autovacuum would have them by now: the planner must know the tables' sizes.
  await pg.query("ANALYZE");
  await pg.end();
  return {
    db,
    appUrl,
    keyDir,
    issuer,
    quietSubject: demo.quietSubject,
    userId: rows[0].id,
    coldIds: cold.rows.map((r) => r.id),
    demoTenantId,
    benchOfferId: bench.rows[0].id,
    benchOfferIds: bench.rows.slice(0, 8).map((r) => r.id),
    benchCampaignId: bench.rows[0].campaign_id,
    // The baselines write under campaigns of their own: their row locks never meet a redemption's.
    baselineTargets: bench.rows.slice(8, 16).map((r) => ({ campaignId: r.campaign_id, offerId: r.id })),
  };
}

/** Every server the scenarios may use, by key; `needs` are started with it. */
async function processSpecs({ db, appUrl, issuer, demoTenantId, baselineTargets }) {
  const port = async () => String(await freePort());
  const [grpc, openGrpc, coldGrpc, bareGrpc, billingGrpc] = await Promise.all([port(), port(), port(), port(), port()]);
  const redisPrefix = `apgms-bench-${randomBytes(4).toString("hex")}:`;
  // The edge signs a service token for every gRPC call; svc-identity verifies it.
  const { generateServiceKeyPair } = require(path.join(root, "common/dist/src/service-token-keys.js"));
  const serviceKeys = generateServiceKeyPair();
  const identityFile = path.join(root, "svc-identity/dist/src/main.js");
  const bffFile = path.join(root, "bff/dist/src/main.js");
  const billingFile = path.join(root, "svc-billing/dist/src/main.js");
  const [barePgPort, barePgOnePort, barePgInsertPort] = await Promise.all([port(), port(), port()]);
  const barePg = (name, portNumber, env) => ({
    name,
    file: path.join(root, "scripts/bench/bare-pg-redeem.cjs"),
    env: { DATABASE_URL: db.url, TENANT_ID: demoTenantId, PORT: portNumber, ...env },
    url: `http://127.0.0.1:${portNumber}/graphql`,
    ready: (child) => child.readyLine("listening"),
  });
  const billingNatsPrefix = `bench-${randomBytes(4).toString("hex")}`;
  onCleanup(() => require(path.join(root, "common/dist/src/testing/nats.js")).deleteTestStreams(billingNatsPrefix).catch(() => {}));
  const identityEnv = {
    DATABASE_URL: appUrl,
    GRPC_PORT: grpc,
    LOG_LEVEL: "warn",
    PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
    SERVICE_TOKEN_PUBLIC_KEYS: serviceKeys.publicKeyPem,
    REDIS_KEY_PREFIX: `${redisPrefix}identity:`,
  };
  const bffEnv = {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    IDENTITY_GRPC_ADDRESS: `127.0.0.1:${grpc}`,
    BILLING_GRPC_ADDRESS: `127.0.0.1:${billingGrpc}`,
    REDIS_KEY_PREFIX: redisPrefix,
    OIDC_ISSUER: issuer,
    OIDC_AUDIENCE: "apgms",
    // Rate limits stay on (every request is counted in Redis) but above what
    // 50 connections from one address and one token send in a run.
    RATE_LIMIT_IP: "100000000",
    RATE_LIMIT_PLANS: JSON.stringify({ standard: { principal: 1_000_000_000, tenant: 1_000_000_000 } }),
    SERVICE_TOKEN_PRIVATE_KEY: serviceKeys.privateKeyPem,
    // Each answer says how many gRPC calls it made (x-apgms-upstream-calls).
    UPSTREAM_CALLS_HEADER: "true",
  };
  const edge = async (name, env, needs, base = bffEnv) => {
    const httpPort = await port();
    return { name, file: bffFile, env: { ...base, HTTP_PORT: httpPort, ...env }, needs, real: true, url: `http://127.0.0.1:${httpPort}/graphql`, ready: () => waitHttp(`http://127.0.0.1:${httpPort}/readyz`) };
  };
  const yoga = async (name, file, env, needs) => {
    const httpPort = await port();
    return { name, file: path.join(root, file), env: { NODE_ENV: "production", PORT: httpPort, ...env }, needs, url: `http://127.0.0.1:${httpPort}/graphql`, ready: (child) => child.readyLine("listening") };
  };
  const { RATE_LIMIT_IP: _ip, RATE_LIMIT_PLANS: _plans, ...shipped } = bffEnv;
  return {
    identity: { name: "svc-identity", file: identityFile, env: identityEnv },
    // The same service connected as the database owner (a superuser bypasses row-level security):
    // the "protection off" edge's, to measure what the tenancy wall costs.
    identityOpen: { name: "svc-identity-open", file: identityFile, env: { ...identityEnv, DATABASE_URL: db.url, GRPC_PORT: openGrpc, REDIS_KEY_PREFIX: `${redisPrefix}identity-open:` } },
    // The same service with its read cache off: every GetUser reads Postgres.
    identityCold: { name: "svc-identity-cold", file: identityFile, env: { ...identityEnv, GRPC_PORT: coldGrpc, READ_CACHE_ENABLED: "false", REDIS_KEY_PREFIX: `${redisPrefix}identity-cold:` } },
    // svc-billing as in production: its role, its cache, its outbox relayed to NATS (a prefix of the run's own).
    billing: {
      name: "svc-billing",
      file: billingFile,
      env: {
        DATABASE_URL: db.urlAs("apgms_billing_app"),
        GRPC_PORT: billingGrpc,
        LOG_LEVEL: "warn",
        PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
        SERVICE_TOKEN_PUBLIC_KEYS: serviceKeys.publicKeyPem,
        REDIS_KEY_PREFIX: `${redisPrefix}billing:`,
        NATS_PREFIX: billingNatsPrefix,
      },
    },
    bff: await edge("bff", {}, ["identity", "billing"]),
    // The rows a redemption writes, one raw SQL statement each through pg, behind bare node:http: over eight
    // campaigns like "edge redeem", and on one like "edge redeem, one campaign". And only the transaction row,
    // one INSERT each: a stricter reference (scripts/bench/bare-pg-redeem.cjs).
    barePgRows: barePg("bare-pg-rows", barePgPort, { MODE: "rows", TARGETS: JSON.stringify(baselineTargets) }),
    barePgRowsOne: barePg("bare-pg-rows-one", barePgOnePort, { MODE: "rows", TARGETS: JSON.stringify(baselineTargets.slice(0, 1)) }),
    barePgInsert: barePg("bare-pg-insert", barePgInsertPort, { MODE: "insert", TARGETS: JSON.stringify(baselineTargets.slice(1, 2)) }),
    // The same edge with its principal and session caches off: every request
    // resolves the user and touches the session over gRPC (the token's RS256
    // verification stays cached). Shows what the caches buy.
    bffNoAuthCache: await edge("bff-nocache", { AUTH_CACHE_SECONDS: "0" }, ["identity"]),
    // The same edge with its protection off: no rate limits, no GraphQL document limits, and a
    // svc-identity without row-level security. Service credentials have no off switch (they cost
    // ~1.6 µs per call once a token is cached): both edges pay them.
    bffOpen: await edge("bff-open", { IDENTITY_GRPC_ADDRESS: `127.0.0.1:${openGrpc}`, RATE_LIMITS_ENABLED: "false", GRAPHQL_LIMITS_ENABLED: "false" }, ["identityOpen"]),
    // The protected edge in front of the svc-identity whose read cache is off.
    bffCold: await edge("bff-cold", { IDENTITY_GRPC_ADDRESS: `127.0.0.1:${coldGrpc}` }, ["identityCold"]),
    // The noisy-neighbour edge: production limits as shipped (the default plan), each client
    // its own address (X-Forwarded-For from a trusted proxy), its own Redis keys.
    bffNoisy: await edge("bff-noisy", { TRUST_PROXY: "true", REDIS_KEY_PREFIX: `${redisPrefix}noisy:` }, ["identity"], shipped),
    bare: await yoga("bare", "scripts/bench/bare-yoga.cjs", {}),
    // The demo tenant's rows, loaded once from the bench database.
    bareGrpcService: { name: "bare-grpc-service", file: path.join(root, "scripts/bench/bare-grpc-service.cjs"), env: { DATABASE_URL: db.url, GRPC_PORT: bareGrpc }, ready: (child) => child.readyLine("listening") },
    bareGrpcYoga: await yoga("bare-grpc-yoga", "scripts/bench/bare-grpc-yoga.cjs", { GRPC_ADDRESS: `127.0.0.1:${bareGrpc}` }, ["bareGrpcService"]),
  };
}

/** Starts the processes `keys` name and what they need; resolves key → child once all are ready. */
async function startAll(specs, keys) {
  const wanted = new Set();
  const add = (k) => {
    if (wanted.has(k)) return;
    wanted.add(k);
    for (const n of specs[k].needs ?? []) add(n);
  };
  keys.forEach(add);
  const running = new Map([...wanted].map((k) => [k, start(specs[k].name, specs[k].file, specs[k].env)]));
  await Promise.all([...running].map(([k, child]) => specs[k].ready?.(child)));
  return running;
}

/** One request as the scenario sends it: its answer must be 200 with data that passes `check`, and no error. */
async function firstAnswer(s) {
  const res = await fetch(s.url, { method: "POST", headers: { "content-type": "application/json", ...s.headers }, body: s.body });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {}
  if (res.status !== 200 || !json?.data || json.errors || !s.check(json.data)) throw new Error(`HTTP ${res.status}: ${text.slice(0, 300)}`);
  return text;
}

/** How many gRPC calls the edge says each of a few requests made (null: it sent no header). */
async function upstreamCalls(s) {
  const counts = [];
  for (let i = 0; i < 4; i++) {
    const res = await fetch(s.url, { method: "POST", headers: { "content-type": "application/json", ...s.headers }, body: s.body });
    await res.text();
    const value = res.headers.get(UPSTREAM_CALLS);
    if (i > 0) counts.push(value === null ? null : Number(value)); // the first may refresh an expired auth cache
  }
  return counts;
}

async function main() {
  if (opts.scenarios) return listScenarios();
  const began = Date.now();
  const { scenarios: chosen, noisyNeighbour: withNoisy } = selectScenarios(opts.only);
  const withInsights = !opts.only || INSIGHTS.includes(opts.only);
  if (chosen.length === 0 && !withNoisy && !withInsights) throw new Error(`no scenario's name contains "${opts.only}" (see --scenarios)`);
  if (chosen.length === 0 && !withNoisy) {
    await benchInsights({ rounds: ROUNDS, seconds: SECONDS });
    console.log(`bench: done in ${((Date.now() - began) / 1000).toFixed(0)} s (only ${INSIGHTS})`);
    return;
  }

  const fixtures = await setUp();
  const specs = await processSpecs(fixtures);
  const running = await startAll(specs, [...chosen.flatMap((s) => [s.edge, s.service].filter(Boolean)), ...(withNoisy ? ["bffNoisy"] : [])]);

  const { loadOrCreateSigningKey } = require(path.join(root, "bff/dist/src/dev-oidc/keys.js"));
  const { mintToken } = require(path.join(root, "bff/dist/src/dev-oidc/tokens.js"));
  const tokenFor = (subject) => mintToken(loadOrCreateSigningKey(fixtures.keyDir), { issuer: fixtures.issuer, audience: "apgms", subject, email: subject, ttlSeconds: 3600 });
  const auth = {
    jwt: { authorization: `Bearer ${tokenFor("owner@demo.apgms.dev")}` },
    apiKey: { "x-api-key": readFileSync(path.join(fixtures.keyDir, "api-key"), "utf8").trim() },
  };

  const failed = new Map(); // name → why
  const scenarios = [];
  for (const def of chosen) {
    const s = { ...def, url: specs[def.edge].url, headers: def.auth ? auth[def.auth] : {}, body: def.body(fixtures), real: specs[def.edge].real };
    if (def.bodies) s.nextBody = def.bodies(fixtures);
    s.pids = { edge: running.get(def.edge).pid, ...(def.service ? { service: running.get(def.service).pid } : {}) };
    s.cpuNames = [specs[def.edge].name, def.service ? specs[def.service].name : undefined];
    try {
      const first = await firstAnswer(s);
      // A scenario whose body changes per request checks each answer for errors instead of comparing it.
      if (!s.nextBody) s.expectBody = first;
      scenarios.push(s);
    } catch (err) {
      failed.set(s.name, err.message);
      console.log(`SKIPPED ${s.name}: ${err.message}`);
    }
  }

  console.log(`bench: ${ROUNDS} rounds x ${SECONDS} s, ${CONNECTIONS} connections, interleaved; node ${process.version}`);
  const calls = new Map();
  for (const s of scenarios) {
    await load({ ...s, seconds: 2, connections: CONNECTIONS }); // warm-up (and svc-identity's read cache)
    if (s.real) calls.set(s.name, await upstreamCalls(s));
  }
  for (const [name, counts] of calls) console.log(`upstream gRPC calls per request  ${name.padEnd(34)} ${counts.map((c) => c ?? "unknown").join(" ")}`);

  const results = new Map(scenarios.map((s) => [s.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of scenarios.filter((x) => !failed.has(x.name))) {
      const before = Object.fromEntries(Object.entries(s.pids).map(([k, pid]) => [k, cpuMicros(pid)]));
      const r = await load({ ...s, seconds: SECONDS, connections: CONNECTIONS });
      if (r.non2xx || r.errors || r.mismatches) {
        failed.set(s.name, `round ${round}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.mismatches} answers unlike the first`);
        console.log(`FAILED ${s.name}: ${failed.get(s.name)}`);
        continue;
      }
      const requests = r.requests.total;
      const cpu = Object.fromEntries(Object.entries(s.pids).map(([k, pid]) => [k, (cpuMicros(pid) - before[k]) / requests]));
      const row = { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpu };
      results.get(s.name).push(row);
      const cpuText = [cpu.edge, cpu.service].map((v, i) => (v === undefined ? "" : `${s.cpuNames[i]} ${v.toFixed(0)} µs/req`)).filter(Boolean).join(", ");
      console.log(`round ${round}  ${s.name.padEnd(34)} ${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  CPU ${cpuText}`);
    }
  }

  const summary = new Map(scenarios.filter((s) => !failed.has(s.name)).map((s) => [s.name, summarize(s, results.get(s.name))]));
  printSummary(summary, calls);
  printTargets(new Set(chosen.map((s) => s.name)), summary, calls);

  if (withNoisy) {
    await noisyNeighbour(specs.bffNoisy.url, {
      tokens: { quiet: tokenFor(fixtures.quietSubject), flooder: tokenFor("viewer@demo.apgms.dev") },
      query: ME,
      rounds: ROUNDS,
      seconds: SECONDS,
    });
  }
  if (withInsights) await benchInsights({ rounds: ROUNDS, seconds: SECONDS });
  const without = [withNoisy ? "" : NOISY_NEIGHBOUR, withInsights ? "" : INSIGHTS].filter(Boolean);
  console.log(`bench: done in ${((Date.now() - began) / 1000).toFixed(0)} s${without.length ? ` (without the ${without.join("; ")})` : ""}`);
  if (failed.size) {
    console.log(`bench: ${failed.size} scenario(s) failed or were skipped: ${[...failed.keys()].join("; ")}`);
    process.exitCode = 1;
  }
}

main()
  .then(cleanup)
  .catch(async (err) => {
    console.error(err);
    await cleanup();
    process.exit(1);
  });
