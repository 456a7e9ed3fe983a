import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { deployMigrations } from "@apgms/common/migrate/index";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { expect } from "chai";
import { freePort, waitFor } from "./support.js";

const repoRoot = path.resolve(__dirname, "../../..");

const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const sock = connect({ host: "127.0.0.1", port });
    sock.once("connect", () => {
      sock.destroy();
      resolve(true);
    });
    sock.once("error", () => resolve(false));
  });

/** The pid of `parent`'s only child (Linux /proc). */
async function childOf(parent: number): Promise<number> {
  const [child] = (await readFile(`/proc/${parent}/task/${parent}/children`, "utf8")).trim().split(/\s+/).map(Number);
  if (!child) throw new Error(`process ${parent} has no child`);
  return child;
}

// `make dev` as a developer runs it, but with scripts/dev.mjs alone as the recipe
// (its own database, ports and issuer key), stopped with `kill -TERM -- -<pgid>`.
describe("make dev stopped by one SIGTERM to its process group", function () {
  this.timeout(90_000);
  let db: TestDatabase;
  let dir: string;
  before(async () => {
    db = await createTestDatabase({ prefix: "devstop" });
    await deployMigrations({ databaseUrl: db.url, schema: "identity", migrationsDir: path.join(repoRoot, "svc-identity/prisma/migrations") });
    await deployMigrations({ databaseUrl: db.url, schema: "billing", migrationsDir: path.join(repoRoot, "svc-billing/prisma/migrations") });
    dir = await mkdtemp(path.join(tmpdir(), "apgms-devstop-"));
  });
  after(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("drains every process once, even when make forwards the signal again, and dev.mjs exits 0", async () => {
    const ports = { DEV_OIDC_PORT: await freePort(), GRPC_PORT: await freePort(), BILLING_GRPC_PORT: await freePort(), HTTP_PORT: await freePort() };
    const makefile = path.join(dir, "Makefile");
    await writeFile(makefile, `dev:\n\t@node scripts/dev.mjs\n`);
    const make = spawn("make", ["-f", makefile, "dev"], {
      cwd: repoRoot,
      detached: true, // a process group of its own, as `setsid make dev`
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
        DATABASE_URL: db.urlAs("apgms_identity_app"),
        BILLING_DATABASE_URL: db.urlAs("apgms_billing_app"),
        // No demo tenant in this database: nothing to load after the banner.
        DEV_SEED_TRANSACTIONS: "0",
        DEV_OIDC_KEY_DIR: path.join(dir, "oidc"),
        LOG_LEVEL: "warn",
        NO_COLOR: "1",
        FORCE_COLOR: "0",
      },
    });
    let out = "";
    make.stdout.on("data", (d: Buffer) => (out += d.toString()));
    make.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = once(make, "exit") as Promise<[number | null, NodeJS.Signals | null]>;
    await waitFor("make dev's banner", () => out.includes("APGMS is running"), 60_000);

    const devPid = await childOf(make.pid!);
    process.kill(-make.pid!, "SIGTERM");
    // What make does on SIGTERM: pass it on to its recipe, then wait for it. Sent
    // here as well, so the test never depends on whether the two signals merge.
    process.kill(devPid, "SIGTERM");
    const [, makeSignal] = await exited;

    expect(out).to.not.match(/SIGKILL|killing/i);
    for (const name of ["bff", "billing", "identity", "oidc"]) expect(out).to.include(`[dev]      ${name} stopped (code 0)`);
    expect(out).to.include("all stopped; exit 0");
    // GNU make ends itself with the signal it got, once its recipe has exited.
    expect(makeSignal).to.equal("SIGTERM");
    for (const port of Object.values(ports)) expect(await listening(port), `port ${port}`).to.equal(false);
  });
});
