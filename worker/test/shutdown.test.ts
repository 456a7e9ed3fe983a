import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { enqueueJob } from "../src/jobs/enqueue.js";
import { startHarness, waitUntil, type Harness } from "./harness.js";

describe("worker: SIGTERM with a job in hand", function () {
  this.timeout(60_000);
  let h: Harness;

  before(async () => {
    h = await startHarness("term");
  });
  after(async () => {
    await h?.stop();
  });

  const effectsOf = (jobId: string) => h.count("SELECT count(*) AS n FROM worker_test.effects WHERE job_id = $1", [jobId]);
  const settled = async () => {
    const s = await h.consumerState("count");
    return s.pending === 0 && s.ackPending === 0;
  };

  it("finishes the job in hand, acknowledges it and exits 0", async () => {
    const worker = await h.spawnWorker("finisher", { DRAIN_TIMEOUT_MS: "30000" });
    const jobId = await enqueueJob(h.js, h.topology, { kind: "count", tenantId: randomUUID(), payload: { holdMs: 1_500 } });
    await worker.next((e) => e.type === "started" && e.jobId === jobId, "the job started");
    worker.child.kill("SIGTERM");
    expect(await worker.exited).to.deep.equal({ code: 0, signal: null });
    // Completed by the stopping process: its effect is there, its ack reached the server before the exit.
    expect(await effectsOf(jobId)).to.equal(1);
    expect(await settled(), "nothing pending or in hand").to.equal(true);
    expect(await h.streamMessages(h.topology.jobs.name)).to.equal(0);
  });

  it("hands back a job still running at the drain timeout, exits 0, and another worker completes it once", async () => {
    const worker = await h.spawnWorker("quitter", { DRAIN_TIMEOUT_MS: "100" });
    const jobId = await enqueueJob(h.js, h.topology, { kind: "count", tenantId: randomUUID(), payload: { holdMs: 10_000 } });
    await worker.next((e) => e.type === "started" && e.jobId === jobId, "the job started");
    worker.child.kill("SIGTERM");
    expect(await worker.exited).to.deep.equal({ code: 0, signal: null });
    expect(await effectsOf(jobId), "not completed by the stopped worker").to.equal(0);
    expect(await h.streamMessages(h.topology.jobs.name), "still in the work queue").to.equal(1);

    const next = await h.spawnWorker("successor");
    await waitUntil("the job done by the successor", async () => (await effectsOf(jobId)) === 1 && (await settled()));
    const { rows } = await h.admin.query<{ worker: string }>("SELECT worker FROM worker_test.effects WHERE job_id = $1", [jobId]);
    expect(rows).to.deep.equal([{ worker: "successor" }]);
    next.child.kill("SIGTERM");
    expect((await next.exited).code).to.equal(0);
  });
});
