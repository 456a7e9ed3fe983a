import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { status, type ServiceError } from "@grpc/grpc-js";
import type { TestDatabase } from "@apgms/common/testing/database";
import { testNatsPrefix } from "@apgms/common/testing/nats";
import { testServiceKeys } from "@apgms/common/testing/service-keys";
import { expect } from "chai";
import { APP_ROLE } from "../src/db/client.js";
import { as, clientsFor, expectError, migratedDatabase, type Clients } from "./harness.js";

const MAIN = path.join(__dirname, "..", "src", "main.js");

interface LogLine {
  msg?: string;
  port?: number;
}

/** Runs the compiled service as a child process; resolves once it is listening. */
function startService(databaseUrl: string) {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, DATABASE_URL: databaseUrl, GRPC_HOST: "127.0.0.1", GRPC_PORT: "0", LOG_LEVEL: "info", NATS_PREFIX: testNatsPrefix("identity-shutdown"), PAGE_TOKEN_SECRET: "shutdown-test-page-token-key-0123456789", SERVICE_TOKEN_PUBLIC_KEYS: testServiceKeys().publicKeyPem };
  const child = spawn(process.execPath, [MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
  const logs: LogLine[] = [];
  const waiters: Array<{ msg: string; resolve: (l: LogLine) => void }> = [];
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on("line", (raw) => {
    let line: LogLine;
    try {
      line = JSON.parse(raw) as LogLine;
    } catch {
      return;
    }
    logs.push(line);
    for (const w of waiters.filter((x) => x.msg === line.msg)) w.resolve(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const logged = (msg: string) =>
    new Promise<LogLine>((resolve, reject) => {
      const seen = logs.find((l) => l.msg === msg);
      if (seen) return resolve(seen);
      waiters.push({ msg, resolve });
      void exited.then((code) => reject(new Error(`service exited (${code}) before logging "${msg}": ${stderr}`)));
    });
  return { child, logged, exited };
}

describe("svc-identity process", function () {
  this.timeout(30_000);
  let db: TestDatabase;
  let child: ChildProcess | undefined;
  let clients: Clients | undefined;

  before(async () => {
    db = await migratedDatabase("shutdown");
  });
  after(async () => {
    clients?.close();
    if (child && child.exitCode === null) child.kill("SIGKILL");
    await db?.drop();
  });

  it("drains in-flight calls on SIGTERM, refuses new ones and exits 0", async () => {
    const svc = startService(db.urlAs(APP_ROLE));
    child = svc.child;
    const { port } = await svc.logged("gRPC server listening");
    clients = clientsFor(`127.0.0.1:${port}`);
    const { tenant } = await clients.tenants.createTenant({
      name: "Drain",
      slug: "drain",
      accountName: "Main",
      ownerEmail: "owner@drain.example",
      ownerDisplayName: "Owner",
      ownerOidcIssuer: "https://issuer.test",
      ownerOidcSubject: "drain-owner",
    });
    const ctx = as(tenant?.id);
    const c = clients;

    let signalled = false;
    let settled = 0;
    let pendingAtSignal = 0;
    const N = 300;
    const calls = Array.from({ length: N }, (_, i) => {
      const call = i % 2 === 0 ? c.accounts.listAccounts({ page: undefined }, ctx) : c.tenants.getTenant({ tenantId: tenant?.id ?? "" }, ctx);
      return call.finally(() => {
        settled++;
        if (!signalled) {
          signalled = true;
          pendingAtSignal = N - settled;
          svc.child.kill("SIGTERM");
        }
      });
    });

    await svc.logged("draining gRPC server");
    const late = await expectError(c.tenants.createTenant({
      name: "Late",
      slug: "late",
      accountName: "Main",
      ownerEmail: "owner@late.example",
      ownerDisplayName: "Owner",
      ownerOidcIssuer: "https://issuer.test",
      ownerOidcSubject: "late-owner",
    }), status.UNAVAILABLE);
    expect(late.code).to.equal(status.UNAVAILABLE);

    const results = await Promise.allSettled(calls);
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(failed.map((f) => (f.reason as ServiceError).details), "calls sent before SIGTERM").to.deep.equal([]);
    expect(pendingAtSignal, "calls still in flight when SIGTERM was sent").to.be.greaterThan(N / 2);
    expect(await svc.exited).to.equal(0);
    await svc.logged("gRPC server stopped");
  });
});
