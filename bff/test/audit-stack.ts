import { randomBytes, randomUUID } from "node:crypto";
import { Writable } from "node:stream";
import { createLogger } from "@apgms/common/logger";
import { createLogExport } from "@apgms/common/telemetry-logs";
import type { TestDatabase } from "@apgms/common/testing/database";
import { deleteTestStreams, TEST_NATS_URL, testNatsPrefix } from "@apgms/common/testing/nats";
import { testMinter } from "@apgms/common/testing/service-keys";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { Client as PgClient } from "pg";
import { startStoredAudit } from "../src/audit/start.js";
import type { EdgeAudit } from "../src/audit/edge-audit.js";
import { mintToken, type MintOptions } from "../src/dev-oidc/tokens.js";
import { createIdentityClients } from "../src/identity-clients.js";
import { startOtlpReceiver, type OtlpReceiver } from "./otlp-receiver.js";
import type { GqlResponse } from "./stack.js";
import { identityDatabase, spawnIdentity, type IdentityProcess } from "./identity-process.js";
import { freePort, provisionTenant, startEdge, startTestIssuer, testRedis } from "./support.js";

const AUDIENCE = "apgms";

/**
 * A stack of its own for the audit trail's tests (they stop and restart
 * svc-identity, which the shared stack must never see): a fresh database,
 * svc-identity as a restartable process consuming this stack's audit stream,
 * an edge publishing to it and exporting OTLP log records to a test receiver,
 * and every log line the edge writes, kept for grepping.
 */
export interface AuditStack {
  url: string;
  natsPrefix: string;
  pg: PgClient;
  receiver: OtlpReceiver;
  audit: EdgeAudit;
  /** Every log line of the edge, as written. */
  logLines: string[];
  tenant: { id: string; slug: string; accountId: string };
  owner: { id: string; subject: string };
  admin: { id: string; subject: string };
  token(subject: string, options?: Partial<MintOptions>): string;
  gql(query: string, variables?: Record<string, unknown>, headers?: Record<string, string>): Promise<GqlResponse>;
  stopIdentity(): Promise<void>;
  startIdentity(): Promise<void>;
  /** Flushes the edge's trail and OTLP batch. */
  flush(): Promise<void>;
  close(): Promise<void>;
}

export async function startAuditStack(): Promise<AuditStack> {
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  };
  try {
    const db: TestDatabase = await identityDatabase("audit");
    cleanups.push(() => db.drop());
    const natsPrefix = testNatsPrefix("audit");
    cleanups.push(() => deleteTestStreams(natsPrefix));

    const grpcPort = await freePort();
    const address = `127.0.0.1:${grpcPort}`;
    const identityEnv = { NATS_PREFIX: natsPrefix, DATABASE_URL: db.urlAs("apgms_identity_app"), PAGE_TOKEN_SECRET: randomBytes(32).toString("hex") };
    let running: IdentityProcess | undefined;
    const startIdentity = async () => {
      running = await spawnIdentity(identityEnv, { port: grpcPort });
    };
    const stopIdentity = async () => {
      await running?.stop();
      running = undefined;
    };
    await startIdentity();
    cleanups.push(stopIdentity);

    const { key, issuerUrl, close: closeIssuer } = await startTestIssuer(AUDIENCE);
    cleanups.push(closeIssuer);
    const { redis, cleanup: cleanupRedis } = testRedis("audit");
    cleanups.push(cleanupRedis);

    const identity = createIdentityClients(address, { timeoutMs: 5_000, serviceTokens: testMinter("bff") });
    cleanups.push(async () => identity.close());

    const receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const logExport = createLogExport("bff", {
      env: { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: `${receiver.endpoint}/v1/logs`, OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: "http/json", OTEL_BLRP_SCHEDULE_DELAY: "100" },
    });
    cleanups.push(() => logExport.shutdown());

    const logLines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logLines.push(chunk.toString("utf8"));
        done();
      },
    });
    const logger = createLogger("bff-audit-test", { level: "debug" }, sink);
    const stored = await startStoredAudit({ natsUrl: TEST_NATS_URL, natsPrefix, logger, otel: logExport.provider!.getLogger("apgms.audit") });
    cleanups.push(() => stored.close());

    const { app, url } = await startEdge({
      issuerUrl,
      audience: AUDIENCE,
      identity,
      redis,
      logger,
      audit: stored.audit,
      config: { NODE_ENV: "test", IDENTITY_GRPC_ADDRESS: address, SIGNUP_ENABLED: true },
    });
    cleanups.push(() => app.close());

    const pg = new PgClient({ connectionString: db.url });
    await pg.connect();
    cleanups.push(() => pg.end());

    const slug = `audit-${randomBytes(3).toString("hex")}`;
    const { tenantId, accountId, owner } = await provisionTenant(identity, issuerUrl, slug);
    const context = { requestId: randomUUID(), tenantId, principal: { kind: "service" as const, id: "test" } };
    const adminEmail = `admin@${slug}.test`;
    const admin = await identity.users.createUser(
      { accountId, email: adminEmail, displayName: "Admin", role: Role.ROLE_ADMIN, oidcIssuer: issuerUrl, oidcSubject: adminEmail },
      { context },
    );

    return {
      url,
      natsPrefix,
      pg,
      receiver,
      audit: stored.audit,
      logLines,
      tenant: { id: tenantId, slug, accountId },
      owner: { id: owner.id, subject: owner.subject },
      admin: { id: admin.user!.id, subject: adminEmail },
      token: (subject, options = {}) => mintToken(key, { issuer: issuerUrl, audience: AUDIENCE, subject, email: subject, ...options }),
      async gql(query, variables = {}, headers = {}) {
        const res = await fetch(`${url}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", accept: "application/json", ...headers },
          body: JSON.stringify({ query, variables }),
        });
        return { status: res.status, headers: res.headers, body: (await res.json()) as GqlResponse["body"] };
      },
      stopIdentity,
      startIdentity,
      async flush() {
        await stored.audit.flush();
        await logExport.provider!.forceFlush();
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
