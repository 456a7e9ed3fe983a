// The process and measurement helpers of `make bench`: start servers as child
// processes (and stop them), wait for them, read their CPU time, run autocannon.
import { spawn, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import path from "node:path";

export const require = createRequire(import.meta.url);
export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
export const autocannon = require("autocannon");
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

const children = [];
const cleanups = [];
let stopping = false;

/** Runs `fn` at the end, after every child has stopped (last registered, first run). */
export const onCleanup = (fn) => cleanups.push(fn);

export async function cleanup() {
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  await Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null)));
  for (const fn of cleanups.reverse()) await fn().catch(() => {});
}

export function freePort() {
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

/** Starts `file` as its own Node process; its stdout is kept only to find `readyLine` in it. */
export function start(name, file, env) {
  const child = spawn(process.execPath, [...profileArgs(name), file], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  child.stdout.on("data", (chunk) => {
    if (out.length < 4096) out += chunk;
  });
  child.readyLine = (prefix) =>
    new Promise((resolve, reject) => {
      const look = () => out.split("\n").some((l) => l.startsWith(prefix));
      if (look()) return resolve();
      const onData = () => look() && (child.stdout.off("data", onData), child.off("exit", onExit), resolve());
      const onExit = (code) => reject(new Error(`${name} exited with ${code} before it was ready`));
      child.stdout.on("data", onData);
      child.once("exit", onExit);
    });
  child.once("exit", (code) => {
    if (code && code !== 0 && !stopping) console.error(`[bench] ${name} exited with ${code}`);
  });
  children.push(child);
  return child;
}

export async function waitHttp(url, ok = (r) => r.ok) {
  for (let i = 0; i < 200; i++) {
    try {
      if (ok(await fetch(url))) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}

/** CPU time (user + system) the process has used so far, in µs. */
export function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLK_TCK;
}

/**
 * POSTs `body` over `connections` connections for `seconds`. With `expectBody`,
 * any other answer counts as a mismatch (GraphQL errors come back as 200).
 */
export async function load({ url, headers, body, nextBody, seconds, connections, expectBody }) {
  // With `nextBody`, every request gets a body of its own; an answer with GraphQL errors is a mismatch.
  let mismatches = 0;
  const perRequest = nextBody
    ? {
        requests: [
          {
            setupRequest: (req) => ({ ...req, body: nextBody() }),
            onResponse: (status, text) => void (status === 200 && !text.includes('"errors"') ? 0 : mismatches++),
          },
        ],
      }
    : {};
  const result = await autocannon({
    url,
    method: "POST",
    connections,
    duration: seconds,
    headers: { "content-type": "application/json", ...headers },
    body,
    ...(expectBody ? { expectBody } : {}),
    ...perRequest,
  });
  if (nextBody) result.mismatches = (result.mismatches ?? 0) + mismatches;
  return result;
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
