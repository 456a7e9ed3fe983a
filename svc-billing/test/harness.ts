// Starts the real billing server on port 0 against a fresh database, with
// generated clients talking to it through common's connect().
import path from "node:path";
import { randomUUID } from "node:crypto";
import { connect, createLogger, streamCall, TenantReader, type CallOverrides, type GrpcServerHandle, type Principal } from "@apgms/common";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testMinter, testVerifier } from "@apgms/common/testing/service-keys";
import { CampaignServiceClient } from "@apgms/proto/apgms/billing/v1/campaign";
import { OfferServiceClient } from "@apgms/proto/apgms/billing/v1/offer";
import { TransactionServiceClient, type ExportTransactionsRequest, type ExportTransactionsResponse } from "@apgms/proto/apgms/billing/v1/transaction";
import type { ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { APP_ROLE, createPrisma } from "../src/db/client.js";
import type { PrismaClient } from "../src/generated/prisma/client.js";
import { OutboxWake } from "@apgms/common/outbox/index";
import { buildServer } from "../src/server.js";
import { connectBillingCache, type BillingCacheHandle } from "../src/cache.js";
import { SERVICE_NAME } from "../src/config.js";

export const MIGRATIONS_DIR = path.join(__dirname, "..", "..", "prisma", "migrations");
export const SCHEMA = "billing";

/** A fresh database with the service's migrations applied. */
export async function migratedDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase({ prefix });
  await deployMigrations({ databaseUrl: db.url, schema: SCHEMA, migrationsDir: MIGRATIONS_DIR });
  return db;
}

/** Clients that sign their calls with the run's service key as process "test" (each call's tenant and principal from `as()`). */
export function clientsFor(address: string) {
  const opts = { timeoutMs: 30_000, credentials: testMinter("test").forAudience(SERVICE_NAME) };
  const made = {
    campaigns: connect(CampaignServiceClient, address, opts),
    offers: connect(OfferServiceClient, address, opts),
    transactions: connect(TransactionServiceClient, address, opts),
  };
  return {
    campaigns: made.campaigns.client,
    offers: made.offers.client,
    transactions: made.transactions.client,
    /** ExportTransactions: every message of the stream, collected. */
    async exportTransactions(request: ExportTransactionsRequest, overrides: CallOverrides): Promise<ExportTransactionsResponse[]> {
      const out: ExportTransactionsResponse[] = [];
      const raw = made.transactions.raw;
      for await (const message of streamCall((r: ExportTransactionsRequest, md, o) => raw.exportTransactions(r, md, o), request, { context: overrides.context, credentials: opts.credentials })) {
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

export const TEST_CONFIG = { PAGE_TOKEN_SECRET: ["svc-billing-test-page-token-key-0123456789"] };

/** The read cache as the tests run it: on, in this run's key prefix (REDIS_KEY_PREFIX), unless READ_CACHE_ENABLED=false. */
export function testCache(): BillingCacheHandle {
  return connectBillingCache({
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX ?? `apgms-test-${randomUUID().slice(0, 8)}:`,
    READ_CACHE_ENABLED: process.env.READ_CACHE_ENABLED !== "false",
    READ_CACHE_TTL_SECONDS: 300,
  });
}

/** A svc-billing server on `db` (as the service's role) with its own cache connection. */
export async function startInstance(db: TestDatabase, cache: BillingCacheHandle = testCache(), outbox = new OutboxWake("apgms-test._outbox.wake.billing")) {
  const appPrisma = createPrisma({ databaseUrl: db.urlAs(APP_ROLE), schema: SCHEMA, maxConnections: 10 });
  const logger = createLogger("svc-billing-test", { level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const reader = new TenantReader({ databaseUrl: db.urlAs(APP_ROLE), max: 10 });
  const handle = buildServer({ config: TEST_CONFIG, prisma: appPrisma, logger, cache: cache.cache, reader, serviceTokens: testVerifier(SERVICE_NAME), outbox, drainTimeoutMs: 2_000 });
  const port = await handle.listen("127.0.0.1", 0);
  const address = `127.0.0.1:${port}`;
  const clients = clientsFor(address);
  return {
    ...clients,
    appPrisma,
    reader,
    handle,
    address,
    cache,
    async stop() {
      clients.close();
      await handle.shutdown();
      await cache.close();
    },
  };
}

export interface Harness extends Clients {
  db: TestDatabase;
  /** As the tables' owner (a superuser here: row-level security does not apply), for fixtures and assertions. */
  prisma: PrismaClient;
  /** As the service's role, like the server under test. */
  appPrisma: PrismaClient;
  /** The server's one-statement reads as a tenant (its pool). */
  reader: TenantReader;
  handle: GrpcServerHandle;
  address: string;
  cache: BillingCacheHandle;
  /** A new tenant id with call options acting in it as a user. */
  tenant(): { tenantId: string; ctx: CallOverrides };
  stop(): Promise<void>;
}

export async function startHarness(prefix: string): Promise<Harness> {
  const db = await migratedDatabase(prefix);
  const prisma = createPrisma({ databaseUrl: db.url, schema: SCHEMA, maxConnections: 2 });
  const { stop: stopInstance, ...instance } = await startInstance(db);
  return {
    ...instance,
    db,
    prisma,
    tenant() {
      const tenantId = randomUUID();
      return { tenantId, ctx: as(tenantId) };
    },
    async stop() {
      await stopInstance();
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
