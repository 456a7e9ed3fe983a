import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { status } from "@grpc/grpc-js";
import { expect } from "chai";
import { APP_ROLE } from "../src/db/client.js";
import { as, expectError, startHarness, type Harness } from "./harness.js";

const SEED = path.join(__dirname, "..", "src", "seed.js");
const run = promisify(execFile);

describe("seed", function () {
  let h: Harness;
  let dir: string;
  before(async () => {
    h = await startHarness("seed");
    dir = await mkdtemp(path.join(tmpdir(), "apgms-seed-"));
  });
  after(async () => {
    await h?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const seed = () => run(process.execPath, [SEED], { cwd: dir, env: { PATH: process.env.PATH, DATABASE_URL: h.db.urlAs(APP_ROLE) } });

  /** Every row the seed could touch, to compare before and after a re-run. */
  const snapshot = async () =>
    JSON.stringify([
      await h.prisma.tenant.findMany({ orderBy: { id: "asc" } }),
      await h.prisma.account.findMany({ orderBy: { id: "asc" } }),
      await h.prisma.user.findMany({ orderBy: { id: "asc" } }),
      await h.prisma.apiKey.findMany({ orderBy: { id: "asc" }, include: { secrets: true } }),
    ]);

  it("seeds the demo tenant, one user per role and an API key whose secret lands in a file", async () => {
    const { stdout } = await seed();
    expect(stdout).to.include("Demo Co").and.include("owner@demo.apgms.dev");
    const secret = (await readFile(path.join(dir, ".dev", "demo-api-key"), "utf8")).trim();
    const verified = await h.principals.verifyApiKey({ secret });
    expect(verified.tenant).to.include({ name: "Demo Co", slug: "demo" });
    expect(verified.apiKey).to.include({ name: "demo" });
    // Every scope but identity:provision (the identity provider's alone).
    expect(verified.apiKey?.scopes).to.deep.equal(["identity:read", "identity:write", "billing:read", "billing:write", "billing:redeem", "insights:read", "events:write"]);

    const tenantId = verified.tenant?.id ?? "";
    // The other services' seeds find the demo tenant by this file (they never read identity's tables).
    expect((await readFile(path.join(dir, ".dev", "demo-tenant-id"), "utf8")).trim()).to.equal(tenantId);
    const { users } = await h.users.listUsers({ page: undefined, accountId: "" }, as(tenantId));
    expect(users.map((u) => [u.email, u.role])).to.have.deep.members([
      ["owner@demo.apgms.dev", Role.ROLE_OWNER],
      ["admin@demo.apgms.dev", Role.ROLE_ADMIN],
      ["analyst@demo.apgms.dev", Role.ROLE_ANALYST],
      ["viewer@demo.apgms.dev", Role.ROLE_VIEWER],
    ]);
    const owner = await h.principals.resolveOidcSubject({ issuer: "http://127.0.0.1:4001", subject: "owner@demo.apgms.dev" });
    expect(owner.user?.role).to.equal(Role.ROLE_OWNER);
    const { accounts } = await h.accounts.listAccounts({ page: undefined }, as(tenantId));
    expect(accounts.map((a) => [a.name, a.userCount])).to.deep.equal([["Main", 4]]);
  });

  it("changes nothing when run again, and keeps the secret file as it was", async () => {
    const file = path.join(dir, ".dev", "demo-api-key");
    const before = await snapshot();
    const fileBefore = await stat(file);
    const { stdout } = await seed();
    expect(stdout).to.include("exists");
    expect(await snapshot()).to.equal(before);
    expect((await stat(file)).mtimeMs).to.equal(fileBefore.mtimeMs);
  });
  /** The rows that must never change on a re-run, whatever happens to the key. */
  const snapshotWithoutKeys = async () =>
    JSON.stringify([
      await h.prisma.tenant.findMany({ orderBy: { id: "asc" } }),
      await h.prisma.account.findMany({ orderBy: { id: "asc" } }),
      await h.prisma.user.findMany({ orderBy: { id: "asc" } }),
    ]);
  const keyFile = () => path.join(dir, ".dev", "demo-api-key");
  const readKey = async () => (await readFile(keyFile(), "utf8")).trim();

  it("rotates the demo key with no grace and writes the new secret when the file is missing", async () => {
    const oldSecret = await readKey();
    const keyBefore = await h.prisma.apiKey.findFirstOrThrow({ where: { name: "demo" } });
    const rowsBefore = await snapshotWithoutKeys();
    await unlink(keyFile());

    const { stdout } = await seed();
    expect(stdout).to.match(/api key .* rotated to apgms_/);
    const secret = await readKey();
    expect(secret).to.not.equal(oldSecret);
    expect((await stat(keyFile())).mode & 0o777).to.equal(0o600);
    const verified = await h.principals.verifyApiKey({ secret });
    expect(verified.apiKey?.id).to.equal(keyBefore.id);
    expect(verified.apiKey?.scopes).to.deep.equal(["identity:read", "identity:write", "billing:read", "billing:write", "billing:redeem", "insights:read", "events:write"]);
    await expectError(h.principals.verifyApiKey({ secret: oldSecret }), status.UNAUTHENTICATED);

    const rotations = await h.prisma.apiKeyRotation.findMany({ where: { apiKeyId: keyBefore.id } });
    expect(rotations).to.have.length(1);
    expect(rotations[0]).to.include({ actor: "service:seed" });
    expect(rotations[0]!.graceUntil.getTime()).to.equal(rotations[0]!.rotatedAt.getTime());
    expect(await h.prisma.apiKey.count()).to.equal(1);
    expect(await snapshotWithoutKeys()).to.equal(rowsBefore);
  });

  it("rotates again when the file holds anything but the current secret, then keeps it", async () => {
    const keyId = (await h.prisma.apiKey.findFirstOrThrow({ where: { name: "demo" } })).id;
    for (const stale of ["not a key", "apgms_AAAAAAAA_" + "B".repeat(32)]) {
      await writeFile(keyFile(), `${stale}\n`, { mode: 0o644 });
      await seed();
      const secret = await readKey();
      expect(secret).to.not.equal(stale);
      expect((await stat(keyFile())).mode & 0o777).to.equal(0o600);
      expect((await h.principals.verifyApiKey({ secret })).apiKey?.id).to.equal(keyId);
    }
    expect(await h.prisma.apiKeyRotation.count({ where: { apiKeyId: keyId } })).to.equal(3);

    const before = await snapshot();
    const mtime = (await stat(keyFile())).mtimeMs;
    const { stdout } = await seed();
    expect(stdout).to.include("exists; its secret is in");
    expect(await snapshot()).to.equal(before);
    expect((await stat(keyFile())).mtimeMs).to.equal(mtime);
  });
});
