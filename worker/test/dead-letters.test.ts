import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { promisify } from "node:util";
import { headers } from "@nats-io/transport-node";
import { expect } from "chai";
import { enqueueJob } from "../src/jobs/enqueue.js";
import { listDeadLetters } from "../src/jobs/dead-letters.js";
import { JOB_ID, TENANT_ID } from "../src/jobs/headers.js";
import { DEAD_LETTERS_CLI, startHarness, waitUntil, type Harness } from "./harness.js";

const run = promisify(execFile);

describe("worker: dead letters", function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness("dead");
  });
  after(async () => {
    await h?.stop();
  });

  /** The real CLI, as `npm -w @apgms/worker run dead-letters -- …` runs it. */
  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [DEAD_LETTERS_CLI, ...args], { env: { ...process.env, NATS_PREFIX: h.prefix } });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  it("a job that keeps failing is dead-lettered after its bounded deliveries with the reason; replayed after the fix it completes once", async () => {
    const worker = await h.spawnWorker("w");
    const tenantId = randomUUID();
    const jobId = await enqueueJob(h.js, h.topology, { kind: "poison", tenantId, payload: { note: "planted" } });
    const control = await enqueueJob(h.js, h.topology, { kind: "count", tenantId, payload: {} });
    const effectsOf = (id: string) => h.count("SELECT count(*) AS n FROM worker_test.effects WHERE job_id = $1", [id]);

    await waitUntil("the poison job in the dead-letter stream", async () => (await listDeadLetters(h.nc, h.topology)).length === 1);
    const [letter] = await listDeadLetters(h.nc, h.topology);
    expect(letter).to.include({ kind: "poison", jobId, tenantId, deliveries: 3, reason: `job ${jobId} is not fixed yet` });
    expect(JSON.parse(letter!.payload)).to.deep.equal({ note: "planted" });
    const attempts = worker.events.filter((e) => e.type === "attempt" && e.jobId === jobId).map((e) => (e.type === "attempt" ? e.attempt : 0));
    expect(attempts, "deliveries handled").to.deep.equal([1, 2, 3]);
    await waitUntil("the control job done", async () => (await effectsOf(control)) === 1);
    // The job is terminated just after its dead letter is stored.
    await waitUntil("nothing left for the poison consumer", async () => {
      const s = await h.consumerState("poison");
      return s.pending === 0 && s.ackPending === 0;
    });
    expect(await h.streamMessages(h.topology.jobs.name), "jobs left").to.equal(0);
    expect(await effectsOf(jobId)).to.equal(0);
    expect(await h.count("SELECT count(*) AS n FROM worker.handled_messages WHERE message_id = $1", [jobId])).to.equal(0);

    const listed = await cli("list");
    expect(listed.code, listed.stderr).to.equal(0);
    expect(listed.stdout).to.include(jobId).and.include(`job ${jobId} is not fixed yet`).and.include("3 deliveries");

    // The fix, then the replay through the CLI.
    await h.admin.query("INSERT INTO worker_test.fixes (tenant_id, job_id) VALUES ($1, $2)", [tenantId, jobId]);
    const replayed = await cli("replay", String(letter!.seq));
    expect(replayed.code, replayed.stderr).to.equal(0);
    expect(replayed.stdout).to.include(jobId);

    await waitUntil("the replayed job done", async () => (await effectsOf(jobId)) === 1);
    await waitUntil("nothing pending", async () => {
      const s = await h.consumerState("poison");
      return s.pending === 0 && s.ackPending === 0;
    });
    expect(await effectsOf(jobId), "effects of the replayed job").to.equal(1);
    expect(await h.count("SELECT count(*) AS n FROM worker.handled_messages WHERE tenant_id = $1 AND message_id = $2 AND outcome = 'completed'", [tenantId, jobId])).to.equal(1);
    expect(await listDeadLetters(h.nc, h.topology), "dead letters after the replay").to.deep.equal([]);

    // The same letter again: gone, refused.
    const again = await cli("replay", String(letter!.seq));
    expect(again.code).to.equal(1);
    expect(again.stderr).to.include(`no dead letter ${letter!.seq}`);
    expect(await effectsOf(jobId)).to.equal(1);

    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).to.equal(0);
  });

  it("a job already completed is not run again by a second copy of it (a replay of an older letter)", async () => {
    const worker = await h.spawnWorker("w2");
    const tenantId = randomUUID();
    const jobId = await enqueueJob(h.js, h.topology, { kind: "poison", tenantId, payload: {} });
    await waitUntil("the poison job dead-lettered", async () => (await listDeadLetters(h.nc, h.topology)).some((d) => d.jobId === jobId));
    const letter = (await listDeadLetters(h.nc, h.topology)).find((d) => d.jobId === jobId)!;
    await h.admin.query("INSERT INTO worker_test.fixes (tenant_id, job_id) VALUES ($1, $2)", [tenantId, jobId]);
    expect((await cli("replay", String(letter.seq))).code).to.equal(0);
    const effects = () => h.count("SELECT count(*) AS n FROM worker_test.effects WHERE job_id = $1", [jobId]);
    await waitUntil("the replay done", async () => (await effects()) === 1);

    const copy = headers();
    copy.set(JOB_ID, jobId);
    copy.set(TENANT_ID, tenantId);
    await h.js.publish(h.topology.jobSubject("poison"), new TextEncoder().encode("{}"), { msgID: `copy-${jobId}`, headers: copy });
    await waitUntil("the copy acknowledged", async () => {
      const s = await h.consumerState("poison");
      return s.pending === 0 && s.ackPending === 0;
    });
    expect(await effects(), "effects").to.equal(1);
    expect(await h.streamMessages(h.topology.jobs.name), "jobs left").to.equal(0);
    expect(await h.count("SELECT count(*) AS n FROM worker.handled_messages WHERE message_id = $1", [jobId])).to.equal(1);
    worker.child.kill("SIGTERM");
    expect((await worker.exited).code).to.equal(0);
  });
});
