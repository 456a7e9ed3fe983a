import { parseArgs } from "node:util";
import { loadOrCreateSigningKey } from "./keys.js";
import { mintToken } from "./tokens.js";

/** `make token USER=<email>`: prints a token of the development issuer for a seeded user. */
const { values } = parseArgs({
  options: {
    user: { type: "string" },
    ttl: { type: "string", default: "3600" },
  },
});
if (!values.user) {
  process.stderr.write("usage: mint --user <email> [--ttl seconds]\n");
  process.exit(64);
}
const port = process.env.DEV_OIDC_PORT ?? "4001";
const issuer = process.env.DEV_OIDC_ISSUER ?? `http://${process.env.DEV_OIDC_HOST ?? "127.0.0.1"}:${port}`;
const key = loadOrCreateSigningKey(process.env.DEV_OIDC_KEY_DIR ?? ".dev/oidc");
const token = mintToken(key, {
  issuer,
  audience: process.env.OIDC_AUDIENCE ?? "apgms",
  subject: values.user,
  email: values.user,
  ttlSeconds: Number(values.ttl),
});
process.stdout.write(`${token}\n`);
