import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Server } from "node:http";
import path from "node:path";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import { deployMigrations } from "@apgms/common/migrate/index";
import { startTelemetry } from "@apgms/common/telemetry";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testMinter } from "@apgms/common/testing/service-keys";
import { ProxyTracerProvider, trace } from "@opentelemetry/api";
import { expect } from "chai";
import { Redis } from "ioredis";
import { createDevIssuer } from "../src/dev-oidc/issuer.js";
import { generateSigningKey } from "../src/dev-oidc/keys.js";
import { mintToken } from "../src/dev-oidc/tokens.js";
import { createIdentityClients } from "../src/identity-clients.js";
import { SpanKind, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.js";
import { freePort, provisionTenant, waitFor } from "./support.js";

/**
 * End-to-end tracing: the BFF and svc-identity run as their real processes with
 * an OTLP endpoint (a receiver in this process), and one GraphQL request must
 * come back as one trace: edge HTTP → gRPC client → gRPC server → Postgres.
 */
const repoRoot = path.resolve(__dirname, "../../..");
const AUDIENCE = "apgms";
const HTTP_SCOPE = "@opentelemetry/instrumentation-http";
const GRPC_SCOPE = "@opentelemetry/instrumentation-grpc";
const PG_SCOPE = "@opentelemetry/instrumentation-pg";


/** The environment of a child: the runner's, minus any OTel settings, plus `extra`. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("OTEL_")) env[k] = v;
  return { ...env, ...extra };
}

interface Child {
  process: ChildProcess;
  exited: Promise<void>;
}

function startChild(script: string, env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [path.join(repoRoot, script)], { env, stdio: ["ignore", "inherit", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { process: child, exited };
}

const isHttpServer = (s: ReceivedSpan) => s.scope === HTTP_SCOPE && s.kind === SpanKind.SERVER;
const isGrpcClient = (s: ReceivedSpan) => s.scope === GRPC_SCOPE && s.kind === SpanKind.CLIENT;
const isGrpcServer = (s: ReceivedSpan) => s.scope === GRPC_SCOPE && s.kind === SpanKind.SERVER;
const isPg = (s: ReceivedSpan) => s.scope === PG_SCOPE;
/** The request path of an HTTP server span, in either semantic-convention version. */
const httpPath = (s: ReceivedSpan) => String(s.attributes["url.path"] ?? s.attributes["http.target"] ?? "");

/** The spans of the trace whose root is the BFF's POST /graphql server span, if complete. */
function graphqlTrace(spans: ReceivedSpan[]): ReceivedSpan[] | undefined {
  const edge = spans.find((s) => s.service === "bff" && isHttpServer(s) && httpPath(s).startsWith("/graphql"));
  if (!edge) return undefined;
  const inTrace = spans.filter((s) => s.traceId === edge.traceId);
  const complete =
    inTrace.some((s) => s.service === "bff" && isGrpcClient(s)) &&
    // The request's own call, not only the sign-in's lookups: the services export in batches.
    inTrace.some((s) => s.service === "svc-identity" && isGrpcServer(s) && s.name.endsWith("AccountService/ListAccounts")) &&
    inTrace.some((s) => s.service === "svc-identity" && isPg(s));
  return complete ? inTrace : undefined;
}

describe("tracing (OTLP export across BFF → gRPC → Postgres)", function () {
  this.timeout(60_000);

  const cleanups: Array<() => Promise<void>> = [];
  let receiver: OtlpReceiver;
  let bffUrl: string;
  let token: string;

  before(async function () {
    receiver = await startOtlpReceiver();
    cleanups.push(() => receiver.close());
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: "http/json", OTEL_BSP_SCHEDULE_DELAY: "200" };

    const db: TestDatabase = await createTestDatabase({ prefix: "bff_tracing" });
    cleanups.push(() => db.drop());
    await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir: path.join(repoRoot, "svc-identity/prisma/migrations") });

    const grpcPort = await freePort();
    const identityAddress = `127.0.0.1:${grpcPort}`;
    const identityProcess = startChild(
      "svc-identity/dist/src/main.js",
      childEnv({ ...otel, DATABASE_URL: db.urlAs("apgms_identity_app"), GRPC_PORT: String(grpcPort), LOG_LEVEL: "warn", PAGE_TOKEN_SECRET: "tracing-test-page-token-key-0123456789" }),
    );
    cleanups.push(async () => {
      identityProcess.process.kill("SIGTERM");
      await identityProcess.exited;
    });
    const health = createHealthClient(identityAddress);
    try {
      await waitFor("svc-identity serving", async () => (await health.check("", 500)) === "SERVING");
    } finally {
      health.close();
    }

    const key = generateSigningKey();
    const issuerPort = await freePort();
    const issuerUrl = `http://127.0.0.1:${issuerPort}`;
    const issuer: Server = createDevIssuer({ issuerUrl, audience: AUDIENCE, keys: [key] });
    await new Promise<void>((resolve) => issuer.listen(issuerPort, "127.0.0.1", resolve));
    cleanups.push(() => new Promise((resolve) => issuer.close(() => resolve())));

    // Seed a tenant whose owner signs in through the development issuer.
    const identity = createIdentityClients(identityAddress, { timeoutMs: 5_000, serviceTokens: testMinter("test") });
    const slug = `tracing-${randomBytes(3).toString("hex")}`;
    const ownerEmail = `owner@${slug}.test`;
    try {
      await provisionTenant(identity, issuerUrl, slug);
    } finally {
      identity.close();
    }
    token = mintToken(key, { issuer: issuerUrl, audience: AUDIENCE, subject: ownerEmail, email: ownerEmail });

    const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const prefix = `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}bff-tracing-${randomBytes(4).toString("hex")}:`;
    cleanups.push(async () => {
      const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        const keys = await redis.keys(`${prefix}*`);
        if (keys.length) await redis.del(...keys);
      } finally {
        redis.disconnect();
      }
    });

    const httpPort = await freePort();
    bffUrl = `http://127.0.0.1:${httpPort}`;
    const bffProcess = startChild(
      "bff/dist/src/main.js",
      childEnv({
        ...otel,
        NODE_ENV: "test",
        LOG_LEVEL: "warn",
        HTTP_PORT: String(httpPort),
        IDENTITY_GRPC_ADDRESS: identityAddress,
        REDIS_URL: redisUrl,
        REDIS_KEY_PREFIX: prefix,
        OIDC_ISSUER: issuerUrl,
        OIDC_JWKS_URI: `${issuerUrl}/.well-known/jwks.json`,
      }),
    );
    cleanups.push(async () => {
      bffProcess.process.kill("SIGTERM");
      await bffProcess.exited;
    });
    await waitFor("bff listening", async () => (await fetch(`${bffUrl}/healthz`)).ok);
  });

  after(async function () {
    this.timeout(30_000);
    // Reverse order: the processes stop (flushing their spans) before the receiver closes.
    for (const c of cleanups.reverse()) await c().catch(() => {});
  });

  it("exports one trace from the edge through gRPC to Postgres for one GraphQL request", async () => {
    const res = await fetch(`${bffUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: "{ accounts { nodes { id } } }" }),
    });
    const body = (await res.json()) as { data?: { accounts?: { nodes: Array<{ id: string }> } }; errors?: unknown[] };
    expect(res.status, JSON.stringify(body)).to.equal(200);
    expect(body.errors, JSON.stringify(body.errors)).to.equal(undefined);
    expect(body.data?.accounts?.nodes).to.have.length(1);
    expect(res.headers.get("x-request-id")).to.be.a("string").and.not.equal("");

    // Both services export (batch delay 200 ms); wait for the whole trace.
    let spans: ReceivedSpan[] | undefined;
    await waitFor(
      "a complete bff + svc-identity trace",
      () => (spans = graphqlTrace(receiver.spans)) !== undefined,
      10_000,
    ).catch((err: Error) => {
      const seen = receiver.spans.map((s) => `${s.service} ${s.scope} kind=${s.kind} ${s.name} trace=${s.traceId}`);
      throw new Error(`${err.message}; received:\n  ${seen.join("\n  ")}`);
    });
    expect(receiver.rejected).to.deep.equal([]);
    const traceSpans = spans!;
    const services = new Set(receiver.spans.map((s) => s.service));
    expect([...services]).to.include.members(["bff", "svc-identity"]);

    const byId = new Map(traceSpans.map((s) => [s.spanId, s]));
    const traceId = traceSpans[0]!.traceId;
    expect(traceSpans.every((s) => s.traceId === traceId)).to.equal(true);

    // The edge: one HTTP server span for the request, the root of the trace.
    const edge = traceSpans.filter((s) => s.service === "bff" && isHttpServer(s));
    expect(edge, "bff HTTP server spans").to.have.length(1);
    expect(edge[0]!.parentSpanId, "the edge span is the root").to.equal("");

    // The BFF's gRPC client calls, and svc-identity's server spans whose parents are those calls.
    const clientCalls = traceSpans.filter((s) => s.service === "bff" && isGrpcClient(s));
    expect(clientCalls, "bff gRPC client spans").to.not.be.empty;
    const serverCalls = traceSpans.filter((s) => s.service === "svc-identity" && isGrpcServer(s));
    expect(serverCalls, "svc-identity gRPC server spans").to.not.be.empty;
    for (const server of serverCalls) {
      const parent = byId.get(server.parentSpanId);
      expect(parent, `parent of ${server.name} is in the trace`).to.not.equal(undefined);
      expect(parent!.service).to.equal("bff");
      expect(isGrpcClient(parent!), `parent of ${server.name} is a gRPC client span`).to.equal(true);
    }
    const listAccounts = serverCalls.find((s) => s.name.endsWith("AccountService/ListAccounts"));
    expect(listAccounts, `ListAccounts among ${serverCalls.map((s) => s.name).join(", ")}`).to.not.equal(undefined);

    // Postgres, queried by svc-identity under a gRPC server span of this trace.
    const queries = traceSpans.filter((s) => s.service === "svc-identity" && isPg(s));
    expect(queries, "svc-identity pg spans").to.not.be.empty;
    const underGrpcServer = (s: ReceivedSpan): boolean => {
      for (let p = byId.get(s.parentSpanId); p; p = byId.get(p.parentSpanId)) if (isGrpcServer(p)) return true;
      return false;
    };
    expect(queries.some(underGrpcServer), "a pg span descends from a gRPC server span").to.equal(true);

    // The spans of this request are only in this trace: nothing of it leaked into another one.
    const orphans = receiver.spans.filter((s) => s.traceId !== traceId && s.service === "bff" && isHttpServer(s) && httpPath(s).startsWith("/graphql"));
    expect(orphans, "other /graphql traces").to.be.empty;
  });

  it("exports a mutation's audit record as an OTLP log record carrying the request's trace id", async () => {
    const requestId = `tracing-audit-${randomBytes(3).toString("hex")}`;
    const res = await fetch(`${bffUrl}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", authorization: `Bearer ${token}`, "x-request-id": requestId },
      body: JSON.stringify({ query: 'mutation { createAccount(input: { name: "Traced" }) { id } }' }),
    });
    expect(res.status).to.equal(200);
    await waitFor("the audit log record", () => receiver.logs.some((l) => l.attributes["audit.request_id"] === requestId), 10_000);
    const records = receiver.logs.filter((l) => l.attributes["audit.request_id"] === requestId && l.attributes["audit.action"] === "createAccount");
    expect(records).to.have.length(1);
    const traceId = records[0]!.attributes["audit.trace_id"];
    expect(traceId).to.match(/^[0-9a-f]{32}$/);
    expect(records[0]!.traceId).to.equal(traceId);
    await waitFor("the request's spans", () => receiver.spans.some((s) => s.traceId === traceId && s.service === "bff"), 10_000);
  });

  it("installs and exports nothing without an OTLP endpoint", async () => {
    const before = (trace.getTracerProvider() as ProxyTracerProvider).getDelegate();
    const env: NodeJS.ProcessEnv = { NODE_ENV: "test", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" };
    const telemetry = startTelemetry("bff", { env });
    expect(telemetry.enabled).to.equal(false);
    // Returned before touching anything: the env is unchanged and no global tracer provider was set.
    expect(env).to.deep.equal({ NODE_ENV: "test", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" });
    expect((trace.getTracerProvider() as ProxyTracerProvider).getDelegate()).to.equal(before);
    await telemetry.shutdown();
  });
});
