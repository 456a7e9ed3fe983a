#!/usr/bin/env node
// Local development orchestrator (`make dev`, after install, build, migrate
// and seed). Plain Node ESM, no dependencies.
//
// Starts, in order, each as its own child process, waiting for each to be
// ready before starting the next:
//   [oidc]      node bff/dist/src/dev-oidc/main.js   ready: GET /.well-known/openid-configuration = 200
//   [identity]  node svc-identity/dist/src/main.js   ready: gRPC port accepts TCP
//   [billing]   node svc-billing/dist/src/main.js    ready: gRPC port accepts TCP
//   [insights]  node svc-insights/dist/src/main.js   ready: gRPC port accepts TCP
//   [bff]       node bff/dist/src/main.js            ready: GET /readyz = 200
// then prints how to use it, and only then loads the demo tenant's large data
// in the background, one load after the other, with their progress as [seed]:
// DEV_SEED_TRANSACTIONS redemptions (30,000 by default), then DEV_SEED_EVENTS
// insights events (1,000,000 by default, about half a minute), so the first
// query never waits for them. Ctrl-C / SIGTERM / SIGHUP stop the children in
// reverse order (SIGTERM, then SIGKILL after DEV_STOP_GRACE_MS, 10 s) and exit
// 0; a second Ctrl-C kills at once (more SIGTERMs/SIGHUPs do not). If a child
// dies, or is not ready within DEV_READY_TIMEOUT_MS (60 s), the others are
// stopped and this exits 1.
//
// Environment (all optional): DEV_OIDC_PORT (4001), GRPC_PORT (50051), BILLING_GRPC_PORT (50052), INSIGHTS_GRPC_PORT (50053),
// HTTP_PORT (4000), DEV_OIDC_ISSUER (http://127.0.0.1:$DEV_OIDC_PORT),
// DEV_OIDC_KEY_DIR (.dev/oidc), OIDC_AUDIENCE (apgms),
// DATABASE_URL (as svc-identity's row-level-security role, apgms_identity_app),
// BILLING_DATABASE_URL (as svc-billing's, apgms_billing_app),
// INSIGHTS_DATABASE_URL (as svc-insights', apgms_insights_app),
// REDIS_URL, NATS_URL, NODE_ENV (development), DEV_SIGN_IN_USERS
// (the four demo users; empty turns GraphiQL's sign-in bar off),
// DEV_SERVICE_KEY_DIR (.dev/service-token: the Ed25519 pair the bff signs its
// gRPC service tokens with and svc-identity verifies, made on first run;
// SERVICE_TOKEN_PRIVATE_KEY / SERVICE_TOKEN_PUBLIC_KEYS override it).
import { spawn } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import readline from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const HOST = "127.0.0.1";

function intEnv(name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`[dev] ${name}=${raw} is not a valid number`);
    process.exit(1);
  }
  return n;
}

const oidcPort = intEnv("DEV_OIDC_PORT", 4001);
const grpcPort = intEnv("GRPC_PORT", 50051);
const billingPort = intEnv("BILLING_GRPC_PORT", 50052);
const insightsPort = intEnv("INSIGHTS_GRPC_PORT", 50053);
const seedTransactions = intEnv("DEV_SEED_TRANSACTIONS", 30_000);
const seedEvents = intEnv("DEV_SEED_EVENTS", 1_000_000);
const httpPort = intEnv("HTTP_PORT", 4000);
const readyTimeoutMs = intEnv("DEV_READY_TIMEOUT_MS", 60_000);
const stopGraceMs = intEnv("DEV_STOP_GRACE_MS", 10_000);
const keyDir = env.DEV_OIDC_KEY_DIR || ".dev/oidc";
const audience = env.OIDC_AUDIENCE || "apgms";
const databaseUrl = env.DATABASE_URL || "postgres://apgms_identity_app@127.0.0.1:5432/apgms_dev";
const billingDatabaseUrl = env.BILLING_DATABASE_URL || "postgres://apgms_billing_app@127.0.0.1:5432/apgms_dev";
const insightsDatabaseUrl = env.INSIGHTS_DATABASE_URL || "postgres://apgms_insights_app@127.0.0.1:5432/apgms_dev";
const redisUrl = env.REDIS_URL || "redis://127.0.0.1:6379";
const natsUrl = env.NATS_URL || "nats://127.0.0.1:4222";
const nodeEnv = env.NODE_ENV || "development";
const issuer = env.DEV_OIDC_ISSUER || `http://${HOST}:${oidcPort}`;
const graphqlUrl = `http://${HOST}:${httpPort}/graphql`;
// The users the seed creates; GraphiQL offers "sign in as" for each.
const demoUsers = ["owner", "admin", "analyst", "viewer"].map((r) => `${r}@demo.apgms.dev`);

const useColor =
  env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "" ? env.FORCE_COLOR !== "0" : Boolean(process.stdout.isTTY) && !env.NO_COLOR;
const paint = (code, s) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
const log = (msg) => console.log(`${paint("1", "[dev]")}      ${msg}`);
const logErr = (msg) => console.error(`${paint("1;31", "[dev]")}      ${msg}`);

/** The development service token key pair, generated on first run and kept out of git under .dev/. */
function serviceKeys(dir) {
  const privateFile = path.join(root, dir, "private.pem");
  const publicFile = path.join(root, dir, "public.pem");
  if (!fs.existsSync(privateFile) || !fs.existsSync(publicFile)) {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    fs.mkdirSync(path.dirname(privateFile), { recursive: true });
    fs.writeFileSync(privateFile, privateKey.export({ type: "pkcs8", format: "pem" }), { mode: 0o600 });
    fs.writeFileSync(publicFile, publicKey.export({ type: "spki", format: "pem" }));
  }
  return { privateKeyPem: fs.readFileSync(privateFile, "utf8"), publicKeyPem: fs.readFileSync(publicFile, "utf8") };
}
const devServiceKeys = serviceKeys(env.DEV_SERVICE_KEY_DIR || ".dev/service-token");

const common = { NODE_ENV: nodeEnv, DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, NATS_URL: natsUrl };

/** @type {Array<{name:string,color:string,script:string,port:number,env:Record<string,string>,what:string,ready:()=>Promise<boolean>,child?:import('node:child_process').ChildProcess,exited?:Promise<void>,done?:boolean}>} */
const services = [
  {
    name: "oidc",
    color: "35",
    script: "bff/dist/src/dev-oidc/main.js",
    port: oidcPort,
    env: { ...common, DEV_OIDC_PORT: String(oidcPort), DEV_OIDC_ISSUER: issuer, DEV_OIDC_KEY_DIR: keyDir },
    what: `http://${HOST}:${oidcPort}/.well-known/openid-configuration`,
    ready: () => httpOk(`http://${HOST}:${oidcPort}/.well-known/openid-configuration`),
  },
  {
    name: "identity",
    color: "36",
    script: "svc-identity/dist/src/main.js",
    port: grpcPort,
    // A fixed development key, so page tokens survive a restart; production sets its own.
    env: {
      ...common,
      GRPC_PORT: String(grpcPort),
      PAGE_TOKEN_SECRET: env.PAGE_TOKEN_SECRET || "development-only-page-token-key-not-secret",
      SERVICE_TOKEN_PUBLIC_KEYS: env.SERVICE_TOKEN_PUBLIC_KEYS || devServiceKeys.publicKeyPem,
    },
    what: `gRPC ${HOST}:${grpcPort}`,
    ready: () => tcpOk(HOST, grpcPort),
  },
  {
    name: "billing",
    color: "34",
    script: "svc-billing/dist/src/main.js",
    port: billingPort,
    env: {
      ...common,
      DATABASE_URL: billingDatabaseUrl,
      GRPC_PORT: String(billingPort),
      PAGE_TOKEN_SECRET: env.PAGE_TOKEN_SECRET || "development-only-page-token-key-not-secret",
      SERVICE_TOKEN_PUBLIC_KEYS: env.SERVICE_TOKEN_PUBLIC_KEYS || devServiceKeys.publicKeyPem,
    },
    what: `gRPC ${HOST}:${billingPort}`,
    ready: () => tcpOk(HOST, billingPort),
  },
  {
    name: "insights",
    color: "32",
    script: "svc-insights/dist/src/main.js",
    port: insightsPort,
    env: {
      ...common,
      DATABASE_URL: insightsDatabaseUrl,
      GRPC_PORT: String(insightsPort),
      PAGE_TOKEN_SECRET: env.PAGE_TOKEN_SECRET || "development-only-page-token-key-not-secret",
      SERVICE_TOKEN_PUBLIC_KEYS: env.SERVICE_TOKEN_PUBLIC_KEYS || devServiceKeys.publicKeyPem,
    },
    what: `gRPC ${HOST}:${insightsPort}`,
    ready: () => tcpOk(HOST, insightsPort),
  },
  {
    name: "bff",
    color: "33",
    script: "bff/dist/src/main.js",
    port: httpPort,
    env: {
      ...common,
      HTTP_PORT: String(httpPort),
      IDENTITY_GRPC_ADDRESS: `${HOST}:${grpcPort}`,
      BILLING_GRPC_ADDRESS: `${HOST}:${billingPort}`,
      INSIGHTS_GRPC_ADDRESS: `${HOST}:${insightsPort}`,
      OIDC_ISSUER: issuer,
      OIDC_AUDIENCE: audience,
      // Any email can sign up for a tenant of its own in development.
      SIGNUP_ENABLED: env.SIGNUP_ENABLED || "true",
      DEV_SIGN_IN_USERS: env.DEV_SIGN_IN_USERS ?? demoUsers.join(","),
      DEV_OIDC_ISSUER: issuer,
      SERVICE_TOKEN_PRIVATE_KEY: env.SERVICE_TOKEN_PRIVATE_KEY || devServiceKeys.privateKeyPem,
    },
    what: `http://${HOST}:${httpPort}/readyz`,
    ready: () => httpOk(`http://${HOST}:${httpPort}/readyz`),
  },
];
const width = Math.max(...services.map((s) => s.name.length)) + 3;
const prefixOf = (s) => paint(s.color, `[${s.name}]`) + " ".repeat(width - s.name.length - 2);

async function httpOk(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel().catch(() => {});
    return res.status === 200;
  } catch {
    return false;
  }
}

function tcpOk(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once("connect", () => done(true));
    sock.once("error", () => done(false));
  });
}

// ---- pre-flight: built entrypoints, free ports --------------------------------
const missing = services.filter((s) => !fs.existsSync(path.join(root, s.script)));
if (missing.length) {
  for (const s of missing) logErr(`missing ${s.script} (the ${s.name} entrypoint); run \`make build\``);
  process.exit(1);
}
for (const s of services) {
  if (await tcpOk(HOST, s.port)) {
    logErr(`port ${s.port} (${s.name}) is already in use on ${HOST}: another \`make dev\`? Stop it or set the port variable.`);
    process.exit(1);
  }
}

// ---- lifecycle ---------------------------------------------------------------
let stopping = false;
let forced = false;
let shuttingDown;

function start(s) {
  const child = spawn(process.execPath, [s.script], {
    cwd: root,
    env: { ...env, ...s.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true, // own process group: this script decides the stop order
  });
  s.child = child;
  s.exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      s.done = true;
      const how = signal ? `signal ${signal}` : `code ${code}`;
      if (stopping) log(`${s.name} stopped (${how})`);
      else {
        logErr(`${s.name} exited unexpectedly (${how}); stopping the others`);
        void shutdown(1);
      }
      resolve();
    });
  });
  child.once("error", (err) => {
    logErr(`${s.name}: cannot start: ${err.message}`);
    s.done = true;
    if (!stopping) void shutdown(1);
  });
  const pre = prefixOf(s);
  readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (l) => process.stdout.write(`${pre}${l}\n`));
  readline.createInterface({ input: child.stderr, crlfDelay: Infinity }).on("line", (l) => process.stderr.write(`${pre}${l}\n`));
}

function signalChild(s, sig) {
  if (!s.child || s.done || s.child.pid === undefined) return;
  try {
    process.kill(-s.child.pid, sig); // the whole group
  } catch {
    try {
      s.child.kill(sig);
    } catch {
      /* already gone */
    }
  }
}

async function stop(s) {
  if (!s.child || s.done) return;
  signalChild(s, "SIGTERM");
  const timedOut = await Promise.race([s.exited.then(() => false), sleep(stopGraceMs).then(() => true)]);
  if (timedOut && !s.done) {
    logErr(`${s.name} still running ${stopGraceMs / 1000}s after SIGTERM; SIGKILL`);
    signalChild(s, "SIGKILL");
    await s.exited;
  }
}

function shutdown(code) {
  if (shuttingDown) return shuttingDown;
  stopping = true;
  shuttingDown = (async () => {
    for (const s of [...services].reverse()) await stop(s);
    const status = forced ? 1 : code;
    log(`all stopped; exit ${status}`);
    process.exit(status);
  })();
  return shuttingDown;
}

// Only a second SIGINT (Ctrl-C pressed again) kills at once. More SIGTERMs or
// SIGHUPs are the same stop arriving by another route: `kill -TERM -- -<pgid>`
// reaches make and this process together, and make then forwards its own
// SIGTERM here, so one request to stop arrives twice.
function onSignal(sig) {
  if (!stopping) {
    process.stdout.write("\n");
    log(`${sig}: stopping (${[...services].reverse().map((x) => x.name).join(", ")}); Ctrl-C again to kill at once`);
    void shutdown(0);
  } else if (sig === "SIGINT" && !forced) {
    forced = true;
    logErr(`${sig} again: killing everything now`);
    for (const s of services) signalChild(s, "SIGKILL");
  } else if (sig !== "SIGINT") {
    log(`${sig} again: already stopping`);
  }
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => onSignal(sig));
// Last resort if this process goes away some other way.
process.on("exit", () => {
  for (const s of services) signalChild(s, "SIGKILL");
});

async function waitReady(s) {
  const t0 = Date.now();
  while (!stopping) {
    if (s.done) return false;
    if (await s.ready()) {
      log(`${s.name} ready (${s.what}) in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
      return true;
    }
    if (Date.now() - t0 > readyTimeoutMs) {
      logErr(`${s.name} not ready after ${readyTimeoutMs / 1000}s (${s.what}); stopping`);
      void shutdown(1);
      return false;
    }
    await sleep(250);
  }
  return false;
}

function banner() {
  const tokenEnv = [
    oidcPort !== 4001 ? `DEV_OIDC_PORT=${oidcPort}` : "",
    issuer !== `http://${HOST}:${oidcPort}` ? `DEV_OIDC_ISSUER=${issuer}` : "",
    audience !== "apgms" ? `OIDC_AUDIENCE=${audience}` : "",
    keyDir !== ".dev/oidc" ? `DEV_OIDC_KEY_DIR=${keyDir}` : "",
  ]
    .filter(Boolean)
    .join(" ");
  const mk = (tokenEnv ? `${tokenEnv} ` : "") + "make";
  const query = JSON.stringify({ query: "{ me { user { email role } tenant { name } } }" });
  const keyFile = ".dev/demo-api-key";
  const keyNote = fs.existsSync(path.join(root, keyFile))
    ? ""
    : "  (missing: run `make seed`, which writes a new secret)";
  const b = (s) => paint("1", s);
  const lines = [
    b("APGMS is running") + "   (Ctrl-C stops everything)",
    "",
    `GraphQL    ${b(graphqlUrl)}   (open it in a browser: GraphiQL, "Sign in as" a demo user)`,
    `Issuer     ${issuer}   identity gRPC ${HOST}:${grpcPort}   billing gRPC ${HOST}:${billingPort}   insights gRPC ${HOST}:${insightsPort}`,
    "",
    `Demo users ${demoUsers.join("  ")}`,
    `Token      ${mk} token USER=owner@demo.apgms.dev`,
    `Sign up    a token for any other email may run mutation signUp to get a tenant of its own`,
    "",
    "Try it (from the repo root):",
    `  curl -s ${graphqlUrl} -H 'content-type: application/json' -H "Authorization: Bearer $(${mk} -s token USER=owner@demo.apgms.dev)" -d '${query}'`,
    "",
    `API key    ${keyFile}, sent as header x-api-key${keyNote}`,
    `  curl -s ${graphqlUrl} -H 'content-type: application/json' -H "x-api-key: $(cat ${keyFile})" -d '${JSON.stringify({ query: "{ me { tenant { name } } }" })}'`,
  ];
  const rule = "─".repeat(78);
  const bar = paint("32", "│");
  const out = [paint("32", `┌${rule}`), ...lines.map((l) => (l ? `${bar} ${l}` : bar)), paint("32", `└${rule}`)];
  process.stdout.write(`\n${out.join("\n")}\n\n`);
}

// ---- run ---------------------------------------------------------------------
for (const s of services) {
  if (stopping) break;
  log(`starting ${s.name}: node ${s.script}`);
  start(s);
  if (!(await waitReady(s))) break;
}
if (!stopping) {
  banner();
  void loadLargeDemoData();
}

/**
 * The demo tenant's transactions, then its insights events, after the banner:
 * children that are not services (their end is not a failure), one after the
 * other (two loads at once would only share the same cores), printing their
 * progress as [seed].
 */
async function loadLargeDemoData() {
  const loads = [
    {
      count: seedTransactions,
      what: `${seedTransactions} demo transactions (DEV_SEED_TRANSACTIONS=0 skips them)`,
      script: "svc-billing/dist/src/seed.js",
      args: ["--transactions", String(seedTransactions)],
      env: { ...common, DATABASE_URL: billingDatabaseUrl },
    },
    {
      count: seedEvents,
      what: `${seedEvents} demo insights events (DEV_SEED_EVENTS=0 skips them)`,
      script: "svc-insights/dist/src/seed.js",
      args: ["--events", String(seedEvents)],
      env: { ...common, DATABASE_URL: insightsDatabaseUrl, BILLING_DATABASE_URL: billingDatabaseUrl },
    },
  ];
  const pre = paint("32", "[seed]") + " ".repeat(width - 6);
  let current;
  process.on("exit", () => current?.kill("SIGKILL"));
  for (const load of loads) {
    if (load.count === 0 || stopping) continue;
    log(`loading ${load.what} in the background`);
    const child = spawn(process.execPath, [load.script, ...load.args], { cwd: root, env: { ...env, ...load.env }, stdio: ["ignore", "pipe", "pipe"] });
    current = child;
    readline.createInterface({ input: child.stdout, crlfDelay: Infinity }).on("line", (l) => process.stdout.write(`${pre}${l}\n`));
    readline.createInterface({ input: child.stderr, crlfDelay: Infinity }).on("line", (l) => process.stderr.write(`${pre}${l}\n`));
    const code = await new Promise((resolve) => {
      child.once("exit", (c) => resolve(c));
      child.once("error", () => resolve(-1));
    });
    if (code !== 0 && !stopping) logErr(`the ${load.what.split(" (")[0]} did not load (exit ${code}); everything else runs`);
  }
}
