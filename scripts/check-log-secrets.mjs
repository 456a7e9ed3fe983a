// `make test`'s last step: the whole run's output (mocha and every process the
// tests started with inherited output) must hold nothing shaped like a secret.
// Prints the kind and line of each find, never the secret itself.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { findSecretShapes } = require("../common/dist/src/testing/secret-shapes.js");
const file = process.argv[2];
const found = findSecretShapes(readFileSync(file, "utf8"));
if (found.length) {
  for (const f of found) console.error(`[test] a ${f.what} appears in the run's output, line ${f.line} of ${file}`);
  process.exit(1);
}
console.error("[test] no secret-shaped string in the run's output");
