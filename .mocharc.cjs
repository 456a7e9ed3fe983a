// Mocha configuration for the whole suite (`make test`). Runs the compiled
// tests of each package, in this order; a package whose dist/test holds no
// *.test.js yet is left out (mocha fails on a glob that matches nothing).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const packages = ["common", "svc-identity", "bff"];

function hasTests(dir) {
  try {
    return fs
      .readdirSync(dir, { recursive: true })
      .some((f) => String(f).endsWith(".test.js"));
  } catch {
    return false;
  }
}

// Only from the repo root: a package may reuse this file with its own --spec
// (mocha would add these root-relative globs to it).
const atRoot = path.resolve(process.cwd()) === __dirname;
const spec = !atRoot ? [] : packages
  .filter((p) => hasTests(path.join(__dirname, p, "dist", "test")))
  .map((p) => `${p}/dist/test/**/*.test.js`);

if (atRoot && spec.length === 0) {
  // eslint-disable-next-line no-console
  console.error("[mocha] no compiled tests found under */dist/test (did `make build` run?)");
}

module.exports = {
  ...(atRoot ? { spec } : {}),
  reporter: "spec",
  timeout: 30000,
  exit: true,
  "node-option": ["enable-source-maps"],
};
