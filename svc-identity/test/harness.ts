// Starts the real identity server on port 0 against a fresh database, with
// generated clients talking to it through common's connect().
import path from "node:path";
import { randomUUID } from "node:crypto";
import { connect, createLogger, TenantReader, type CallOverrides, type GrpcServerHandle, type Principal } from "@apgms/common";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { testMinter, testVerifier } from "@apgms/common/testing/service-keys";
import { AccountServiceClient } from "@apgms/proto/apgms/identity/v1/account";
import { ApiKeyServiceClient } from "@apgms/proto/apgms/identity/v1/api_key";
import { InvitationServiceClient } from "@apgms/proto/apgms/identity/v1/invitation";
import { MembershipServiceClient } from "@apgms/proto/apgms/identity/v1/membership";
import { PrincipalServiceClient } from "@apgms/proto/apgms/identity/v1/principal";
import { SessionServiceClient } from "@apgms/proto/apgms/identity/v1/session";
import { TenantServiceClient } from "@apgms/proto/apgms/identity/v1/tenant";
import { UserServiceClient } from "@apgms/proto/apgms/identity/v1/user";
import type { ServiceError } from "@grpc/grpc-js";
import { expect } from "chai";
import { APP_ROLE, createPrisma } from "../src/db/client.js";
import type { PrismaClient } from "../src/generated/prisma/client.js";
import { buildServer } from "../src/server.js";
import { connectIdentityCache, type IdentityCacheHandle } from "../src/cache.js";
import { SERVICE_NAME } from "../src/config.js";

export const MIGRATIONS_DIR = path.join(__dirname, "..", "..", "prisma", "migrations");
export const SCHEMA = "identity";

/** A fresh database with the service's migrations applied. */
export async function migratedDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase({ prefix });
  await deployMigrations({ databaseUrl: db.url, schema: SCHEMA, migrationsDir: MIGRATIONS_DIR });
  return db;
}

/** Clients that sign their calls with the run's service key as process "test" (each call's tenant and principal from `as()`). */
export function clientsFor(address: string) {
  const opts = { timeoutMs: 10_000, credentials: testMinter("test").forAudience(SERVICE_NAME) };
  const made = {
    tenants: connect(TenantServiceClient, address, opts),
    accounts: connect(AccountServiceClient, address, opts),
    users: connect(UserServiceClient, address, opts),
    sessions: connect(SessionServiceClient, address, opts),
    apiKeys: connect(ApiKeyServiceClient, address, opts),
    principals: connect(PrincipalServiceClient, address, opts),
    invitations: connect(InvitationServiceClient, address, opts),
    memberships: connect(MembershipServiceClient, address, opts),
  };
  return {
    tenants: made.tenants.client,
    accounts: made.accounts.client,
    users: made.users.client,
    sessions: made.sessions.client,
    apiKeys: made.apiKeys.client,
    principals: made.principals.client,
    invitations: made.invitations.client,
    memberships: made.memberships.client,
    close: () => Object.values(made).forEach((m) => m.raw.close()),
  };
}

export type Clients = ReturnType<typeof clientsFor>;

/** Call options acting in `tenantId` as `principal` (a user by default). */
export function as(tenantId: string | undefined, principal: Principal = { kind: "user", id: randomUUID() }): CallOverrides {
  return { context: { requestId: randomUUID(), tenantId, principal } };
}

export interface Provisioned {
  tenantId: string;
  slug: string;
  accountId: string;
  ownerId: string;
  ctx: CallOverrides;
}

export interface Harness extends Clients {
  db: TestDatabase;
  /** As the tables' owner (a superuser here: row-level security does not apply), for fixtures and assertions. */
  prisma: PrismaClient;
  /** As the service's role, like the server under test: row-level security applies. */
  appPrisma: PrismaClient;
  /** As the service's role in the platform scope (every tenant's rows), like the server's PrincipalService. */
  platformPrisma: PrismaClient;
  handle: GrpcServerHandle;
  address: string;
  /** The server's read cache (Redis, this run's key prefix): fixtures written straight to the database must invalidate what they change. */
  cache: IdentityCacheHandle;
  /** A new tenant (random slug) with its first account and owner. */
  provision(label?: string): Promise<Provisioned>;
  stop(): Promise<void>;
}

export const TEST_CONFIG = { TENANT_RETENTION_DAYS: 30, API_KEY_GRACE_DEFAULT_SECONDS: 86_400, INVITATION_TTL_HOURS: 168, PAGE_TOKEN_SECRET: ["svc-identity-test-page-token-key-0123456789"] };

/** The read cache as the tests run it: on, in this run's key prefix (REDIS_KEY_PREFIX), unless READ_CACHE_ENABLED=false. */
export function testCache(): IdentityCacheHandle {
  return connectIdentityCache({
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX ?? `apgms-test-${randomUUID().slice(0, 8)}:`,
    READ_CACHE_ENABLED: process.env.READ_CACHE_ENABLED !== "false",
    READ_CACHE_TTL_SECONDS: 300,
  });
}

/** Another svc-identity server on `db` (as the service's role) with its own cache connection: a second instance. */
export async function startInstance(db: TestDatabase, cache: IdentityCacheHandle = testCache()) {
  const appPrisma = createPrisma({ databaseUrl: db.urlAs(APP_ROLE), schema: SCHEMA, maxConnections: 5 });
  const platformPrisma = createPrisma({ databaseUrl: db.urlAs(APP_ROLE), schema: SCHEMA, maxConnections: 3, scope: "platform" });
  const logger = createLogger("svc-identity-test", { level: process.env.TEST_LOG_LEVEL ?? "silent" });
  const reader = new TenantReader({ databaseUrl: db.urlAs(APP_ROLE), max: 5 });
  const handle = buildServer({ config: TEST_CONFIG, prisma: appPrisma, platform: platformPrisma, logger, cache: cache.cache, reader, serviceTokens: testVerifier(SERVICE_NAME), drainTimeoutMs: 2_000 });
  const port = await handle.listen("127.0.0.1", 0);
  const address = `127.0.0.1:${port}`;
  const clients = clientsFor(address);
  return {
    ...clients,
    appPrisma,
    platformPrisma,
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

export async function startHarness(prefix: string): Promise<Harness> {
  const db = await migratedDatabase(prefix);
  const prisma = createPrisma({ databaseUrl: db.url, schema: SCHEMA, maxConnections: 2 });
  const { stop: stopInstance, ...instance } = await startInstance(db);
  const clients = instance;
  let n = 0;
  return {
    ...instance,
    db,
    prisma,
    async provision(label = "t") {
      const slug = `${label}-${++n}-${randomUUID().slice(0, 8)}`;
      const res = await clients.tenants.createTenant({
        name: `Tenant ${slug}`,
        slug,
        accountName: "Main",
        ownerEmail: `owner@${slug}.example`,
        ownerDisplayName: "Owner",
        ownerOidcIssuer: "https://issuer.test",
        ownerOidcSubject: `owner-${slug}`,
      });
      const tenantId = res.tenant?.id ?? "";
      return { tenantId, slug, accountId: res.accountId, ownerId: res.ownerUserId, ctx: as(tenantId, { kind: "user", id: res.ownerUserId }) };
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

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
