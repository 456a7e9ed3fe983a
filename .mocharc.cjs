// Mocha configuration for the whole suite (`make test`). Runs, package by
// package, the compiled form of every test source (`<pkg>/test/**/*.test.ts` →
// `<pkg>/dist/test/**/*.test.js`). A test whose compiled file is missing stops
// the run (it would otherwise be skipped in silence); a compiled test whose
// source is gone is not run.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const packages = ["common", "svc-identity", "svc-billing", "svc-insights", "worker", "bff"];

function testSources(pkg) {
  const dir = path.join(__dirname, pkg, "test");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".test.ts"))
    .sort();
}

// Only from the repo root: a package may reuse this file with its own --spec
// (mocha would add these root-relative globs to it).
const atRoot = path.resolve(process.cwd()) === __dirname;
const spec = [];
if (atRoot) {
  const missing = [];
  for (const pkg of packages) {
    for (const src of testSources(pkg)) {
      const compiled = path.join(pkg, "dist", "test", src.replace(/\.ts$/, ".js"));
      if (fs.existsSync(path.join(__dirname, compiled))) spec.push(compiled);
      else missing.push(compiled);
    }
  }
  if (missing.length) {
    throw new Error(`[mocha] compiled tests missing (run \`make build\`, or \`npx tsc -b --force\`): ${missing.join(", ")}`);
  }
}

module.exports = {
  ...(atRoot ? { spec } : {}),
  reporter: "spec",
  timeout: 30000,
  exit: true,
  "node-option": ["enable-source-maps"],
};
