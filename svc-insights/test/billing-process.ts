// svc-billing as its own process (its built main.js), with its outbox relay
// publishing to a test NATS prefix: the real producer of the events the
// insights consumer reads. Spawned, not imported: a package's tests compile
// only their own sources (as bff/test/billing-process.ts does).
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { connect } from "@apgms/common";
import { createHealthClient } from "@apgms/common/grpc/health-client";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { TEST_NATS_URL } from "@apgms/common/testing/nats";
import { freePort } from "@apgms/common/testing/private-nats";
import { testMinter, testServiceKeys } from "@apgms/common/testing/service-keys";
import { CampaignServiceClient } from "@apgms/proto/apgms/billing/v1/campaign";
import { OfferServiceClient } from "@apgms/proto/apgms/billing/v1/offer";
import { TransactionServiceClient } from "@apgms/proto/apgms/billing/v1/transaction";
import { waitUntil } from "./billing-stream.js";

const repoRoot = path.resolve(__dirname, "../../..");

export async function startBillingProcess(natsPrefix: string) {
  const db: TestDatabase = await createTestDatabase({ prefix: "insights_billing_src" });
  await deployMigrations({ databaseUrl: db.url, schema: "billing", migrationsDir: path.join(repoRoot, "svc-billing/prisma/migrations") });
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(repoRoot, "svc-billing/dist/src/main.js")], {
    env: {
      ...process.env,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
      DATABASE_URL: db.urlAs("apgms_billing_app"),
      GRPC_PORT: String(port),
      SERVICE_TOKEN_PUBLIC_KEYS: testServiceKeys().publicKeyPem,
      PAGE_TOKEN_SECRET: randomBytes(32).toString("hex"),
      REDIS_KEY_PREFIX: `${process.env.REDIS_KEY_PREFIX ?? "apgms-test:"}billing-${randomBytes(4).toString("hex")}:`,
      NATS_URL: TEST_NATS_URL,
      NATS_PREFIX: natsPrefix,
      OUTBOX_RELAY_ENABLED: "true",
      SCHEDULE_SWEEP_SECONDS: "0",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const address = `127.0.0.1:${port}`;
  const stopProcess = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };
  const health = createHealthClient(address);
  try {
    await waitUntil(`svc-billing on ${address}`, async () => (await health.check("", 500)) === "SERVING", 30_000);
  } catch (err) {
    await stopProcess();
    await db.drop();
    throw err;
  } finally {
    health.close();
  }
  const opts = { timeoutMs: 30_000, credentials: testMinter("test").forAudience("svc-billing") };
  const made = {
    campaigns: connect(CampaignServiceClient, address, opts),
    offers: connect(OfferServiceClient, address, opts),
    transactions: connect(TransactionServiceClient, address, opts),
  };
  return {
    campaigns: made.campaigns.client,
    offers: made.offers.client,
    transactions: made.transactions.client,
    async stop() {
      Object.values(made).forEach((m) => m.raw.close());
      await stopProcess();
      await db.drop();
    },
  };
}
