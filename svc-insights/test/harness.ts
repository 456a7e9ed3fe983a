// Starts the real insights server on port 0 against a fresh database (as the
// service's role), with generated clients signing their calls like the edge.
import path from "node:path";
import { randomUUID } from "node:crypto";
import { connect, createLogger, streamCall, TenantReader, type CallOverrides, type GrpcServerHandle, type Principal } from "@apgms/common";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testMinter, testVerifier } from "@apgms/common/testing/service-keys";
import { AnalyticsServiceClient } from "@apgms/proto/apgms/insights/v1/analytics";
import { EventServiceClient, type ExportEventsRequest, type ExportEventsResponse } from "@apgms/proto/apgms/insights/v1/event";
import type { ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { connectAnswerCache, type AnswerCacheHandle } from "../src/cache.js";
import { SERVICE_NAME } from "../src/config.js";
import { APP_ROLE, createPrisma } from "../src/db/client.js";
import { withStatementTimeout } from "../src/db/pools.js";
import type { TenantQuery } from "../src/db/sql.js";
import type { PrismaClient } from "../src/generated/prisma/client.js";
import { buildServer } from "../src/server.js";

export const MIGRATIONS_DIR = path.join(__dirname, "..", "..", "prisma", "migrations");
export const SCHEMA = "insights";

/** A fresh database with the service's migrations applied. */
export async function migratedDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase({ prefix });
  await deployMigrations({ databaseUrl: db.url, schema: SCHEMA, migrationsDir: MIGRATIONS_DIR });
  return db;
}

/** Clients that sign their calls with the run's service key as process "test" (each call's tenant and principal from `as()`). */
export function clientsFor(address: string) {
  const opts = { timeoutMs: 60_000, credentials: testMinter("test").forAudience(SERVICE_NAME) };
  const made = {
    events: connect(EventServiceClient, address, opts),
    analytics: connect(AnalyticsServiceClient, address, opts),
  };
  return {
    events: made.events.client,
    analytics: made.analytics.client,
    /** ExportEvents: every message of the stream, collected. */
    async exportEvents(request: ExportEventsRequest, overrides: CallOverrides): Promise<ExportEventsResponse[]> {
      const out: ExportEventsResponse[] = [];
      const raw = made.events.raw;
      for await (const message of streamCall((r: ExportEventsRequest, md, o) => raw.exportEvents(r, md, o), request, { context: overrides.context, credentials: opts.credentials })) {
        out.push(message);
      }
      return out;
    },
    close: () => Object.values(made).forEach((m) => m.raw.close()),
  };
}

export type Clients = ReturnType<typeof clientsFor>;

/** Call options acting in `tenantId` as `principal` (a user by default). */
export function as(tenantId: string, principal: Principal = { kind: "user", id: randomUUID() }): CallOverrides {
  return { context: { requestId: randomUUID(), tenantId, principal } };
}

export const TEST_CONFIG = { PAGE_TOKEN_SECRET: ["svc-insights-test-page-token-key-0123456789"], QUERY_TIMEOUT_MS: 30_000 };

/** The answer cache as the tests run it: on, in this run's key prefix (REDIS_KEY_PREFIX), unless READ_CACHE_ENABLED=false. */
export function testCache(): AnswerCacheHandle {
  return connectAnswerCache({
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX ?? `apgms-test-${randomUUID().slice(0, 8)}:`,
    READ_CACHE_ENABLED: process.env.READ_CACHE_ENABLED !== "false",
    READ_CACHE_TTL_SECONDS: 300,
  });
}

export interface Harness extends Clients {
  db: TestDatabase;
  /** As the tables' owner (a superuser here: row-level security does not apply), for assertions. */
  prisma: PrismaClient;
  /** As the service's role, like the server under test: statements as a tenant. */
  reader: TenantReader;
  /** Statements as `tenantId` through `reader`: what the data access functions take. */
  asTenant(tenantId: string): TenantQuery;
  handle: GrpcServerHandle;
  address: string;
  cache: AnswerCacheHandle;
  /** A new tenant id with call options acting in it as a user. */
  tenant(): { tenantId: string; ctx: CallOverrides };
  stop(): Promise<void>;
}

export async function startHarness(prefix: string): Promise<Harness> {
  const db = await migratedDatabase(prefix);
  const prisma = createPrisma({ databaseUrl: db.url, schema: SCHEMA, maxConnections: 2 });
  const cache = testCache();
  const logger = createLogger("svc-insights-test", { level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const writer = new TenantReader({ databaseUrl: db.urlAs(APP_ROLE), max: 4 });
  const serverReader = new TenantReader({ databaseUrl: withStatementTimeout(db.urlAs(APP_ROLE), TEST_CONFIG.QUERY_TIMEOUT_MS), max: 6 });
  const reader = new TenantReader({ databaseUrl: db.urlAs(APP_ROLE), max: 2 });
  const handle = buildServer({ config: TEST_CONFIG, logger, writer, reader: serverReader, cache: cache.cache, serviceTokens: testVerifier(SERVICE_NAME), drainTimeoutMs: 2_000 });
  const port = await handle.listen("127.0.0.1", 0);
  const address = `127.0.0.1:${port}`;
  const clients = clientsFor(address);
  return {
    ...clients,
    db,
    prisma,
    reader,
    asTenant: (tenantId) => (text, values) => reader.query(tenantId, text, values),
    handle,
    address,
    cache,
    tenant() {
      const tenantId = randomUUID();
      return { tenantId, ctx: as(tenantId) };
    },
    async stop() {
      clients.close();
      await handle.shutdown();
      await cache.close();
      await reader.close();
      await prisma.$disconnect();
      await db.drop();
    },
  };
}

/** Awaits a call that must fail; checks its status code and, when given, the `x-apgms-field` trailer. */
export async function expectError(call: Promise<unknown>, code: number, field?: string): Promise<ServiceError> {
  let caught: unknown;
  try {
    await call;
  } catch (err) {
    caught = err;
  }
  expect(caught, "call should have failed").to.be.instanceOf(Error);
  const err = caught as ServiceError;
  expect(err.code, `status of "${err.details}"`).to.equal(code);
  if (field !== undefined) expect(err.metadata.get("x-apgms-field")[0]).to.equal(field);
  return err;
}
