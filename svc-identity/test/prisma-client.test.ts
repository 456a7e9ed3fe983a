import { resolve } from "node:path";
import { expect } from "chai";
import { PrismaPg } from "@prisma/adapter-pg";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { Prisma, PrismaClient } from "../src/generated/prisma/client.js";

const migrationsDir = resolve(__dirname, "../../prisma/migrations");

describe("generated Prisma client against the migrated identity schema", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let prisma: PrismaClient;

  before(async () => {
    db = await createTestDatabase({ prefix: "identity_client" });
    await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir });
    prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: db.url }, { schema: "identity" }) });
  });

  after(async () => {
    await prisma?.$disconnect();
    await db?.drop();
  });

  it("creates a tenant with database-generated id and defaults, and reads it back", async () => {
    const created = await prisma.tenant.create({ data: { name: "Acme", slug: "acme" } });
    expect(created.id).to.match(/^[0-9a-f-]{36}$/);
    expect(created.deletionProtection).to.equal(true);
    expect(created.deletedAt).to.equal(null);
    const read = await prisma.tenant.findUniqueOrThrow({ where: { slug: "acme" } });
    expect(read).to.deep.equal(created);
  });

  it("raises P2002 on a duplicate slug", async () => {
    try {
      await prisma.tenant.create({ data: { name: "Acme again", slug: "acme" } });
      expect.fail("expected a unique violation");
    } catch (error) {
      expect(error).to.be.instanceOf(Prisma.PrismaClientKnownRequestError);
      expect((error as Prisma.PrismaClientKnownRequestError).code).to.equal("P2002");
    }
  });

  it("cascades a tenant purge to every child table", async () => {
    const tenant = await prisma.tenant.create({ data: { name: "Doomed", slug: "doomed" } });
    const account = await prisma.account.create({ data: { tenantId: tenant.id, name: "main" } });
    const user = await prisma.user.create({
      data: {
        tenantId: tenant.id,
        accountId: account.id,
        email: "a@doomed.test",
        displayName: "A",
        role: "owner",
        oidcIssuer: "https://issuer.test",
        oidcSubject: "sub-1",
      },
    });
    await prisma.session.create({
      data: { tenantId: tenant.id, userId: user.id, sessionKey: "k1", userAgent: "test", ip: "127.0.0.1" },
    });
    const key = await prisma.apiKey.create({
      data: { tenantId: tenant.id, name: "ci", scopes: ["read", "write"], createdBy: user.id },
    });
    await prisma.apiKeySecret.create({ data: { apiKeyId: key.id, tenantId: tenant.id, prefix: "ak_test1", secretHash: "0".repeat(64) } });
    await prisma.apiKeyRotation.create({
      data: { apiKeyId: key.id, tenantId: tenant.id, oldPrefix: "ak_old", newPrefix: "ak_test1", graceUntil: new Date(), actor: user.id },
    });

    await prisma.tenant.delete({ where: { id: tenant.id } });

    const left = await Promise.all([
      prisma.account.count({ where: { tenantId: tenant.id } }),
      prisma.user.count({ where: { tenantId: tenant.id } }),
      prisma.session.count({ where: { tenantId: tenant.id } }),
      prisma.apiKey.count({ where: { tenantId: tenant.id } }),
      prisma.apiKeySecret.count({ where: { apiKeyId: key.id } }),
      prisma.apiKeyRotation.count({ where: { apiKeyId: key.id } }),
    ]);
    expect(left).to.deep.equal([0, 0, 0, 0, 0, 0]);
  });
});
