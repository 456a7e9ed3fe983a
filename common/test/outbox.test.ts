import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { expect } from "chai";
import { Client, Pool } from "pg";
import { createLogger, type Logger } from "../src/logger.js";
import { connectNats, type NatsConnection } from "../src/nats/connect.js";
import { deleteStream } from "../src/nats/jetstream.js";
import { domainEventsStream, outboxTableSql, startOutboxRelay, subjectFor, writeOutboxEvent, type OutboxRelay, type OutboxRelayOptions } from "../src/outbox/index.js";
import { outboxLockName } from "../src/outbox/sql.js";
import { createTestDatabase, type TestDatabase } from "../src/testing/database.js";
import { TEST_NATS_URL, testNatsPrefix } from "../src/testing/nats.js";
import { freePort, PrivateNats, readStoredMessages } from "../src/testing/private-nats.js";
import { waitFor } from "./cache-support.js";

const SCHEMA = "billing";
const DOMAIN = "billing";
const APP_ROLE = "apgms_outbox_test_app";
const TENANTS = [randomUUID(), randomUUID()];
/** pg_locks is the cluster's: only this database's advisory locks are the relays'. */
const OUR_ADVISORY_LOCKS = "FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

interface Written {
  id: string;
  tenantId: string;
  aggregateId: string;
  eventType: string;
  payload: string;
}

interface Stored {
  subject: string;
  msgId: string;
  payload: string;
}

async function readStream(nc: NatsConnection, stream: string): Promise<Stored[]> {
  return (await readStoredMessages(nc, stream)).map((m) => ({ ...m, payload: m.payload.toString() }));
}

/** The database of a suite: the outbox from outboxTableSql, and a service role without BYPASSRLS. */
async function createOutboxDatabase(): Promise<TestDatabase> {
  const db = await createTestDatabase({ prefix: "outbox" });
  const owner = new Client({ connectionString: db.url });
  await owner.connect();
  try {
    await owner.query(`DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP_ROLE}') THEN
    CREATE ROLE ${APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOINHERIT;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
  NULL;
END
$$`);
    await owner.query(`CREATE SCHEMA ${SCHEMA}`);
    await owner.query(outboxTableSql(SCHEMA));
    await owner.query(`GRANT CONNECT ON DATABASE "${db.name}" TO ${APP_ROLE}`);
    await owner.query(`GRANT USAGE ON SCHEMA ${SCHEMA} TO ${APP_ROLE}`);
    await owner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${SCHEMA}.outbox TO ${APP_ROLE}`);
  } finally {
    await owner.end();
  }
  return db;
}

/** One event in its own transaction as its tenant, the way a service writes it. */
async function writeEvent(pool: Pool, event: Omit<Written, "id">): Promise<Written> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT set_config('app.tenant_id', $1, true)", [event.tenantId]);
    const id = await writeOutboxEvent((text, values) => client.query(text, values), SCHEMA, { ...event, payload: Buffer.from(event.payload) });
    await client.query("COMMIT");
    return { ...event, id };
  } catch (err) {
    await client.query("ROLLBACK");
    throw err;
  } finally {
    client.release();
  }
}

/** `perAggregate` events for each of `aggregates` aggregates; aggregates written concurrently, each one's events in order. */
async function writeMany(pool: Pool, aggregates: number, perAggregate: number): Promise<Written[]> {
  const written: Written[] = [];
  await Promise.all(
    Array.from({ length: aggregates }, async (_, a) => {
      const tenantId = TENANTS[a % TENANTS.length]!;
      const aggregateId = randomUUID();
      for (let i = 0; i < perAggregate; i++) {
        written.push(await writeEvent(pool, { tenantId, aggregateId, eventType: "transaction.created", payload: `${aggregateId}:${i}` }));
      }
    }),
  );
  return written;
}

/** Rows as the table owner sees them (no row-level security in the way), in seq order. */
async function outboxRows(db: TestDatabase): Promise<{ id: string; published: boolean }[]> {
  const owner = new Client({ connectionString: db.url });
  await owner.connect();
  try {
    return (await owner.query(`SELECT id, published_at IS NOT NULL AS published FROM ${SCHEMA}.outbox ORDER BY seq`)).rows;
  } finally {
    await owner.end();
  }
}

async function asOwner(db: TestDatabase, sql: string): Promise<number> {
  const owner = new Client({ connectionString: db.url });
  await owner.connect();
  try {
    return (await owner.query(sql)).rowCount ?? 0;
  } finally {
    await owner.end();
  }
}

/** Whether the relay's advisory lock is free (taken and released at once on a connection of our own). */
async function lockIsFree(db: TestDatabase): Promise<boolean> {
  const owner = new Client({ connectionString: db.url });
  await owner.connect();
  try {
    const { rows } = await owner.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked", [outboxLockName(SCHEMA)]);
    return rows[0]!.locked;
  } finally {
    await owner.end();
  }
}

/** Stored messages in stream order, grouped by aggregate: each one's payload indexes must come out 0, 1, 2... */
function expectOrderPerAggregate(stored: Stored[]): void {
  const next = new Map<string, number>();
  for (const { payload } of stored) {
    const [aggregate, index] = payload.split(":");
    expect(Number(index), `aggregate ${aggregate}`).to.equal(next.get(aggregate!) ?? 0);
    next.set(aggregate!, Number(index) + 1);
  }
}

/** Log lines a relay wrote, to wait for a failure it reported. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger("outbox-test", { level: "info" }, { write: (line: string) => void lines.push(line) }), lines };
}

describe("transactional outbox", function () {
  this.timeout(60_000);
  let db: TestDatabase;
  let pool: Pool;
  let nc: NatsConnection;
  let prefix: string;
  const relays: OutboxRelay[] = [];

  const relay = (options: Partial<OutboxRelayOptions> = {}): OutboxRelay => {
    const started = startOutboxRelay({
      databaseUrl: db.urlAs(APP_ROLE),
      schema: SCHEMA,
      nats: nc,
      prefix,
      domain: DOMAIN,
      logger: createLogger("outbox-test", { level: "silent" }),
      pollIntervalMs: 100,
      lockRetryMs: 50,
      publishTimeoutMs: 1_000,
      ...options,
    });
    relays.push(started);
    return started;
  };
  const stream = () => domainEventsStream(prefix, DOMAIN).name;

  before(async () => {
    db = await createOutboxDatabase();
    pool = new Pool({ connectionString: db.urlAs(APP_ROLE), max: 8 });
    // pool.end() resolves before its connections have closed; dropping the database then terminates them.
    pool.on("error", () => undefined);
  });
  after(async () => {
    await pool?.end();
    await db?.drop();
  });

  describe("against the shared NATS", () => {
    before(async () => {
      nc = await connectNats({ url: TEST_NATS_URL, name: "outbox-test" });
    });
    beforeEach(async () => {
      prefix = testNatsPrefix("outbox");
      await asOwner(db, `TRUNCATE ${SCHEMA}.outbox`);
    });
    afterEach(async () => {
      await Promise.all(relays.splice(0).map((r) => r.stop()));
      await deleteStream(nc, stream());
    });
    after(async () => {
      await nc?.close();
    });

    it("keeps each tenant's rows to itself: without the platform scope the service role sees none", async () => {
      await writeEvent(pool, { tenantId: TENANTS[0]!, aggregateId: randomUUID(), eventType: "transaction.created", payload: "x" });
      const { rows } = await pool.query("SELECT count(*)::int AS n FROM billing.outbox");
      expect(rows[0].n).to.equal(0);
      expect(await outboxRows(db)).to.have.length(1);
    });

    it("publishes every row once, in seq order, with its id as Nats-Msg-Id, on its tenant's subject, and marks it published", async () => {
      const r = relay();
      const written: Written[] = [];
      for (let i = 0; i < 30; i++) {
        const aggregateId = written[i % 3]?.aggregateId ?? randomUUID();
        const eventType = i % 2 ? "transaction.created" : "transaction.refunded";
        written.push(await writeEvent(pool, { tenantId: TENANTS[i % 2]!, aggregateId, eventType, payload: `event ${i}` }));
      }
      await r.drained();

      const stored = await readStream(nc, stream());
      expect(stored).to.deep.equal(
        written.map((w) => ({ subject: subjectFor(prefix, w.tenantId, DOMAIN, w.eventType), msgId: w.id, payload: w.payload })),
      );
      expect(stored[0]!.subject).to.equal(`${prefix}.${TENANTS[0]}.billing.transaction.refunded`);
      const rows = await outboxRows(db);
      expect(rows.map((row) => row.id)).to.deep.equal(written.map((w) => w.id));
      expect(rows.every((row) => row.published)).to.equal(true);
    });

    it("two relays over one table: one holds the lock, each row is stored once", async () => {
      const [a, b] = [relay(), relay()];
      await waitFor("a leader", () => a.state === "leader" || b.state === "leader");
      const [leader, follower] = a.state === "leader" ? [a, b] : [b, a];
      await waitFor("the other following", () => follower.state === "follower");

      const written = await writeMany(pool, 8, 25);
      await leader.drained();
      expect([a.state, b.state].sort()).to.deep.equal(["follower", "leader"]);
      const advisory = await asOwner(db, `SELECT 1 ${OUR_ADVISORY_LOCKS}`);
      expect(advisory).to.equal(1);

      const stored = await readStream(nc, stream());
      expect(stored).to.have.length(200);
      expect(new Set(stored.map((s) => s.msgId))).to.deep.equal(new Set(written.map((w) => w.id)));
      expectOrderPerAggregate(stored);
    });

    it("a follower takes over when the leader stops, and the leader's connection dying hands the lock on too", async () => {
      const [a, b] = [relay(), relay()];
      await waitFor("a leader and a follower", () => [a.state, b.state].sort().join() === "follower,leader");
      const [leader, follower] = a.state === "leader" ? [a, b] : [b, a];
      const first = await writeMany(pool, 2, 10);
      await leader.drained();

      await leader.stop();
      await waitFor("the follower leading", () => follower.state === "leader");
      const second = await writeMany(pool, 2, 10);
      await follower.drained();

      // The lock holder's connection killed from outside: a new relay and the old one race for the lock.
      const third = relay();
      await waitFor("the third following", () => third.state === "follower");
      const terminated = await asOwner(db, `SELECT pg_terminate_backend(pid) ${OUR_ADVISORY_LOCKS}`);
      expect(terminated).to.equal(1);
      await waitFor("someone leading again", () => follower.state === "leader" || third.state === "leader");
      const fourth = await writeMany(pool, 2, 10);
      await Promise.race([follower.drained(), third.drained()]);

      const stored = await readStream(nc, stream());
      const ids = [...first, ...second, ...fourth].map((w) => w.id);
      expect(stored.map((s) => s.msgId).sort()).to.deep.equal(ids.sort());
      expectOrderPerAggregate(stored);
    });

    it("republishes rows a relay published but did not mark (it died in between), and the stream keeps one message per id", async () => {
      const first = relay();
      const written = await writeMany(pool, 3, 20);
      await first.drained();
      await first.stop();
      expect(await lockIsFree(db)).to.equal(true);
      expect(await readStream(nc, stream())).to.have.length(60);

      // What a crash after the acks and before the UPDATE leaves behind.
      expect(await asOwner(db, `UPDATE ${SCHEMA}.outbox SET published_at = NULL`)).to.equal(60);
      const second = relay();
      await second.drained();

      const rows = await outboxRows(db);
      expect(rows.every((row) => row.published), "marked again after republishing").to.equal(true);
      const stored = await readStream(nc, stream());
      expect(stored.map((s) => s.msgId).sort()).to.deep.equal(written.map((w) => w.id).sort());
    });

    it("stop() finishes the batch in flight: every stored message's row is marked, and the lock is released", async () => {
      const r = relay({ batchSize: 20 });
      await writeMany(pool, 5, 100);
      await waitFor("some rows published", async () => (await outboxRows(db)).some((row) => row.published));
      await r.stop();
      expect(r.state).to.equal("stopped");
      expect(await lockIsFree(db)).to.equal(true);

      const marked = (await outboxRows(db)).filter((row) => row.published).map((row) => row.id);
      const stored = (await readStream(nc, stream())).map((s) => s.msgId);
      expect(stored.sort()).to.deep.equal(marked.sort());
    });

    it("deletes published rows older than the retention, and nothing unpublished", async () => {
      const [oldPublished, recentPublished, oldUnpublished] = [
        await writeEvent(pool, { tenantId: TENANTS[0]!, aggregateId: randomUUID(), eventType: "campaign.ended", payload: "a" }),
        await writeEvent(pool, { tenantId: TENANTS[0]!, aggregateId: randomUUID(), eventType: "campaign.ended", payload: "b" }),
        await writeEvent(pool, { tenantId: TENANTS[1]!, aggregateId: randomUUID(), eventType: "campaign.ended", payload: "c" }),
      ];
      await asOwner(db, `UPDATE ${SCHEMA}.outbox SET published_at = now() - interval '8 days' WHERE id = '${oldPublished.id}'`);
      await asOwner(db, `UPDATE ${SCHEMA}.outbox SET published_at = now() - interval '6 days' WHERE id = '${recentPublished.id}'`);
      await asOwner(db, `UPDATE ${SCHEMA}.outbox SET created_at = now() - interval '30 days' WHERE id = '${oldUnpublished.id}'`);

      const r = relay({ retentionMs: 7 * 24 * 3_600_000 });
      await r.drained();
      expect((await outboxRows(db)).map((row) => row.id).sort()).to.deep.equal([recentPublished.id, oldUnpublished.id].sort());
      expect((await readStream(nc, stream())).map((s) => s.msgId)).to.deep.equal([oldUnpublished.id]);
    });

    it("refuses an event type that is not subject tokens, and a payload NATS would refuse, writing nothing", async () => {
      const event = { tenantId: TENANTS[0]!, aggregateId: randomUUID(), eventType: "transaction.*", payload: "x" };
      let caught: unknown;
      try {
        await writeEvent(pool, event);
      } catch (err) {
        caught = err;
      }
      expect(String(caught)).to.match(/not an event type/);
      caught = undefined;
      try {
        await writeEvent(pool, { ...event, eventType: "transaction.created", payload: "x".repeat(1_000_001) });
      } catch (err) {
        caught = err;
      }
      expect(String(caught)).to.match(/1000001 bytes/);
      expect(await outboxRows(db)).to.deep.equal([]);
    });

  });

  describe("with NATS down", function () {
    let nats: PrivateNats;
    let privateNc: NatsConnection;
    let logs: string[];
    let r: OutboxRelay;
    let written: Written[] = [];
    let streamName: string;

    before(async function () {
      await asOwner(db, `TRUNCATE ${SCHEMA}.outbox`);
      nats = new PrivateNats(await freePort());
      await nats.start();
      privateNc = await connectNats({ url: nats.url, name: "outbox-test-relay" });
      const prefix = testNatsPrefix("outbox-down");
      streamName = domainEventsStream(prefix, DOMAIN).name;
      const captured = capturingLogger();
      logs = captured.lines;
      r = startOutboxRelay({
        databaseUrl: db.urlAs(APP_ROLE),
        schema: SCHEMA,
        nats: privateNc,
        prefix,
        domain: DOMAIN,
        logger: captured.logger,
        pollIntervalMs: 100,
        publishTimeoutMs: 500,
      });
      written.push(await writeEvent(pool, { tenantId: TENANTS[0]!, aggregateId: randomUUID(), eventType: "transaction.created", payload: "before:0" }));
      await r.drained();
    });
    after(async () => {
      await r?.stop();
      await privateNc?.close();
      await nats?.remove();
    });

    it("writers commit while NATS is down, and the relay marks nothing it could not publish", async () => {
      await nats.kill();
      written = written.concat(await writeMany(pool, 8, 125));
      await waitFor("the relay reporting a failed publish", () => logs.some((line) => line.includes("publish failed")));
      const rows = await outboxRows(db);
      expect(rows).to.have.length(1_001);
      expect(rows.filter((row) => !row.published)).to.have.length(1_000);
    });

    it("when NATS is back, publishes every row exactly once, in order per aggregate", async () => {
      await nats.start();
      await r.drained();
      const reader = await connectNats({ url: nats.url, name: "outbox-test-reader" });
      try {
        const stored = await readStream(reader, streamName);
        expect(stored).to.have.length(1_001);
        expect(new Set(stored.map((s) => s.msgId))).to.deep.equal(new Set(written.map((w) => w.id)));
        expectOrderPerAggregate(stored);
      } finally {
        await reader.close();
      }
      expect((await outboxRows(db)).every((row) => row.published)).to.equal(true);
    });
  });
});

describe("outbox declarations", () => {
  it("names the domain's stream and subjects from the prefix, with an hour of dedupe", () => {
    expect(domainEventsStream("apgms", "billing")).to.deep.equal({
      name: "apgms_BILLING",
      subjects: ["apgms.*.billing.>"],
      maxAgeMs: 7 * 24 * 3_600_000,
      duplicateWindowMs: 3_600_000,
      retention: "limits",
    });
    const tenant = "3f1c0d8e-0000-4000-8000-00000000abcd";
    expect(subjectFor("apgms", tenant, "billing", "transaction.created")).to.equal(`apgms.${tenant}.billing.transaction.created`);
    expect(() => subjectFor("apgms", "*", "billing", "transaction.created")).to.throw(/tenant id/);
    expect(() => domainEventsStream("apgms", "Billing.x")).to.throw(/domain/);
  });

  it("documents in README.md the very DDL outboxTableSql creates", () => {
    const readme = readFileSync(resolve(__dirname, "../../src/outbox/README.md"), "utf8");
    expect(readme).to.include(outboxTableSql("billing"));
  });
});
