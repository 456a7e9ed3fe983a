import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Role } from "@apgms/proto/apgms/identity/v1/user";
import { expect } from "chai";
import { as, startHarness, type Harness } from "./harness.js";

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

  const seed = () => run(process.execPath, [SEED], { cwd: dir, env: { PATH: process.env.PATH, DATABASE_URL: h.db.url } });

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
    expect(verified.apiKey?.scopes).to.deep.equal(["identity:read", "identity:write"]);

    const tenantId = verified.tenant?.id ?? "";
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
});
