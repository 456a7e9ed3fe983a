// The summary of `make bench`: medians over the rounds, each scenario beside its
// baseline with ratios, then the target lines.
import { median } from "./harness.mjs";

/** Medians of a scenario's rounds: req/s, p99, and CPU µs/req of its edge and gRPC service processes. */
export function summarize(scenario, rows) {
  const cpu = (k) => (rows[0].cpu[k] === undefined ? undefined : median(rows.map((r) => r.cpu[k])));
  return { name: scenario.name, baseline: scenario.baseline, rps: median(rows.map((r) => r.rps)), p99: median(rows.map((r) => r.p99)), edge: cpu("edge"), service: cpu("service") };
}

const num = (v, width) => (v === undefined ? "-" : v.toFixed(0)).padStart(width);
const ratio = (a, b) => (a === undefined || b === undefined ? "-" : `${(a / b).toFixed(2)}x`).padStart(6);
const callsText = (calls) => (calls === undefined ? "" : calls.map((c) => c ?? "unknown").join(" "));

/** `summary`: name → medians; `calls`: name → the upstream-call counts the edge reported (null: no header). */
export function printSummary(summary, calls) {
  console.log("");
  console.log(
    `${"scenario".padEnd(38)} ${"req/s".padStart(6)} ${"ratio".padStart(6)} ${"p99 ms".padStart(6)} ` +
      `${"edge µs/req".padStart(11)} ${"ratio".padStart(6)} ${"service µs/req".padStart(14)} ${"ratio".padStart(6)}  gRPC calls/req`,
  );
  const rows = [...summary.values()];
  for (const base of rows.filter((r) => !r.baseline)) {
    for (const r of [base, ...rows.filter((x) => x.baseline === base.name)]) {
      const name = r === base ? r.name : `  ${r.name}`;
      console.log(
        `${name.padEnd(38)} ${num(r.rps, 6)} ${ratio(r.rps, base.rps)} ${num(r.p99, 6)} ${num(r.edge, 11)} ${ratio(r.edge, base.edge)} ` +
          `${num(r.service, 14)} ${ratio(r.service, base.service)}  ${callsText(calls.get(r.name))}`,
      );
    }
  }
  // Scenarios whose baseline did not run (it failed) have no group above.
  for (const r of rows.filter((x) => x.baseline && !summary.has(x.baseline))) {
    console.log(`${r.name.padEnd(38)} ${num(r.rps, 6)} ${"-".padStart(6)} ${num(r.p99, 6)} ${num(r.edge, 11)} ${"-".padStart(6)} ${num(r.service, 14)} ${"-".padStart(6)}  ${callsText(calls.get(r.name))}`);
  }
}

/**
 * Each target is printed when every scenario it needs was selected: "met", "NOT met",
 * "unknown" (the edge did not report its upstream calls) or "not measured" (a scenario failed).
 */
export function printTargets(selected, summary, calls) {
  const target = (text, names, judge) => {
    if (!names.every((n) => selected.has(n))) return;
    const missing = names.filter((n) => !summary.has(n));
    if (missing.length) return console.log(`target: ${text}: not measured (${missing.join(", ")} failed)`);
    const [verdict, detail] = judge(...names.map((n) => summary.get(n)));
    console.log(`target: ${text}: ${verdict} (${detail})`);
  };
  const met = (ok) => (ok ? "met" : "NOT met");

  target("the authenticated edge at >= 1.00x the bare server's requests/s", ["edge me (JWT, BFF→svc-identity)", "bare Yoga+express, static me"], (edge, base) => [
    met(edge.rps / base.rps >= 1),
    `${(edge.rps / base.rps).toFixed(2)}x`,
  ]);
  target("the full protection stack at >= 0.80x the same edge unprotected", ["edge me (JWT, BFF→svc-identity)", "edge me (JWT), protection off"], (edge, open) => [
    met(edge.rps / open.rps >= 0.8),
    `${(edge.rps / open.rps).toFixed(2)}x`,
  ]);

  target("warm user(id) at >= 0.90x its baseline's req/s and edge CPU/req <= the baseline Yoga's", ["edge user(id), warm", "baseline user(id)"], (edge, base) => [
    met(edge.rps / base.rps >= 0.9 && edge.edge <= base.edge),
    `${(edge.rps / base.rps).toFixed(2)}x req/s, edge ${edge.edge.toFixed(0)} vs ${base.edge.toFixed(0)} µs/req`,
  ]);
  target("svc-identity <= 150 µs CPU per warm GetUser", ["edge user(id), warm"], (edge) => [met(edge.service <= 150), `${edge.service.toFixed(0)} µs/req`]);
  target("cold user(id) (a cache miss each request): svc-identity <= 400 µs CPU per request", ["edge user(id), cache miss"], (edge) => [met(edge.service <= 400), `${edge.service.toFixed(0)} µs/req`]);
  target("cold user(id) (read cache off): svc-identity <= 400 µs CPU per request", ["edge user(id), cache off"], (edge) => [met(edge.service <= 400), `${edge.service.toFixed(0)} µs/req`]);
  target("redemptions end to end at >= 0.30x the same rows written by one raw statement each through pg", ["edge redeem", "baseline redeem (same rows, one raw statement)"], (edge, base) => [
    met(edge.rps / base.rps >= 0.3),
    `${(edge.rps / base.rps).toFixed(2)}x: ${edge.rps.toFixed(0)} vs ${base.rps.toFixed(0)} per second`,
  ]);
  target("a Redis-warm campaign read at >= 0.90x the bare static query", ["edge campaign(id), warm", "bare Yoga+express, static me"], (edge, base) => [
    met(edge.rps / base.rps >= 0.9),
    `${(edge.rps / base.rps).toFixed(2)}x`,
  ]);
  target("users(50) at >= 0.80x its baseline's req/s with exactly 2 gRPC calls per request", ["edge users(50)", "baseline users(50)"], (edge, base) => {
    const counts = calls.get("edge users(50)") ?? [];
    const known = counts.length > 0 && counts.every((c) => c !== null);
    const fast = edge.rps / base.rps >= 0.8;
    const verdict = !fast || (known && counts.some((c) => c !== 2)) ? "NOT met" : known ? "met" : "unknown";
    return [verdict, `${(edge.rps / base.rps).toFixed(2)}x req/s, gRPC calls ${known ? counts.join(" ") : "unknown (no x-apgms-upstream-calls header)"}`];
  });
}
