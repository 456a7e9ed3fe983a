// `make bench`: starts the real stack and a bare Yoga-on-express baseline, then
// measures them interleaved over several rounds with autocannon. Each scenario
// prints requests/s, latency and each server process's CPU time per request,
// beside the baseline measured in the same run (the machine is shared and noisy).
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
const autocannon = require("autocannon");
const { createTestDatabase } = require(path.join(root, "common/dist/src/testing/database.js"));
const { deployMigrations } = require(path.join(root, "common/dist/src/migrate/index.js"));
const { loadOrCreateSigningKey } = require(path.join(root, "bff/dist/src/dev-oidc/keys.js"));
const { mintToken } = require(path.join(root, "bff/dist/src/dev-oidc/tokens.js"));
const { generateServiceKeyPair } = require(path.join(root, "common/dist/src/service-token-keys.js"));

const { values: opts } = parseArgs({
  options: {
    rounds: { type: "string", default: process.env.BENCH_ROUNDS ?? "3" },
    seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "8" },
    connections: { type: "string", default: process.env.BENCH_CONNECTIONS ?? "50" },
  },
});
const ROUNDS = Number(opts.rounds);
const SECONDS = Number(opts.seconds);
const CONNECTIONS = Number(opts.connections);
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

const children = [];
const cleanups = [];
async function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)));
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
}
process.on("SIGINT", () => cleanup().then(() => process.exit(130)));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// BENCH_PROFILE_DIR=<dir>: every server writes a V8 CPU profile there when it stops (node --cpu-prof).
const profileArgs = (name) => (process.env.BENCH_PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`, `--cpu-prof-name=${name}.cpuprofile`] : []);

function start(name, file, env) {
  const child = spawn(process.execPath, [...profileArgs(name), file], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  child.stdout.on("data", () => {});
  child.once("exit", (code) => {
    if (code && code !== 0 && !stopping) console.error(`[bench] ${name} exited with ${code}`);
  });
  children.push(child);
  return child;
}

async function waitHttp(url, ok = (r) => r.ok) {
  for (let i = 0; i < 200; i++) {
    try {
      if (ok(await fetch(url))) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

let stopping = false;
const query = JSON.stringify({ query: "{ me { user { id email displayName role } tenant { id name slug } } }" });

async function run(url, headers, seconds) {
  const result = await autocannon({
    url,
    method: "POST",
    connections: CONNECTIONS,
    duration: seconds,
    headers: { "content-type": "application/json", ...headers },
    body: query,
  });
  if (result.non2xx || result.errors) throw new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`);
  return result;
}

async function main() {
  const keyDir = mkdtempSync(path.join(tmpdir(), "apgms-bench-"));
  cleanups.push(async () => rmSync(keyDir, { recursive: true, force: true }));
  const db = await createTestDatabase({ prefix: "bench" });
  cleanups.push(() => db.drop());
  await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir: path.join(root, "svc-identity/prisma/migrations") });
  // The seed and svc-identity run as its row-level-security role, as in production.
  const appUrl = db.urlAs("apgms_identity_app");

  const [grpcPort, openGrpcPort, oidcPort, bffPort, coldPort, openPort, noisyPort, barePort] = await Promise.all(Array.from({ length: 8 }, freePort));
  const issuer = `http://127.0.0.1:${oidcPort}`;
  const redisPrefix = `apgms-bench-${randomBytes(4).toString("hex")}:`;
  // The edge signs a service token for every gRPC call; svc-identity verifies it.
  const serviceKeys = generateServiceKeyPair();

  start("oidc", path.join(root, "bff/dist/src/dev-oidc/main.js"), { NODE_ENV: "development", DEV_OIDC_PORT: String(oidcPort), DEV_OIDC_KEY_DIR: keyDir, LOG_LEVEL: "warn" });
  await waitHttp(`${issuer}/.well-known/openid-configuration`);
  execFileSync(process.execPath, [path.join(root, "svc-identity/dist/src/seed.js")], {
    env: { ...process.env, DATABASE_URL: appUrl, DEV_OIDC_ISSUER: issuer, DEMO_API_KEY_FILE: path.join(keyDir, "api-key"), LOG_LEVEL: "warn" },
    stdio: "ignore",
  });
  const identityEnv = { DATABASE_URL: appUrl, GRPC_PORT: String(grpcPort), LOG_LEVEL: "warn", PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"), SERVICE_TOKEN_PUBLIC_KEYS: serviceKeys.publicKeyPem };
  const identity = start("svc-identity", path.join(root, "svc-identity/dist/src/main.js"), identityEnv);
  // The same service connected as the database owner (a superuser bypasses row-level security):
  // the "protection off" edge's, to measure what the tenancy wall costs.
  const openIdentity = start("svc-identity-open", path.join(root, "svc-identity/dist/src/main.js"), { ...identityEnv, DATABASE_URL: db.url, GRPC_PORT: String(openGrpcPort) });
  const demo = await seedNoisyNeighbours(db.url, issuer);
  const bffEnv = {
    NODE_ENV: "production",
    LOG_LEVEL: "warn",
    HTTP_PORT: String(bffPort),
    IDENTITY_GRPC_ADDRESS: `127.0.0.1:${grpcPort}`,
    REDIS_KEY_PREFIX: redisPrefix,
    OIDC_ISSUER: issuer,
    OIDC_AUDIENCE: "apgms",
    // Rate limits stay on (every request is counted in Redis) but above what
    // 50 connections from one address and one token send in a run.
    RATE_LIMIT_IP: "100000000",
    RATE_LIMIT_PLANS: JSON.stringify({ standard: { principal: 1_000_000_000, tenant: 1_000_000_000 } }),
    SERVICE_TOKEN_PRIVATE_KEY: serviceKeys.privateKeyPem,
  };
  const bff = start("bff", path.join(root, "bff/dist/src/main.js"), bffEnv);
  // The same edge with its principal and session caches off: every request
  // resolves the user and touches the session over gRPC (the token's RS256
  // verification stays cached). Shows what the caches buy.
  const cold = start("bff-nocache", path.join(root, "bff/dist/src/main.js"), { ...bffEnv, HTTP_PORT: String(coldPort), AUTH_CACHE_SECONDS: "0" });
  // The same edge with its protection off: no rate limits, no GraphQL document limits, and a
  // svc-identity without row-level security. Service credentials have no off switch (they cost
  // ~1.6 µs per call once a token is cached): both edges pay them.
  const open = start("bff-open", path.join(root, "bff/dist/src/main.js"), {
    ...bffEnv,
    HTTP_PORT: String(openPort),
    IDENTITY_GRPC_ADDRESS: `127.0.0.1:${openGrpcPort}`,
    RATE_LIMITS_ENABLED: "false",
    GRAPHQL_LIMITS_ENABLED: "false",
  });
  // The noisy-neighbour edge: production limits as shipped (the default plan), each client
  // its own address (X-Forwarded-For from a trusted proxy), its own Redis keys.
  const { RATE_LIMIT_IP: _ip, RATE_LIMIT_PLANS: _plans, ...shipped } = bffEnv;
  const noisy = start("bff-noisy", path.join(root, "bff/dist/src/main.js"), {
    ...shipped,
    HTTP_PORT: String(noisyPort),
    TRUST_PROXY: "true",
    REDIS_KEY_PREFIX: `${redisPrefix}noisy:`,
  });
  const bare = start("bare", path.join(root, "scripts/bench/bare-yoga.cjs"), { NODE_ENV: "production", PORT: String(barePort) });
  await waitHttp(`http://127.0.0.1:${bffPort}/readyz`);
  await waitHttp(`http://127.0.0.1:${coldPort}/readyz`);
  await waitHttp(`http://127.0.0.1:${openPort}/readyz`);
  await waitHttp(`http://127.0.0.1:${noisyPort}/readyz`);
  await waitHttp(`http://127.0.0.1:${barePort}/graphql?query=%7B__typename%7D`, (r) => r.status < 500);

  const token = mintToken(loadOrCreateSigningKey(keyDir), { issuer, audience: "apgms", subject: "owner@demo.apgms.dev", email: "owner@demo.apgms.dev", ttlSeconds: 3600 });
  const apiKey = readFileSync(path.join(keyDir, "api-key"), "utf8").trim();
  const check = await fetch(`http://127.0.0.1:${bffPort}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: query });
  const body = await check.json();
  if (!body.data?.me?.user) throw new Error(`the real edge did not answer me: ${JSON.stringify(body)}`);

  const scenarios = [
    { name: "bare Yoga+express, static me", url: `http://127.0.0.1:${barePort}/graphql`, headers: {}, pids: { server: bare.pid } },
    { name: "edge me (JWT, BFF→svc-identity)", url: `http://127.0.0.1:${bffPort}/graphql`, headers: { authorization: `Bearer ${token}` }, pids: { server: bff.pid, identity: identity.pid } },
    { name: "edge me (JWT), protection off", url: `http://127.0.0.1:${openPort}/graphql`, headers: { authorization: `Bearer ${token}` }, pids: { server: open.pid, identity: openIdentity.pid } },
    { name: "edge me (API key, Redis-cached)", url: `http://127.0.0.1:${bffPort}/graphql`, headers: { "x-api-key": apiKey }, pids: { server: bff.pid, identity: identity.pid } },
    { name: "edge me, auth caches off", url: `http://127.0.0.1:${coldPort}/graphql`, headers: { authorization: `Bearer ${token}` }, pids: { server: cold.pid, identity: identity.pid } },
  ];
  console.log(`bench: ${ROUNDS} rounds x ${SECONDS} s, ${CONNECTIONS} connections, interleaved; node ${process.version}`);
  for (const s of scenarios) await run(s.url, s.headers, 2); // warm-up

  const results = new Map(scenarios.map((s) => [s.name, []]));
  for (let round = 1; round <= ROUNDS; round++) {
    for (const s of scenarios) {
      const before = Object.fromEntries(Object.entries(s.pids).map(([k, pid]) => [k, cpuTicks(pid)]));
      const r = await run(s.url, s.headers, SECONDS);
      const requests = r.requests.total;
      const cpu = Object.fromEntries(Object.entries(s.pids).map(([k, pid]) => [k, ((cpuTicks(pid) - before[k]) * 1e6) / CLK_TCK / requests]));
      const row = { rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, cpu };
      results.get(s.name).push(row);
      const cpuText = Object.entries(cpu).map(([k, v]) => `${k} ${v.toFixed(0)} µs/req`).join(", ");
      console.log(`round ${round}  ${s.name.padEnd(34)} ${row.rps.toFixed(0).padStart(6)} req/s  p50 ${row.p50} ms  p99 ${row.p99} ms  CPU ${cpuText}`);
    }
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const summary = scenarios.map((s) => {
    const rows = results.get(s.name);
    return {
      name: s.name,
      rps: median(rows.map((r) => r.rps)),
      p99: median(rows.map((r) => r.p99)),
      cpu: median(rows.map((r) => r.cpu.server)),
      identity: s.pids.identity ? median(rows.map((r) => r.cpu.identity)) : undefined,
    };
  });
  const base = summary[0];
  console.log("");
  console.log(`${"scenario".padEnd(38)} ${"median req/s".padStart(12)} ${"ratio".padStart(6)} ${"p99 ms".padStart(7)} ${"edge CPU µs/req".padStart(16)} ${"ratio".padStart(6)}  svc-identity CPU µs/req`);
  for (const r of summary) {
    console.log(
      `${r.name.padEnd(38)} ${r.rps.toFixed(0).padStart(12)} ${(r.rps / base.rps).toFixed(2).padStart(5)}x ${String(r.p99).padStart(7)} ${r.cpu.toFixed(0).padStart(16)} ${(r.cpu / base.cpu).toFixed(2).padStart(5)}x  ${r.identity === undefined ? "-" : r.identity.toFixed(0)}`,
    );
  }
  const edge = summary[1];
  const unprotected = summary[2];
  console.log(`target: the authenticated edge at >= 1.00x the bare server's requests/s: ${edge.rps / base.rps >= 1 ? "met" : "NOT met"} (${(edge.rps / base.rps).toFixed(2)}x)`);
  const kept = edge.rps / unprotected.rps;
  console.log(`target: the full protection stack at >= 0.80x the same edge unprotected: ${kept >= 0.8 ? "met" : "NOT met"} (${kept.toFixed(2)}x)`);

  await noisyNeighbour(`http://127.0.0.1:${noisyPort}/graphql`, {
    quiet: mintToken(loadOrCreateSigningKey(keyDir), { issuer, audience: "apgms", subject: demo.quietSubject, email: demo.quietSubject, ttlSeconds: 3600 }),
    flooder: mintToken(loadOrCreateSigningKey(keyDir), { issuer, audience: "apgms", subject: "viewer@demo.apgms.dev", email: "viewer@demo.apgms.dev", ttlSeconds: 3600 }),
  });
}

/**
 * Gives the demo account 200 more users (so the heaviest query the limits allow returns
 * full pages) and adds a second tenant with one user: the quiet neighbour. Written as the
 * database owner: this is fixture data, not a path under test.
 */
async function seedNoisyNeighbours(ownerUrl, issuer) {
  const { Client } = require("pg");
  const pg = new Client({ connectionString: ownerUrl });
  await pg.connect();
  try {
    await pg.query(
      `INSERT INTO identity.users (tenant_id, account_id, email, display_name, role, oidc_issuer, oidc_subject, updated_at)
       SELECT a.tenant_id, a.id, 'crowd' || n || '@demo.apgms.dev', 'Crowd ' || n, 'viewer', $1, 'crowd-' || n, now()
         FROM identity.accounts a JOIN identity.tenants t ON t.id = a.tenant_id, generate_series(1, 200) n
        WHERE t.slug = 'demo' AND a.name = 'Main'`,
      [issuer],
    );
    const quietSubject = "quiet@quiet.example";
    await pg.query(
      `WITH t AS (INSERT INTO identity.tenants (name, slug, updated_at) VALUES ('Quiet Co', 'quiet', now()) RETURNING id),
            a AS (INSERT INTO identity.accounts (tenant_id, name, updated_at) SELECT id, 'Main', now() FROM t RETURNING id, tenant_id)
       INSERT INTO identity.users (tenant_id, account_id, email, display_name, role, oidc_issuer, oidc_subject, updated_at)
       SELECT tenant_id, id, $2, 'Quiet', 'owner', $1, $2, now() FROM a`,
      [issuer, quietSubject],
    );
    return { quietSubject };
  } finally {
    await pg.end();
  }
}

// The heaviest document the default limits admit: depth 7, two nested pages of 57 through a
// variable (1 + 3n + 3n² = 9,919 nodes, just under GRAPHQL_MAX_NODES = 10,000): 3,249 rows.
const HEAVY = JSON.stringify({
  query: "query($n: Int) { users(first: $n) { nodes { account { users(first: $n) { nodes { account { name } } } } } } }",
  variables: { n: 57 },
});

/**
 * Tenant "quiet" asks for `me` at a steady 50 req/s from its own address, alone and then while
 * a viewer of tenant demo floods the heaviest allowed query over 20 connections from another
 * address. The quiet tenant must see no error and a p99 within 2x of its p99 alone.
 */
async function noisyNeighbour(url, tokens) {
  const quiet = (seconds) =>
    autocannon({
      url,
      method: "POST",
      connections: 5,
      overallRate: 50,
      duration: seconds,
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.quiet}`, "x-forwarded-for": "198.51.100.10" },
      body: query,
    });
  const flood = (seconds) =>
    autocannon({
      url,
      method: "POST",
      connections: 20,
      duration: seconds,
      headers: { "content-type": "application/json", authorization: `Bearer ${tokens.flooder}`, "x-forwarded-for": "203.0.113.66" },
      body: HEAVY,
    });
  const seconds = SECONDS + 2;
  await quiet(2);
  const rows = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const alone = await quiet(seconds);
    const [together, flooded] = await Promise.all([quiet(seconds), flood(seconds)]);
    rows.push({ alone, together, flooded });
    console.log(
      `noisy ${round}  quiet alone p99 ${alone.latency.p99} ms (${alone.non2xx + alone.errors} errors)  ` +
        `with the flood p99 ${together.latency.p99} ms (${together.non2xx + together.errors} errors)  ` +
        `flood: ${flooded.requests.total} requests, ${flooded["2xx"]} answered 2xx, ${flooded.non2xx} refused`,
    );
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const alone = median(rows.map((r) => r.alone.latency.p99));
  const together = median(rows.map((r) => r.together.latency.p99));
  const errors = rows.reduce((n, r) => n + r.alone.non2xx + r.alone.errors + r.together.non2xx + r.together.errors, 0);
  const ratio = together / alone;
  console.log(
    `target: the quiet tenant's p99 under a flood within 2x of alone, no error: ${ratio <= 2 && errors === 0 ? "met" : "NOT met"} ` +
      `(median p99 ${together} ms vs ${alone} ms = ${ratio.toFixed(2)}x, ${errors} errors)`,
  );
}

main()
  .then(async () => {
    stopping = true;
    await cleanup();
  })
  .catch(async (err) => {
    stopping = true;
    console.error(err);
    await cleanup();
    process.exit(1);
  });
