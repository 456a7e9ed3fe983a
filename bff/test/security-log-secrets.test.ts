import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { deleteTestStreams, testNatsPrefix } from "@apgms/common/testing/nats";
import { findSecretShapes } from "@apgms/common/testing/secret-shapes";
import { testServiceKeys } from "@apgms/common/testing/service-keys";
import { expect } from "chai";
import { mintToken } from "../src/dev-oidc/tokens.js";
import { AUDIENCE } from "./stack.js";
import { freePort, startTestIssuer, waitFor } from "./support.js";

const repoRoot = path.resolve(__dirname, "../../..");


/**
 * The edge and svc-identity as real processes at LOG_LEVEL=trace, in
 * development mode (unmasked errors, the most the code ever logs), their
 * stdout and stderr captured whole. A session handles every kind of secret,
 * well-formed and refused; then the captured logs must hold none of them.
 */
describe("secrets never reach the logs (whole processes at trace level)", function () {
  this.timeout(90_000);
  const logs: string[] = [];
  const secrets = new Map<string, string>();
  const children: ChildProcess[] = [];
  let db: TestDatabase;
  let natsPrefix: string;
  let closeIssuer: () => Promise<void>;
  let url: string;
  let issuerUrl: string;
  let mint: (subject: string, claims?: Record<string, unknown>) => string;

  const spawnCaptured = (name: string, file: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, [file], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (b: Buffer) => logs.push(b.toString("utf8")));
    child.stderr!.on("data", (b: Buffer) => logs.push(b.toString("utf8")));
    children.push(child);
    return child;
  };
  const stop = (c: ChildProcess) =>
    c.exitCode !== null || c.signalCode !== null
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          c.once("exit", () => resolve());
          c.kill("SIGTERM");
        });
  const stopAll = () => Promise.all(children.map(stop));

  before(async () => {
    db = await createTestDatabase({ prefix: "logsecrets" });
    await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir: path.join(repoRoot, "svc-identity/prisma/migrations") });
    natsPrefix = testNatsPrefix("log-secrets");
    const keys = testServiceKeys();
    const pageSecret = randomBytes(32).toString("hex");
    secrets.set("PAGE_TOKEN_SECRET", pageSecret);

    const issuer = await startTestIssuer(AUDIENCE);
    const { key } = issuer;
    issuerUrl = issuer.issuerUrl;
    closeIssuer = issuer.close;
    mint = (subject, claims = {}) => mintToken(key, { issuer: issuerUrl, audience: AUDIENCE, subject, email: subject, claims });

    const common = { LOG_LEVEL: "trace", NODE_ENV: "development", NATS_URL: process.env.NATS_URL ?? "nats://127.0.0.1:4222", NATS_PREFIX: natsPrefix };
    const grpcPort = await freePort();
    spawnCaptured("svc-identity", path.join(repoRoot, "svc-identity/dist/src/main.js"), {
      ...common,
      DATABASE_URL: db.urlAs("apgms_identity_app"),
      GRPC_PORT: String(grpcPort),
      PAGE_TOKEN_SECRET: pageSecret,
      SERVICE_TOKEN_PUBLIC_KEYS: keys.publicKeyPem,
    });
    const health = createHealthClient(`127.0.0.1:${grpcPort}`);
    await waitFor("svc-identity", async () => (await health.check("", 500)) === "SERVING");
    health.close();

    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    spawnCaptured("bff", path.join(repoRoot, "bff/dist/src/main.js"), {
      ...common,
      HTTP_PORT: String(port),
      IDENTITY_GRPC_ADDRESS: `127.0.0.1:${grpcPort}`,
      REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
      REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}log-secrets:`,
      OIDC_ISSUER: issuerUrl,
      OIDC_AUDIENCE: AUDIENCE,
      SIGNUP_ENABLED: "true",
      AUTH_CACHE_SECONDS: "0",
      SERVICE_TOKEN_PRIVATE_KEY: keys.privateKeyPem,
    });
    await waitFor("bff", async () => (await fetch(`${url}/readyz`)).ok);
  });

  after(async () => {
    await stopAll();
    await closeIssuer?.();
    await deleteTestStreams(natsPrefix).catch(() => {});
    await db?.drop();
  });

  const gql = async (query: string, variables: Record<string, unknown>, headers: Record<string, string>) => {
    const res = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ query, variables }) });
    return { status: res.status, body: (await res.json()) as { data?: Record<string, Record<string, unknown>>; errors?: unknown[] } };
  };
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  it("handles tokens, API keys, invitation codes and refused credentials, and logs none of them", async () => {
    const owner = mint(`owner-${randomBytes(3).toString("hex")}@logs.example`);
    secrets.set("owner token", owner);
    const slug = `logs-${randomBytes(3).toString("hex")}`;
    const signUp = await gql("mutation($i: SignUpInput!) { signUp(input: $i) { tenantId } }", { i: { tenantName: "Logs", slug } }, bearer(owner));
    expect(signUp.body.errors, JSON.stringify(signUp.body.errors)).to.equal(undefined);

    const created = await gql('mutation { createApiKey(input: { name: "k", scopes: ["identity:read"] }) { secret apiKey { id } } }', {}, bearer(owner));
    const first = created.body.data!.createApiKey as { secret: string; apiKey: { id: string } };
    secrets.set("API key secret", first.secret);
    expect((await gql("{ me { kind } }", {}, { "x-api-key": first.secret })).status).to.equal(200);
    const rotated = await gql("mutation($id: ID!) { rotateApiKey(id: $id, gracePeriodSeconds: 1) { secret } }", { id: first.apiKey.id }, bearer(owner));
    const second = (rotated.body.data!.rotateApiKey as { secret: string }).secret;
    secrets.set("rotated API key secret", second);
    expect((await gql("{ me { kind } }", {}, { authorization: `ApiKey ${second}` })).status).to.equal(200);
    await gql("mutation($id: ID!) { revokeApiKey(id: $id) { id } }", { id: first.apiKey.id }, bearer(owner));
    expect((await gql("{ me { kind } }", {}, { "x-api-key": second })).status, "revoked key").to.equal(401);

    const accounts = await gql("{ accounts { nodes { id } } }", {}, bearer(owner));
    const accountId = (accounts.body.data!.accounts as { nodes: Array<{ id: string }> }).nodes[0]!.id;
    const invited = await gql("mutation($a: ID!) { inviteUser(input: { accountId: $a, email: \"joiner@logs.example\", role: VIEWER }) { code } }", { a: accountId }, bearer(owner));
    const code = (invited.body.data!.inviteUser as { code: string }).code;
    secrets.set("invitation code", code);
    const joiner = mint(`joiner-${randomBytes(3).toString("hex")}`);
    secrets.set("joiner token", joiner);
    const wrongCode = `apgms_inv_${randomBytes(24).toString("base64url").replace(/[-_]/g, "x").slice(0, 32)}`;
    secrets.set("forged invitation code", wrongCode);
    expect((await gql("mutation($c: String!) { acceptInvitation(code: $c) { userId } }", { c: wrongCode }, bearer(joiner))).body.errors).to.not.equal(undefined);
    const joined = await gql("mutation($c: String!) { acceptInvitation(code: $c) { userId } }", { c: code }, bearer(joiner));
    expect(joined.body.errors, JSON.stringify(joined.body.errors)).to.equal(undefined);

    // Refused credentials: a tampered token, a foreign audience, an unknown key, a secret in a bad header.
    const tampered = `${owner.slice(0, -6)}AAAAAA`;
    secrets.set("tampered token", tampered);
    expect((await gql("{ me { kind } }", {}, bearer(tampered))).status).to.equal(401);
    const foreign = mint("someone@logs.example", { aud: "not-apgms" });
    secrets.set("foreign-audience token", foreign);
    expect((await gql("{ me { kind } }", {}, bearer(foreign))).status).to.equal(401);
    const unknownKey = `apgms_${"Q".repeat(8)}_${randomBytes(24).toString("hex").slice(0, 32)}`;
    secrets.set("unknown API key", unknownKey);
    expect((await gql("{ me { kind } }", {}, { "x-api-key": unknownKey })).status).to.equal(401);
    expect((await gql("{ me { kind } }", {}, { authorization: `Basic ${first.secret} extra` })).status).to.equal(401);
    // A secret inside a query that fails to validate: the error echoes it to the caller, never to the log.
    expect((await gql(`{ me { kind ${second} } }`, {}, bearer(owner))).status).to.equal(200);

    await stopAll();
    const all = logs.join("");
    expect(all.split("\n").length, "trace-level logs were captured").to.be.greaterThan(20);
    for (const [what, value] of secrets) expect(all.includes(value), `${what} found in the logs`).to.equal(false);
    expect(findSecretShapes(all), "secret-shaped strings in the logs").to.deep.equal([]);
  });
});
