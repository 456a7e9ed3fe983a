import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { headers } from "@nats-io/transport-node";
import { enqueueJob } from "../src/jobs/enqueue.js";
import { JOB_ID, TENANT_ID } from "../src/jobs/headers.js";
import { startHarness, waitUntil, type Harness } from "./harness.js";

const JOBS = 2_000;
/** Jobs also published a second time under another message id (what JetStream cannot dedupe: a replay, an enqueue retried after the duplicate window). */
const REPUBLISHED = 200;
const TENANTS = Array.from({ length: 4 }, () => randomUUID());

describe("worker: jobs through two processes, one SIGKILLed mid-run", function () {
  this.timeout(120_000);
  let h: Harness;

  before(async () => {
    h = await startHarness("once");
  });
  after(async () => {
    await h?.stop();
  });

  it("handles every job's effect exactly once, republished ones too, and leaves nothing pending", async () => {
    const a = await h.spawnWorker("a");
    const b = await h.spawnWorker("b");
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i += 200) {
      ids.push(...(await Promise.all(Array.from({ length: Math.min(200, JOBS - i) }, (_, k) => enqueueJob(h.js, h.topology, { kind: "count", tenantId: TENANTS[(i + k) % TENANTS.length]!, payload: {} })))));
    }
    for (let i = 0; i < REPUBLISHED; i++) {
      const jobId = ids[i * (JOBS / REPUBLISHED)]!;
      const h2 = headers();
      h2.set(JOB_ID, jobId);
      h2.set(TENANT_ID, TENANTS[(i * (JOBS / REPUBLISHED)) % TENANTS.length]!);
      await h.js.publish(h.topology.jobSubject("count"), new TextEncoder().encode("{}"), { msgID: `again-${jobId}`, headers: h2 });
    }
    const effects = () => h.count("SELECT count(*) AS n FROM worker_test.effects");

    // Killed with jobs in hand (transactions open, commits not yet acknowledged), then started again.
    await waitUntil("a fifth of the jobs done", async () => (await effects()) >= JOBS / 5);
    a.child.kill("SIGKILL");
    expect((await a.exited).signal).to.equal("SIGKILL");
    expect(await effects(), "the kill came mid-run").to.be.below(JOBS);
    expect(await h.streamMessages(h.topology.jobs.name), "jobs still queued or in hand").to.be.above(0);
    const a2 = await h.spawnWorker("a2");

    await waitUntil("every job done and acknowledged", async () => {
      const { pending, ackPending } = await h.consumerState("count");
      return pending === 0 && ackPending === 0 && (await effects()) >= JOBS;
    });

    expect(await effects(), "effect rows").to.equal(JOBS);
    expect(await h.count("SELECT count(DISTINCT (tenant_id, job_id)) AS n FROM worker_test.effects"), "distinct jobs").to.equal(JOBS);
    const stored = await h.admin.query<{ job_id: string }>("SELECT job_id FROM worker_test.effects");
    expect(new Set(stored.rows.map((r) => r.job_id))).to.deep.equal(new Set(ids));
    expect(await h.count("SELECT count(*) AS n FROM worker.handled_messages WHERE handler = 'count' AND outcome = 'completed'"), "handled rows").to.equal(JOBS);
    // Each effect was written as its job's own tenant (row-level security on both tables).
    expect(await h.count("SELECT count(*) AS n FROM worker_test.effects e JOIN worker.handled_messages m ON m.tenant_id = e.tenant_id AND m.message_id = e.job_id"), "effects in their tenant").to.equal(JOBS);
    const workers = await h.admin.query<{ worker: string }>("SELECT DISTINCT worker FROM worker_test.effects ORDER BY worker");
    expect(workers.rows.map((r) => r.worker), "processes that did work").to.include.members(["a", "b"]);
    expect(await h.streamMessages(h.topology.jobs.name), "jobs left in the work queue").to.equal(0);
    expect(await h.streamMessages(h.topology.deadLetters.name), "dead letters").to.equal(0);

    b.child.kill("SIGTERM");
    a2.child.kill("SIGTERM");
    expect((await b.exited).code).to.equal(0);
    expect((await a2.exited).code).to.equal(0);
  });
});
