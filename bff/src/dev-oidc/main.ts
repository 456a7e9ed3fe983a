import { createLogger } from "@apgms/common/logger";
import { exitOnSignals } from "@apgms/common/shutdown";
import { createDevIssuer } from "./issuer.js";
import { loadOrCreateSigningKey } from "./keys.js";

const host = process.env.DEV_OIDC_HOST ?? "127.0.0.1";
const port = Number(process.env.DEV_OIDC_PORT ?? 4001);
const issuerUrl = process.env.DEV_OIDC_ISSUER ?? `http://${host}:${port}`;
const audience = process.env.OIDC_AUDIENCE ?? "apgms";
const keyDir = process.env.DEV_OIDC_KEY_DIR ?? ".dev/oidc";

if (process.env.NODE_ENV === "production") {
  process.stderr.write("the development OIDC issuer refuses to run with NODE_ENV=production\n");
  process.exit(78);
}

const logger = createLogger("dev-oidc");
const key = loadOrCreateSigningKey(keyDir);
const server = createDevIssuer({ issuerUrl, audience, keys: [key] });
server.listen(port, host, () => logger.info({ issuer: issuerUrl, kid: key.kid }, "development OIDC issuer listening"));
exitOnSignals(logger, () => new Promise<void>((resolve) => server.close(() => resolve())));
