// A fresh database with the worker's migrations (plus the tests' effect
// tables), a NATS prefix of this suite's own, and worker processes to spawn,
// kill and stop: the real runner, real JetStream, real Postgres.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { deployMigrations } from "@apgms/common/migrate/index";
import { connectNats, type NatsConnection } from "@apgms/common/nats/connect";
import { jetstream, jetstreamManager, type JetStreamClient } from "@apgms/common/nats/jetstream";
import { createTestDatabase, type TestDatabase } from "@apgms/common/testing/database";
import { deleteTestStreams, TEST_NATS_URL, testNatsPrefix } from "@apgms/common/testing/nats";
import { Client } from "pg";
import { APP_ROLE } from "../src/db/client.js";
import { workerTopology, type WorkerTopology } from "../src/jobs/topology.js";
import { TEST_JOBS, type WorkerEvent } from "./fixtures/test-jobs.js";

export const MIGRATIONS_DIR = path.join(__dirname, "..", "..", "prisma", "migrations");
const WORKER_PROCESS = path.join(__dirname, "fixtures", "worker-process.js");
export const DEAD_LETTERS_CLI = path.join(__dirname, "..", "src", "dead-letters-cli.js");

/** Effects of the test jobs (no unique key, so a second run of a job shows) and the poison job's fixes; row-level security as the worker's own tables. */
const TEST_TABLES = `
  CREATE SCHEMA worker_test;
  CREATE TABLE worker_test.effects (tenant_id uuid NOT NULL, job_id text NOT NULL, worker text NOT NULL, at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE worker_test.fixes (tenant_id uuid NOT NULL, job_id text NOT NULL, PRIMARY KEY (tenant_id, job_id));
  GRANT USAGE ON SCHEMA worker_test TO ${APP_ROLE};
  GRANT SELECT, INSERT ON worker_test.effects, worker_test.fixes TO ${APP_ROLE};
  CREATE POLICY tenant_isolation ON worker_test.effects USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
  CREATE POLICY tenant_isolation ON worker_test.fixes USING (tenant_id = NULLIF(current_setting('app.tenant_id', true), '')::uuid);
  ALTER TABLE worker_test.effects ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
  ALTER TABLE worker_test.fixes ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
`;

export interface WorkerProcess {
  name: string;
  child: ChildProcess;
  events: WorkerEvent[];
  /** Resolves with the exit code (null when killed by a signal) and the signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first event matching `match`, seen before or after the call. */
  next(match: (e: WorkerEvent) => boolean, what: string): Promise<WorkerEvent>;
}

export interface Harness {
  db: TestDatabase;
  /** As the tables' owner (a superuser here: row-level security does not apply), for assertions. */
  admin: Client;
  nc: NatsConnection;
  js: JetStreamClient;
  prefix: string;
  topology: WorkerTopology;
  spawnWorker(name: string, env?: Record<string, string>): Promise<WorkerProcess>;
  /** A consumer's pending (not yet delivered) and ack-pending (delivered, not yet acknowledged) counts. */
  consumerState(kind: string): Promise<{ pending: number; ackPending: number }>;
  streamMessages(stream: string): Promise<number>;
  count(sql: string, values?: unknown[]): Promise<number>;
  stop(): Promise<void>;
}

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export async function startHarness(label: string): Promise<Harness> {
  const db = await createTestDatabase({ prefix: `worker_${label}` });
  await deployMigrations({ databaseUrl: db.url, schema: "worker", migrationsDir: MIGRATIONS_DIR });
  const admin = new Client({ connectionString: db.url });
  await admin.connect();
  await admin.query(TEST_TABLES);
  const prefix = testNatsPrefix(`worker-${label}`);
  const topology = workerTopology(prefix, TEST_JOBS);
  const nc = await connectNats({ url: TEST_NATS_URL, name: "worker-test" });
  const jsm = await jetstreamManager(nc);
  const children = new Set<WorkerProcess>();

  async function spawnWorker(name: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
    const child = fork(WORKER_PROCESS, [], {
      env: { ...process.env, NATS_URL: TEST_NATS_URL, NATS_PREFIX: prefix, DATABASE_URL: db.urlAs(APP_ROLE), WORKER_NAME: name, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const events: WorkerEvent[] = [];
    const waiters: Array<{ match: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }> = [];
    child.on("message", (m: WorkerEvent) => {
      events.push(m);
      for (const w of [...waiters]) {
        if (w.match(m)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
    const proc: WorkerProcess = {
      name,
      child,
      events,
      exited,
      next(match, what) {
        const seen = events.find(match);
        if (seen) return Promise.resolve(seen);
        return Promise.race([
          new Promise<WorkerEvent>((resolve) => waiters.push({ match, resolve })),
          exited.then(({ code, signal }) => Promise.reject(new Error(`worker ${name} exited (${code ?? signal}) before ${what}`))),
        ]);
      },
    };
    children.add(proc);
    void exited.then(() => children.delete(proc));
    await proc.next((e) => e.type === "ready", "it was ready");
    return proc;
  }

  return {
    db,
    admin,
    nc,
    js: jetstream(nc),
    prefix,
    topology,
    spawnWorker,
    async consumerState(kind) {
      const c = topology.consumers.find((x) => x.job.kind === kind)!;
      const info = await jsm.consumers.info(c.stream, c.durable);
      return { pending: info.num_pending, ackPending: info.num_ack_pending };
    },
    async streamMessages(stream) {
      return (await jsm.streams.info(stream)).state.messages;
    },
    async count(sql, values = []) {
      const { rows } = await admin.query<{ n: string }>(sql, values);
      return Number(rows[0]!.n);
    },
    async stop() {
      for (const p of children) p.child.kill("SIGKILL");
      await Promise.all([...children].map((p) => p.exited));
      await nc.close();
      await deleteTestStreams(prefix);
      await admin.end();
      await db.drop();
    },
  };
}
